"""The statistics API's query parameters, checked together: every bad one is named.

Times are RFC 3339 (an offset, or UTC without one) or a calendar date, which means that
day's midnight in `zone`. Defaults: the seven local days ending with today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footfall.stats import buckets
from footfall.stats.buckets import Bucket
from footfall.stats.query import Bots, Query
from footfall.web.problems import BadParameters, ParameterError

#: Most buckets one answer may hold (an hourly series of 41 days, a daily one of 2.7 years).
MAX_BUCKETS = 1000
DEFAULT_DAYS = 7


def parse(
    *,
    start: str | None,
    end: str | None,
    zone: str,
    bucket: Bucket,
    bots: Bots,
    filters: dict[str, str | None],
    now: datetime | None = None,
) -> Query:
    errors: list[ParameterError] = []

    def bad(name: str, detail: str) -> None:
        errors.append({"parameter": name, "in": "query", "detail": detail})

    now = now or datetime.now(UTC)
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        bad("zone", f"{zone!r} is not an IANA time zone (e.g. Asia/Kolkata, UTC)")
        tz = ZoneInfo("UTC")
    begin = _time(start, tz, "start", bad)
    finish = _time(end, tz, "end", bad)
    if finish is None and end is None:
        finish = buckets.next_local(buckets.local_floor(now, "day", tz), "day", tz)
    if begin is None and start is None and finish is not None:
        begin = _days_before(finish, tz, DEFAULT_DAYS)
    chosen = [(name, value) for name, value in filters.items() if value is not None]
    if len(chosen) > 1:
        for name, _ in chosen:
            bad(
                name,
                "at most one of event, course, country, device can filter at a time "
                "(bots combine with any)",
            )
    if begin is not None and finish is not None:
        if begin >= finish:
            bad("end", "end must be after start")
        else:
            spans = list(buckets.local_buckets(begin, finish, bucket, tz))
            edges = [a for a, _ in spans] + [finish]
            off = [a for a in edges if a != buckets.floor(a, "q")]
            if off:
                bad(
                    "zone",
                    f"a {bucket} of this range in {zone} starts at {off[0].isoformat()}, "
                    "off the 15-minute grid (a historic offset): not supported",
                )
            elif len(spans) > MAX_BUCKETS:
                bad(
                    "bucket",
                    f"{len(spans)} buckets of {bucket}; at most {MAX_BUCKETS}: "
                    "choose a longer bucket or a shorter range",
                )
    if errors:
        raise BadParameters(errors)
    assert begin is not None and finish is not None
    return Query(begin, finish, tz, bucket, bots, chosen[0] if chosen else None, now)


def _time(text: str | None, zone: ZoneInfo, name: str, bad) -> datetime | None:  # type: ignore[no-untyped-def]
    if text is None:
        return None
    try:
        if len(text) == 10:  # a local midnight: checked with the zone's buckets
            day = date.fromisoformat(text)
            return buckets.local_floor(
                datetime(day.year, day.month, day.day, 12, tzinfo=zone), "day", zone
            ).astimezone(UTC)
        else:
            at = datetime.fromisoformat(text)
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        at = at.astimezone(UTC)
    except (ValueError, OverflowError):
        bad(name, "not a date (YYYY-MM-DD) nor an RFC 3339 time")
        return None
    if at != buckets.floor(at, "q"):
        bad(name, "times must fall on a quarter hour (:00, :15, :30, :45 UTC)")
        return None
    return at


def _days_before(at: datetime, zone: ZoneInfo, days: int) -> datetime:
    local = at.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return buckets.local_floor(local.replace(hour=12, tzinfo=zone), "day", zone).astimezone(UTC)
