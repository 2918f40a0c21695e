"""Successful answers. Operations also declare problem+json errors, so connexion needs
the content type said explicitly."""

from __future__ import annotations

from typing import Any

Answer = tuple[dict[str, Any], int, dict[str, str]]

JSON = {"Content-Type": "application/json"}


def answer(body: dict[str, Any], status: int = 200) -> Answer:
    return body, status, JSON
