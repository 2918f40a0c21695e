"""Time: the 15-minute grid the rollups are kept on, and ranges cut into stored periods.

Every rollup period starts on the 15-minute grid of UTC. A local hour, day, week, month or
year starts on that grid in every zone whose offset is a multiple of 15 minutes (all
current IANA zones: +05:30 India, +05:45 Nepal, +08:45 Eucla, and every DST change), so
summing whole periods gives exact figures there. Periods are kept at 15 minutes (`q`),
and coarser ones for the zones kept (`Kept`, from `STATS_ZONES`): the zone's local days
(`d`) and months (`m`), and for totals and visitors also hours (`h`) at each minute past
the UTC hour that the zones' hours start at (their *phase*: 0 for UTC, 30 for India). A
range in any zone is answered from the fewest kept periods that tile it: a kept zone's
local days and months fit its ranges whole; another zone's ranges use whatever periods
fit, and quarters at their edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

GRID = timedelta(minutes=15)
HOUR = timedelta(hours=1)
Level = Literal["q", "h", "d", "m"]
Bucket = Literal["hour", "day", "week", "month", "year"]
#: The zone of hours and quarters, which are absolute: an hour is keyed by its start alone.
ABSOLUTE = "UTC"


@dataclass(frozen=True)
class Kept:
    """Which coarse periods are kept: days and months of `zones` (with every dimension),
    and hours starting at each of `phases` minutes past the UTC hour (totals and
    visitors only: with every dimension expanded an hour would weigh more than its views,
    850 KB for 1,140 views)."""

    zones: tuple[str, ...]
    phases: tuple[int, ...]

    @classmethod
    def of(cls, zones: Iterable[str]) -> Kept:
        names = tuple(dict.fromkeys(zones))
        return cls(names, tuple(sorted({p for z in names for p in phases(z)})))


def phases(zone: str) -> tuple[int, ...]:
    """The minutes past the UTC hour at which the zone's local hours start (its offsets
    modulo an hour, in winter and summer of this year): 0 for New York, 30 for India,
    45 for Nepal, 0 and 30 for Lord Howe."""
    tz, year = ZoneInfo(zone), datetime.now(UTC).year
    return tuple(
        sorted(
            {
                int((datetime(year, month, 1, tzinfo=tz).utcoffset() or timedelta()) // GRID)
                * 15
                % 60
                for month in (1, 7)
            }
        )
    )


#: What a deployment kept before zones were configurable: UTC days, months and hours.
UTC_ONLY = Kept(("UTC",), (0,))


class OffGrid(ValueError):
    """A boundary in that zone does not fall on the 15-minute grid (a historic offset)."""


@dataclass(frozen=True, order=True)
class Period:
    """[start, end) of a level; days and months are local days and months of `zone`."""

    level: Level
    start: datetime
    zone: str = ABSOLUTE

    @property
    def key(self) -> str:
        # UTC's days and months keep the keys they had before zones were configurable.
        key = f"{self.level}|{self.start:%Y-%m-%dT%H:%M}"
        return key if self.zone == ABSOLUTE else f"{key}|{self.zone}"

    @property
    def end(self) -> datetime:
        return period_end(self.level, self.start, self.zone)


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


@lru_cache(maxsize=1 << 16)
def period_end(level: Level, start: datetime, zone: str = ABSOLUTE) -> datetime:
    if level == "q":
        return start + GRID
    if level == "h":
        return start + HOUR
    if zone == ABSOLUTE:
        return start + timedelta(days=1) if level == "d" else _add_months(start, 1)
    tz = ZoneInfo(zone)
    bucket: Bucket = "day" if level == "d" else "month"
    return next_local(start.astimezone(tz), bucket, tz).astimezone(UTC)


def zone_floor(at: datetime, level: Literal["d", "m"], zone: str) -> datetime:
    """The start (UTC) of the local day or month of `zone` holding `at`."""
    if zone == ABSOLUTE:
        return floor(at, level)
    return _local_start(at.astimezone(UTC), level, zone)


@lru_cache(maxsize=1 << 16)
def _local_start(at: datetime, level: Literal["d", "m"], zone: str) -> datetime:
    tz = ZoneInfo(zone)
    return local_floor(at, "day" if level == "d" else "month", tz).astimezone(UTC)


def hour_floor(at: datetime, phase: int) -> datetime:
    """The start of the hour holding `at` among hours starting `phase` minutes past the
    UTC hour: each phase's hours partition time."""
    shift = timedelta(minutes=phase)
    return floor(at - shift, "h") + shift


def containers(quarter: Period, kept: Kept) -> list[Period]:
    """Every kept coarser period that holds a 15-minute one (what a batch marks dirty)."""
    found = [Period("h", hour_floor(quarter.start, phase)) for phase in kept.phases]
    for zone in kept.zones:
        found += [Period(lvl, zone_floor(quarter.start, lvl, zone), zone) for lvl in ("d", "m")]
    return found


def children(period: Period) -> list[Period]:
    """The finer periods that make up `period`: quarters of an hour or a day, local days
    (of the same zone) of a month."""
    level: Level = "d" if period.level == "m" else "q"
    zone = period.zone if level == "d" else ABSOLUTE
    out, at, end = [], period.start, period.end
    while at < end:
        out.append(Period(level, at, zone))
        at = period_end(level, at, zone)
    return out


def tile(
    start: datetime, end: datetime, kept: Kept = UTC_ONLY, *, hours: bool = False
) -> list[Period]:
    """The fewest kept periods that exactly cover [start, end) (both on the grid): at each
    point the longest period that starts there and fits; `hours` for totals and visitors
    only (hours keep nothing else)."""
    _on_grid(start)
    _on_grid(end)
    periods: list[Period] = []
    at = start
    while at < end:
        best = Period("q", at)
        if hours and at.minute in kept.phases and at + HOUR <= end:
            best = Period("h", at)
        for zone in kept.zones:
            if zone_floor(at, "d", zone) != at:
                continue
            for level in ("m", "d") if zone_floor(at, "m", zone) == at else ("d",):
                candidate = Period(level, at, zone)  # type: ignore[arg-type]
                if best.end < candidate.end <= end:
                    best = candidate
                    break
        periods.append(best)
        at = best.end
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
