"""The statistics API against a generated data set with known answers.

The data set is posted through the API and stored by a real flusher; every figure, top
list and filter is compared with the brute-force oracle of tests/stats_data.py, over
ranges whose edges matter: UTC and Asia/Kolkata midnights, a visit across midnight, the
end of DST in America/New_York, bots in and out, and empty ranges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from footfall.app import create_app
from footfall.connections import mongo_database, redis_client
from footfall.flusher import Flusher
from footfall.stats import buckets, zones
from footfall.stats.buckets import Period
from footfall.stats.query import TOP
from footfall.stats.rollup import Rollups
from footfall.store.schema import init_db
from tests.conftest import keyed_client, make_settings
from tests.stats_data import START, DataSet, Oracle, generate, geo_database, post, unique_name

KOLKATA = ZoneInfo("Asia/Kolkata")
UTCZ = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
KEPT = ["UTC", "Asia/Kolkata", "America/New_York"]
DAYS = 4


class Loaded:
    def __init__(
        self, client: Any, reader: Any, oracle: Oracle, data: DataSet, db: Any, flusher: Flusher
    ) -> None:
        self.client, self.reader, self.oracle, self.data = client, reader, oracle, data
        self.db, self.flusher = db, flusher
        self.rollups: Callable[[list[str]], Rollups]  # a flusher's, with these STATS_ZONES

    def get(self, path: str, **params: Any) -> Any:
        response = self.reader.get(f"/api/v1/stats/{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()


def drain(flusher: Flusher) -> None:
    flusher.streams.ensure_group(flusher.collections)
    while batch := flusher.next_batch():
        assert flusher.store(batch)


@pytest.fixture(scope="module", params=["deltas", "compacted"])
def loaded(request, valkey, mongo, tmp_path_factory) -> Iterator[Loaded]:  # type: ignore[no-untyped-def]
    """Every test runs twice: on the deltas as the flusher wrote them, and once compaction
    folded them and summed hours, days and months."""
    settings = make_settings(
        valkey.url,
        mongo.uri,
        unique_name(),
        geoip_db=geo_database(tmp_path_factory.mktemp("geo")),
        stats_compact_s=3600,
        # Kept: UTC, Kolkata and New York (its DST days of 23 and 25 hours); not kept:
        # Kathmandu (+05:45), answered from finer periods.
        stats_zones=KEPT,
    )
    db, redis = mongo_database(settings.servers), redis_client(settings.servers)
    init_db(db)
    app = create_app(settings)
    client = keyed_client(app, db, "ingest")
    reader = keyed_client(app, db, "read")
    data = generate()
    post(client, data.items())
    flusher = Flusher(settings, redis, db)
    drain(flusher)
    if request.param == "compacted":
        Rollups(db, redis, settings.queue.stream_prefix, 0, settings.stats.stats_zones).compact()
        dirty = db.rollups.find({"l": {"$in": ["h", "d", "m"]}, "dirty": True})
        periods = [Period(d["l"], d["s"].astimezone(UTC), d.get("z", "UTC")) for d in dirty]
        # Every period that is over (New York's November ends on 1 December at 05:00 UTC).
        assert [p for p in periods if p.end <= datetime.now(UTC)] == []
        # The kept zones' local days are whole documents, which their ranges then read.
        assert db.rollups.count_documents({"l": "d", "z": "Asia/Kolkata"}) > 0
        assert zones.ready(db).zones == tuple(KEPT)
    else:
        assert db.rollups.count_documents({"l": "qd"}) > 0
    loaded = Loaded(client, reader, Oracle(data, db), data, db, flusher)
    loaded.rollups = lambda kept: Rollups(db, redis, settings.queue.stream_prefix, 0, kept)
    yield loaded
    db.client.drop_database(db.name)
    for key in redis.scan_iter(f"{settings.queue.stream_prefix}:*"):
        redis.delete(key)


def assert_figures(got: dict[str, Any], expected: dict[str, Any]) -> None:
    visitors = expected.pop("visitors")
    assert {k: got[k] for k in expected} == expected
    assert abs(got["visitors"] - visitors) <= max(1, 0.02 * visitors)


def day(zone: ZoneInfo, n: int) -> datetime:
    return datetime(2026, 10, 31, tzinfo=zone) + timedelta(days=n)


RANGES = {
    "utc": (UTCZ, "day"),
    "kolkata": (KOLKATA, "day"),
    "new_york": (NEW_YORK, "day"),
    "kolkata_hours": (KOLKATA, "hour"),
    "kathmandu_not_kept": (KATHMANDU, "day"),
    "kathmandu_hours_not_kept": (KATHMANDU, "hour"),
}


@pytest.mark.parametrize("zone_bucket", list(RANGES))
@pytest.mark.parametrize(
    ("flt", "bots"),
    [
        (None, "exclude"),
        (None, "include"),
        (None, "only"),
        (("country", "IN"), "exclude"),
        (("device", "mobile"), "exclude"),
        (("course", "Python"), "exclude"),
        (("event", "event.video.watch"), "include"),
    ],
)
def test_every_figure_and_series_bucket_matches_the_data_set(
    loaded: Loaded, zone_bucket: str, flt, bots
) -> None:  # type: ignore[no-untyped-def]
    zone, bucket = RANGES[zone_bucket]
    params = {
        "start": day(zone, 0).date().isoformat(),
        "end": day(zone, DAYS).date().isoformat(),
        "zone": zone.key,
        "bucket": bucket,
        "bots": bots,
    }
    if flt:
        params[flt[0]] = flt[1]
    body = loaded.get("summary", **params)
    a, b = day(zone, 0).astimezone(UTC), day(zone, DAYS).astimezone(UTC)
    assert_figures(body["totals"], loaded.oracle.figures(a, b, flt, bots))
    assert body["series"][0]["start"] == day(zone, 0).isoformat()
    for bucket_figures in body["series"]:
        start = datetime.fromisoformat(bucket_figures["start"])
        end = datetime.fromisoformat(bucket_figures["end"])
        assert_figures(bucket_figures, loaded.oracle.figures(start, end, flt, bots))
    assert body["totals"]["pageviews"] == sum(s["pageviews"] for s in body["series"])


@pytest.mark.parametrize("dimension", [d for d in TOP if d not in ("referrers",)])
@pytest.mark.parametrize(
    ("zone", "flt", "bots"),
    [
        (UTCZ, None, "exclude"),
        (KOLKATA, ("country", "IN"), "exclude"),
        (KOLKATA, ("course", "Python"), "include"),
        (UTCZ, ("event", "event.home.view"), "only"),
        (NEW_YORK, ("device", "mobile"), "exclude"),
        (KATHMANDU, None, "include"),
    ],
)
def test_every_top_list_matches_the_data_set(
    loaded: Loaded, dimension: str, zone, flt, bots
) -> None:  # type: ignore[no-untyped-def]
    a, b = day(zone, 1), day(zone, 3)
    params = {
        "start": a.date().isoformat(),
        "end": b.date().isoformat(),
        "zone": zone.key,
        "bots": bots,
        "limit": 1000,
    }
    if flt:
        params[flt[0]] = flt[1]
    body = loaded.get(f"top/{dimension}", **params)
    expected = loaded.oracle.top(dimension, a.astimezone(UTC), b.astimezone(UTC), flt, bots)
    assert {row["value"]: row["count"] for row in body["rows"]} == dict(expected)
    assert body["total"] == sum(expected.values())
    if body["total"]:
        assert sum(row["percent"] for row in body["rows"]) == pytest.approx(100, abs=0.1)


def test_top_n_keeps_the_largest_and_reports_the_rest_as_other(loaded: Loaded) -> None:
    body = loaded.get("top/pages", start="2026-10-31", end="2026-11-04", limit=2)
    expected = loaded.oracle.top("pages", START, START + timedelta(days=4))
    assert [row["count"] for row in body["rows"]] == [c for _, c in expected.most_common(2)]
    assert body["other"] == sum(expected.values()) - sum(r["count"] for r in body["rows"])


def test_a_visit_across_utc_midnight_counts_on_the_day_it_started(loaded: Loaded) -> None:
    visit = next(s for s in loaded.oracle.visits if any(v.log_id == "edge-1" for v in s.views))
    assert visit.start.date() < visit.views[-1].at.date()  # it does cross midnight
    body = loaded.get("summary", start="2026-11-01", end="2026-11-03", zone="UTC")
    first, second = body["series"]
    oracle = loaded.oracle
    assert first["visits"] == oracle.figures(day(UTC, 1), day(UTC, 2))["visits"]
    assert second["pageviews"] == oracle.figures(day(UTC, 2), day(UTC, 3))["pageviews"]
    # Its duration and its second view (not a bounce) stay with the day it started on.
    assert first["visit_duration_s"] == oracle.figures(day(UTC, 1), day(UTC, 2))["visit_duration_s"]


def test_kolkata_midnight_splits_views_one_second_apart(loaded: Loaded) -> None:
    body = loaded.get(
        "summary",
        start="2026-11-01T18:15:00Z",
        end="2026-11-01T18:45:00Z",
        zone="Asia/Kolkata",
        bucket="hour",
    )
    assert [s["start"] for s in body["series"]] == [
        "2026-11-01T23:45:00+05:30",
        "2026-11-02T00:00:00+05:30",
    ]
    before, after = (s["pageviews"] for s in body["series"])
    oracle = loaded.oracle
    kolkata_midnight = datetime(2026, 11, 1, 18, 30, tzinfo=UTC)
    assert (
        before
        == len(
            oracle.views_in(
                kolkata_midnight - timedelta(minutes=15), kolkata_midnight, None, "exclude"
            )
        )
        >= 1
    )
    assert (
        after
        == len(
            oracle.views_in(
                kolkata_midnight, kolkata_midnight + timedelta(minutes=15), None, "exclude"
            )
        )
        >= 1
    )


def test_new_yorks_day_of_the_dst_change_is_25_hours_long(loaded: Loaded) -> None:
    body = loaded.get(
        "summary", start="2026-11-01", end="2026-11-02", zone="America/New_York", bucket="hour"
    )
    assert len(body["series"]) == 25
    assert body["series"][1]["start"] == "2026-11-01T01:00:00-04:00"
    assert body["series"][2]["start"] == "2026-11-01T01:00:00-05:00"


def test_an_empty_range_answers_zeros_and_no_ratios(loaded: Loaded) -> None:
    body = loaded.get("summary", start="2025-01-01", end="2025-01-03")
    assert body["totals"] == {
        "pageviews": 0,
        "visits": 0,
        "visitors": 0,
        "first_time_visits": 0,
        "returning_visits": 0,
        "views_per_visit": None,
        "visit_duration_s": None,
        "bounce_rate": None,
    }
    assert [s["pageviews"] for s in body["series"]] == [0, 0]
    assert loaded.get("top/pages", start="2025-01-01", end="2025-01-03")["rows"] == []


def test_compare_gives_the_previous_period_of_equal_length(loaded: Loaded) -> None:
    body = loaded.get("summary", start="2026-11-02", end="2026-11-03", compare="true")
    assert body["previous"]["start"] == "2026-11-01T00:00:00+00:00"
    assert_figures(body["previous"]["totals"], loaded.oracle.figures(day(UTC, 1), day(UTC, 2)))
    top = loaded.get("top/pages", start="2026-11-02", end="2026-11-03", compare="true")
    before = loaded.oracle.top("pages", day(UTC, 1), day(UTC, 2))
    assert {r["value"]: r["previous_count"] for r in top["rows"]} == {
        r["value"]: before.get(r["value"], 0) for r in top["rows"]
    }


def test_next_page_flows_from_one_page(loaded: Loaded) -> None:
    page = "/watch/Python/Getting-started/English/"
    body = loaded.get(
        "top/next_pages", start="2026-10-31", end="2026-11-04", from_page=page, limit=100
    )
    expected = {
        k: c
        for k, c in loaded.oracle.top("next_pages", START, START + timedelta(days=4)).items()
        if k.startswith(page + " → ")
    }
    assert {r["value"]: r["count"] for r in body["rows"]} == expected
    assert all(r["from"] == page for r in body["rows"])


def test_the_visitor_map_is_geojson_with_countries_and_city_points(loaded: Loaded) -> None:
    response = loaded.reader.get("/api/v1/stats/map?start=2026-10-31&end=2026-11-04")
    assert response.headers["Content-Type"].startswith("application/geo+json")
    features = response.json()["features"]
    countries = {
        f["properties"]["iso_code"]: f["properties"]["pageviews"]
        for f in features
        if f["properties"]["kind"] == "country"
    }
    assert countries == dict(loaded.oracle.top("countries", START, START + timedelta(days=4)))
    mumbai = next(f for f in features if f["properties"]["name"] == "Mumbai")
    assert mumbai["geometry"]["coordinates"] == pytest.approx([72.8777, 19.076], abs=1e-3)


def test_courses_link_to_their_figures(loaded: Loaded) -> None:
    rows = loaded.get("top/courses", start="2026-10-31", end="2026-11-04")["rows"]
    assert {r["value"] for r in rows} == {"Python", "Linux"}
    python = next(r for r in rows if r["value"] == "Python")
    assert python["links"]["figures"] == "/api/v1/courses/Python/figures"
    assert loaded.reader.get(python["links"]["figures"]).status_code == 200


@pytest.mark.parametrize(("how", "header"), [({"format": "csv"}, None), ({}, "text/csv")])
def test_csv_export_has_a_row_per_bucket(loaded: Loaded, how, header) -> None:  # type: ignore[no-untyped-def]
    headers = {"Accept": header} if header else {}
    response = loaded.reader.get(
        "/api/v1/stats/summary",
        headers=headers,
        params={"start": "2026-10-31", "end": "2026-11-04", **how},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("period,start,end,pageviews")
    assert len(lines) == 1 + DAYS
    total = sum(int(line.split(",")[3]) for line in lines[1:])
    assert total == loaded.oracle.figures(START, START + timedelta(days=4))["pageviews"]


def test_csv_export_of_a_top_list_and_the_map(loaded: Loaded) -> None:
    top = loaded.reader.get(
        "/api/v1/stats/top/countries?start=2026-10-31&end=2026-11-04&format=csv"
    )
    assert top.text.splitlines()[0] == "value,count,percent,pageviews,visits,name"
    geo = loaded.reader.get("/api/v1/stats/map?start=2026-10-31&end=2026-11-04&format=csv")
    assert "longitude,latitude" in geo.text.splitlines()[0]


def test_an_empty_csv_export_still_has_its_header(loaded: Loaded) -> None:
    empty = "start=2020-01-01&end=2020-01-02&format=csv"
    top = loaded.reader.get(f"/api/v1/stats/top/next_pages?from_page=/nowhere&{empty}")
    assert top.status_code == 200
    assert top.text.splitlines() == ["value,count,percent,pageviews,visits"]
    geo = loaded.reader.get(f"/api/v1/stats/map?{empty}")
    assert geo.text.splitlines() == ["kind,iso_code,name,pageviews,visits,longitude,latitude"]


@pytest.mark.parametrize(
    ("query", "pointers"),
    [
        ("zone=Mars/Olympus", ["/query/zone"]),
        ("bucket=fortnight&bogus=1", ["/query/bogus", "/query/bucket"]),
        ("start=2026-13-01", ["/query/start"]),
        ("start=2026-11-02&end=2026-11-01", ["/query/end"]),
        ("start=2026-11-01T10:05:00Z", ["/query/start"]),
        ("country=IN&device=mobile", ["/query/country", "/query/device"]),
        ("start=2020-01-01&end=2026-01-01&bucket=hour", ["/query/bucket"]),
        ("limit=0", ["/query/limit"]),
        ("zone=Europe/Amsterdam&start=1935-01-01&end=1935-02-01", ["/query/zone"]),
    ],
)
def test_bad_parameters_are_a_400_naming_each_by_pointer(
    loaded: Loaded, query: str, pointers: list[str]
) -> None:
    path = "top/pages" if "limit" in query else "summary"
    response = loaded.reader.get(f"/api/v1/stats/{path}?{query}")
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert sorted(f"/{e['in']}/{e['parameter']}" for e in errors) == sorted(pointers)


def test_statistics_need_a_read_key(loaded: Loaded) -> None:
    assert loaded.client.get("/api/v1/stats/summary").status_code == 403


def test_live_counts_recent_views_by_event_time(loaded: Loaded) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    items = [
        {
            "kind": "pageview",
            "log_id": f"live-{i}",
            "path": "/",
            "ip": f"81.2.70.{i}",
            "visited_at": (now - timedelta(minutes=m)).isoformat(),
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36",
        }
        for i, m in enumerate([0, 1, 2, 4, 9, 30])
    ]
    post(loaded.client, items)
    drain(loaded.flusher)
    body = loaded.get("live")
    assert (body["pageviews"], body["visitors"]) == (4, 4)


def test_a_zone_added_later_is_marked_over_the_history_and_then_read_whole(
    loaded: Loaded,
) -> None:
    """STATS_ZONES gains Kathmandu after its views were counted: its periods are marked
    over the stored history, its figures stay exact while they are only marked, once
    compaction summed them, and after the zone is dropped again."""
    db, oracle = loaded.db, loaded.oracle
    a, b = day(KATHMANDU, 0), day(KATHMANDU, DAYS)
    params = {
        "start": a.date().isoformat(),
        "end": b.date().isoformat(),
        "zone": "Asia/Kathmandu",
        "bucket": "day",
    }

    def exact() -> None:
        body = loaded.get("summary", **params)
        for got in body["series"]:
            start = datetime.fromisoformat(got["start"]).astimezone(UTC)
            end = datetime.fromisoformat(got["end"]).astimezone(UTC)
            assert_figures(got, oracle.figures(start, end))
        top = loaded.get("top/cities", **params, limit=1000)
        expected = oracle.top("cities", a.astimezone(UTC), b.astimezone(UTC))
        assert {row["value"]: row["count"] for row in top["rows"]} == dict(expected)

    first_day = {"_id": Period("d", a.astimezone(UTC), "Asia/Kathmandu").key}
    assert zones.sync(db, [*KEPT, "Asia/Kathmandu"]) == ["Asia/Kathmandu"]
    try:
        assert "Asia/Kathmandu" in zones.ready(db).zones
        assert db.rollups.find_one(first_day)["dirty"] is True  # marked, not summed yet
        exact()
        loaded.rollups([*KEPT, "Asia/Kathmandu"]).compact()
        assert db.rollups.find_one(first_day)["dirty"] is False  # summed: read whole
        assert buckets.tile(a.astimezone(UTC), b.astimezone(UTC), zones.ready(db)) == [
            Period("d", day(KATHMANDU, n).astimezone(UTC), "Asia/Kathmandu") for n in range(DAYS)
        ]
        exact()
        # A flusher whose own settings lack the zone still marks it: the registry says.
        later = day(KATHMANDU, DAYS + 5)
        post(
            loaded.client,
            [
                {
                    "kind": "pageview",
                    "log_id": "zone-added",
                    "path": "/",
                    "ip": "81.2.70.9",
                    "visited_at": later.isoformat(),
                }
            ],
        )
        drain(loaded.flusher)
        marked = db.rollups.find_one(
            {"_id": Period("d", later.astimezone(UTC), "Asia/Kathmandu").key}
        )
        assert marked is not None and marked["dirty"] is True
    finally:
        loaded.rollups(KEPT).compact()  # a flusher started with the zone gone drops it
    assert "Asia/Kathmandu" not in zones.marked(db).zones
    exact()  # from finer periods again
