"""Stored values as the API shows them: times as RFC 3339 UTC, shares as percentages."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    """A stored time (MongoDB keeps milliseconds) as RFC 3339 with a Z."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def percent(part: float, whole: float) -> float:
    """part / whole as a percentage with one decimal; 0 when there is no whole."""
    return 0.0 if whole == 0 else round(100 * part / whole, 1)
