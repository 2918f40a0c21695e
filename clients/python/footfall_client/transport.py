"""One POST /batch over urllib, and what its answer means for the items sent."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

USER_AGENT = "footfall-client/0.1"


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=_default, separators=(",", ":")).encode()


@dataclass
class Outcome:
    """`retry`: nothing was taken (network error, 5xx, 429); keep every item and wait
    `retry_after_s` when the server said so. Otherwise every item is settled: counted
    by status (a 4xx for the whole request rejects every item: sending it again cannot
    succeed)."""

    retry: bool = False
    retry_after_s: float | None = None
    statuses: list[str] = field(default_factory=list)
    detail: str = ""


def post_batch(url: str, key: str, items: list[dict[str, Any]], timeout_s: float) -> Outcome:
    request = urllib.request.Request(
        url,
        data=dumps({"items": items}),
        method="POST",
        headers={"Content-Type": "application/json", "X-API-Key": key, "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = json.loads(response.read() or b"{}")
        return Outcome(statuses=[r.get("status", "rejected") for r in body.get("receipts", [])])
    except urllib.error.HTTPError as error:
        detail = error.read(2048).decode(errors="replace")
        if error.code == 429 or error.code >= 500:
            return Outcome(True, _seconds(error.headers.get("Retry-After")), detail=detail)
        return Outcome(statuses=["rejected"] * len(items), detail=f"{error.code} {detail}")
    except (OSError, ValueError) as error:  # refused, reset, timed out, unreadable answer
        return Outcome(True, detail=str(error))


def _seconds(text: str | None) -> float | None:
    try:
        return max(0.0, float(text)) if text else None
    except ValueError:
        return None
