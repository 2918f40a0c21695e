"""Field errors as RFC 6901 JSON pointers into the request body: `{pointer, detail}`.

Shared by the ingest core (which knows no HTTP) and the HTTP problems that carry them.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

FieldError = dict[str, str]


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(path: Iterable[str | int], prefix: str = "") -> str:
    return prefix + "".join(f"/{escape(token)}" for token in path)


def from_pydantic(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """Pydantic's errors as pointers; a nested key refused inside a free-form object
    carries its own pointer below the field (see `footfall.events.base`)."""
    errors = []
    for item in error.errors(include_url=False):
        at, ctx = pointer(item["loc"], prefix), item.get("ctx") or {}
        if "errors" in ctx:  # several bad keys in one free-form field: one error each
            errors += [{"pointer": at + where, "detail": detail} for where, detail in ctx["errors"]]
        else:
            errors.append({"pointer": at + ctx.get("pointer", ""), "detail": item["msg"]})
    return errors


__all__ = ["FieldError", "escape", "from_pydantic", "pointer"]
