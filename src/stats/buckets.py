"""Time: the 15-minute grid the rollups are kept on, and ranges cut into stored periods.

Every rollup period starts on the 15-minute grid of UTC. A local day, week, month or year
starts on that grid in every zone whose offset is a multiple of 15 minutes (all current
IANA zones: +05:30 India, +05:45 Nepal, +08:45 Eucla, and every DST change), so summing
whole periods gives exact figures there. Periods are kept at 15 minutes, UTC day and UTC
month, and for totals and visitors also per hour; a range is answered from the fewest
periods that tile it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

GRID = timedelta(minutes=15)
Level = Literal["q", "h", "d", "m"]
Bucket = Literal["hour", "day", "week", "month", "year"]
#: Levels of periods with every dimension, from the finest; each is the sum of the
#: periods of the previous one.
LEVELS: tuple[Level, ...] = ("q", "d", "m")
#: Hours keep only the totals and the visitors (dimension `t`): enough for a series, and
#: light. With every dimension expanded into segments an hour would weigh more than its
#: views (850 KB for 1,140 views), so top lists read a local day's edges in quarters.
TOTALS_LEVELS: tuple[Level, ...] = ("q", "h", "d", "m")
#: What each coarser level is summed from.
CHILD_LEVEL: dict[str, Level] = {"h": "q", "d": "q", "m": "d"}


class OffGrid(ValueError):
    """A boundary in that zone does not fall on the 15-minute grid (a historic offset)."""


@dataclass(frozen=True, order=True)
class Period:
    level: Level
    start: datetime

    @property
    def key(self) -> str:
        return f"{self.level}|{self.start:%Y-%m-%dT%H:%M}"

    @property
    def end(self) -> datetime:
        return period_end(self.level, self.start)


def floor(at: datetime, level: Level) -> datetime:
    """The start of the period of `level` holding the UTC time `at`."""
    at = at.astimezone(UTC)
    if level == "q":
        return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    if level == "h":
        return at.replace(minute=0, second=0, microsecond=0)
    if level == "d":
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def period_end(level: Level, start: datetime) -> datetime:
    if level == "q":
        return start + GRID
    if level == "h":
        return start + timedelta(hours=1)
    if level == "d":
        return start + timedelta(days=1)
    return _add_months(start, 1)


def containers(period: Period) -> list[Period]:
    """Every coarser period that holds a 15-minute one (what a batch marks dirty)."""
    return [Period(level, floor(period.start, level)) for level in TOTALS_LEVELS[1:]]


def children(period: Period) -> list[Period]:
    """The finer periods that make up `period` (`CHILD_LEVEL`)."""
    level = CHILD_LEVEL[period.level]
    out, at = [], period.start
    while at < period.end:
        out.append(Period(level, at))
        at = period_end(level, at)
    return out


def tile(start: datetime, end: datetime, levels: tuple[Level, ...] = LEVELS) -> list[Period]:
    """The fewest stored periods of `levels` that exactly cover [start, end) (both on the
    grid); `TOTALS_LEVELS` for totals and visitors only."""
    _on_grid(start)
    _on_grid(end)
    periods: list[Period] = []
    at = start
    while at < end:
        for level in reversed(levels):
            if floor(at, level) == at and period_end(level, at) <= end:
                periods.append(Period(level, at))
                at = period_end(level, at)
                break
    return periods


def _on_grid(at: datetime) -> None:
    if at.astimezone(UTC) != floor(at, "q"):
        raise OffGrid(f"{at.isoformat()} is not on the 15-minute grid")


def local_floor(at: datetime, bucket: Bucket, zone: ZoneInfo) -> datetime:
    """The start (aware, in `zone`) of the local bucket holding `at`."""
    local = at.astimezone(zone)
    if bucket == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if bucket == "week":
        day -= timedelta(days=day.weekday())  # ISO weeks start on Monday
    elif bucket == "month":
        day = day.replace(day=1)
    elif bucket == "year":
        day = day.replace(month=1, day=1)
    return _localize(day, zone)


def next_local(start: datetime, bucket: Bucket, zone: ZoneInfo) -> datetime:
    """The start of the local bucket after the one starting at `start`."""
    if bucket == "hour":
        # Hours are counted in absolute time: a DST change gives a 1-hour bucket too.
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
    naive = start.astimezone(zone).replace(tzinfo=None)
    if bucket == "day":
        naive += timedelta(days=1)
    elif bucket == "week":
        naive += timedelta(days=7)
    elif bucket == "month":
        naive = _add_months(naive, 1)
    else:
        naive = naive.replace(year=naive.year + 1)
    return _localize(naive, zone)


def local_buckets(
    start: datetime, end: datetime, bucket: Bucket, zone: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive local buckets [b, next) covering [start, end), clipped to it, in UTC
    (aware datetimes of one zone compare and subtract by wall clock, across DST wrongly)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    at = local_floor(start, bucket, zone)
    while at.astimezone(UTC) < end:
        nxt = next_local(at, bucket, zone)
        yield max(at.astimezone(UTC), start), min(nxt.astimezone(UTC), end)
        at = nxt


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone`; a time skipped by DST moves forward to a real one."""
    aware = naive.replace(tzinfo=zone)
    roundtrip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if roundtrip != naive:  # in a DST gap: the first instant after it
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone)
        aware = aware.astimezone(UTC).astimezone(zone)
    return aware


def _add_months(at: datetime, months: int) -> datetime:
    month = at.month - 1 + months
    return at.replace(year=at.year + month // 12, month=month % 12 + 1)
