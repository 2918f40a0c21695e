"""The 15-minute grid: local buckets in any 15-minute zone tile exactly into stored periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from footfall.stats import buckets
from footfall.stats.buckets import OffGrid, Period

KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
KATHMANDU = ZoneInfo("Asia/Kathmandu")


def covered(periods: list[Period]) -> timedelta:
    return sum((p.end - p.start for p in periods), timedelta())


def test_a_kolkata_day_starts_at_1830_utc_and_tiles_without_gap_or_overlap() -> None:
    ((start, end),) = buckets.local_buckets(
        datetime(2026, 11, 20, tzinfo=KOLKATA),
        datetime(2026, 11, 21, tzinfo=KOLKATA),
        "day",
        KOLKATA,
    )
    assert start == datetime(2026, 11, 19, 18, 30, tzinfo=UTC)
    periods = buckets.tile(start, end)
    assert covered(periods) == timedelta(days=1)
    assert all(a.end == b.start for a, b in pairwise(periods))
    assert {p.level for p in periods} == {"q"}  # no UTC day fits in a Kolkata day


def test_a_kolkata_year_uses_months_and_days_in_its_middle() -> None:
    start = datetime(2026, 1, 1, tzinfo=KOLKATA).astimezone(UTC)
    end = datetime(2027, 1, 1, tzinfo=KOLKATA).astimezone(UTC)
    periods = buckets.tile(start, end)
    assert covered(periods) == timedelta(days=365)
    assert sum(p.level == "m" for p in periods) == 11
    assert sum(p.level == "d" for p in periods) == 30  # December, but its last day
    assert len(periods) == 11 + 30 + 96  # and the 18:30-to-18:30 edges in quarters


@pytest.mark.parametrize(
    ("day", "hours"),
    [(datetime(2026, 3, 8), 23), (datetime(2026, 11, 1), 25), (datetime(2026, 11, 2), 24)],
)
def test_new_york_days_around_dst_changes_last_23_or_25_hours(day: datetime, hours: int) -> None:
    ((start, end),) = buckets.local_buckets(
        day.replace(tzinfo=NEW_YORK),
        (day + timedelta(days=1)).replace(tzinfo=NEW_YORK),
        "day",
        NEW_YORK,
    )
    assert end - start == timedelta(hours=hours)  # both in UTC
    assert covered(buckets.tile(start, end)) == end - start


def test_nepal_at_0545_is_on_the_grid() -> None:
    start = datetime(2026, 11, 20, tzinfo=KATHMANDU).astimezone(UTC)
    assert start == datetime(2026, 11, 19, 18, 15, tzinfo=UTC)
    assert covered(buckets.tile(start, start + timedelta(days=1))) == timedelta(days=1)


def test_weeks_start_on_monday_and_months_and_years_on_the_first() -> None:
    at = datetime(2026, 11, 20, 10, tzinfo=KOLKATA)  # a Friday
    assert buckets.local_floor(at, "week", KOLKATA) == datetime(2026, 11, 16, tzinfo=KOLKATA)
    assert buckets.local_floor(at, "month", KOLKATA) == datetime(2026, 11, 1, tzinfo=KOLKATA)
    assert buckets.local_floor(at, "year", KOLKATA) == datetime(2026, 1, 1, tzinfo=KOLKATA)


def test_a_time_off_the_grid_is_refused() -> None:
    with pytest.raises(OffGrid):
        buckets.tile(datetime(2026, 1, 1, 0, 10, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def test_every_period_is_the_sum_of_its_children() -> None:
    month = Period("m", datetime(2026, 2, 1, tzinfo=UTC))
    days = buckets.children(month)
    assert len(days) == 28
    assert len(buckets.children(days[0])) == 96
    assert buckets.containers(buckets.children(days[3])[5], buckets.UTC_ONLY)[1:] == [
        days[3],
        month,
    ]


def test_a_kolkata_month_is_the_sum_of_its_local_days_from_1830_utc() -> None:
    month = Period("m", datetime(2026, 1, 31, 18, 30, tzinfo=UTC), "Asia/Kolkata")
    days = buckets.children(month)
    assert len(days) == 28 and {d.zone for d in days} == {"Asia/Kolkata"}
    assert days[0].start == month.start and days[-1].end == month.end
    assert month.key == "m|2026-01-31T18:30|Asia/Kolkata"
    assert Period("m", datetime(2026, 2, 1, tzinfo=UTC)).key == "m|2026-02-01T00:00"


def test_a_quarter_marks_the_hours_days_and_months_of_every_kept_zone() -> None:
    kept = buckets.Kept.of(["UTC", "Asia/Kolkata", "Asia/Kathmandu"])
    assert kept.phases == (0, 30, 45)
    quarter = Period("q", datetime(2026, 11, 19, 18, 30, tzinfo=UTC))
    found = buckets.containers(quarter, kept)
    assert [p.start.strftime("%d %H:%M") for p in found if p.level == "h"] == [
        "19 18:00",
        "19 18:30",
        "19 17:45",
    ]
    days = {p.zone: p.start for p in found if p.level == "d"}
    assert days == {
        "UTC": datetime(2026, 11, 19, tzinfo=UTC),
        "Asia/Kolkata": datetime(2026, 11, 19, 18, 30, tzinfo=UTC),
        "Asia/Kathmandu": datetime(2026, 11, 19, 18, 15, tzinfo=UTC),
    }


def test_totals_of_a_kolkata_day_read_hours_of_its_phase_only_when_it_is_kept() -> None:
    start = datetime(2026, 11, 19, 18, 30, tzinfo=UTC)
    periods = buckets.tile(start, start + timedelta(days=1), hours=True)
    assert [p.level for p in periods] == ["q", "q", *["h"] * 23, "q", "q"]
    assert covered(periods) == timedelta(days=1)
    kept = buckets.Kept.of(["UTC", "Asia/Kolkata"])
    hours = buckets.tile(start, start + timedelta(hours=5), kept, hours=True)
    assert [(p.level, p.start.minute) for p in hours] == [("h", 30)] * 5


def test_a_kept_zones_year_is_twelve_local_months() -> None:
    kept = buckets.Kept.of(["UTC", "Asia/Kolkata"])
    start = datetime(2026, 1, 1, tzinfo=KOLKATA).astimezone(UTC)
    end = datetime(2027, 1, 1, tzinfo=KOLKATA).astimezone(UTC)
    periods = buckets.tile(start, end, kept)
    assert [(p.level, p.zone) for p in periods] == [("m", "Asia/Kolkata")] * 12
    day = buckets.tile(start, start + timedelta(days=1), kept)
    assert [(p.level, p.zone) for p in day] == [("d", "Asia/Kolkata")]


def test_a_zone_not_kept_uses_what_fits_of_the_others_and_quarters() -> None:
    kept = buckets.Kept.of(["UTC", "Asia/Kolkata"])
    start = datetime(2026, 1, 1, tzinfo=KATHMANDU).astimezone(UTC)  # 18:15 UTC
    end = datetime(2027, 1, 1, tzinfo=KATHMANDU).astimezone(UTC)
    periods = buckets.tile(start, end, kept)
    assert covered(periods) == end - start
    assert all(a.end == b.start for a, b in pairwise(periods))
    assert periods[0] == Period("q", start)
    assert sum(p.level == "m" and p.zone == "Asia/Kolkata" for p in periods) == 11


def test_new_yorks_kept_day_of_the_dst_change_holds_100_quarters() -> None:
    day = Period("d", datetime(2026, 11, 1, 4, tzinfo=UTC), "America/New_York")
    assert day.end == datetime(2026, 11, 2, 5, tzinfo=UTC)
    assert len(buckets.children(day)) == 100
