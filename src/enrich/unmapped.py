"""The most frequent paths that no event rule matched, from the stored page views.

Operators read it to write rules; the (event_name, visited_at) index serves the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo.database import Database

_AGO = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Unmapped:
    path: str
    views: int
    last_seen: datetime


def unmapped_paths(db: Database, default_name: str, since: datetime, limit: int) -> list[Unmapped]:
    """Paths (query strings included, as stored) by number of views, most first."""
    pipeline = [
        {"$match": {"event_name": default_name, "visited_at": {"$gte": since}}},
        {"$group": {"_id": "$path", "views": {"$sum": 1}, "last_seen": {"$max": "$visited_at"}}},
        {"$sort": {"views": -1, "_id": 1}},
        {"$limit": limit},
    ]
    return [
        Unmapped(row["_id"], row["views"], row["last_seen"])
        for row in db.pageviews.aggregate(pipeline)
    ]


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """'90m', '24h', '7d', '2w' ago, or an ISO 8601 date or time (UTC when naive)."""
    now = now or datetime.now(UTC)
    if match := _AGO.match(text.strip()):
        amount, unit = match.groups()
        return now - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValueError(f"{text!r} is neither a duration (7d, 24h) nor an ISO date") from error
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def table(rows: list[Unmapped]) -> str:
    """Rows as an aligned text table: views, last seen (UTC), path."""
    header = ("views", "last seen (UTC)", "path")
    cells = [
        (f"{r.views:,}", f"{r.last_seen.astimezone(UTC):%Y-%m-%d %H:%M}", r.path) for r in rows
    ]
    width_views = max(len(header[0]), *(len(c[0]) for c in cells))
    width_seen = max(len(header[1]), *(len(c[1]) for c in cells))
    lines = [
        f"{header[0]:>{width_views}}  {header[1]:<{width_seen}}  {header[2]}",
        f"{'-' * width_views}  {'-' * width_seen}  {'-' * 4}",
    ]
    lines += [f"{v:>{width_views}}  {s:<{width_seen}}  {p}" for v, s, p in cells]
    return "\n".join(lines)
