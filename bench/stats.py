"""Statistics at scale: a year of page views in the rollups, every statistic timed, and
the flusher's throughput with and without rollups in the same run.

    .venv/bin/python bench/stats.py                         # 10M views: long (see README)
    .venv/bin/python bench/stats.py --views 1000000 --flush-events 5000

The year is written the way the flusher stores it, without raw inserts: page views in
the stored shape (bench/stats_data.py templates, sampled per 15 minutes along a daily
curve, with visitors drawn from a population) go through the flusher's own
`delta_documents`-equivalent aggregation into 15-minute rows (`footfall.stats.rows`), as
folded bases; then the real `Rollups.compact` sums days and months. Queries go through
the API in-process (routing, validation, the handler), 20 runs each: p50 and p95.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from payloads import page_views, stream_payloads
from servers import make_settings
from stats_data import templates, year_counts

from footfall.app import create_app
from footfall.connections import mongo_database, redis_client
from footfall.embedded import EmbeddedMongo, EmbeddedValkey
from footfall.enrich import Enricher
from footfall.flusher import Flusher
from footfall.security import keys
from footfall.stats import buckets, cells, rows, sketch, zones
from footfall.stats.buckets import Period
from footfall.stats.query import TOP
from footfall.stats.rollup import ROLLUPS, Rollups
from footfall.store.collections import PAGEVIEWS
from footfall.store.schema import init_db
from footfall.store.streams import Message, Streams

YEAR = datetime(2025, 1, 1, tzinfo=UTC)


def progress(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def write_year(db: Any, views: int, seed: int = 5) -> dict[str, Any]:
    rng = random.Random(seed)
    pool = templates(3000)
    adds_of = []
    for t in pool:
        found, _ = cells.pageview(t)
        own = [(k, d, v, c, a) for k, d, v, c, a, _ in found]
        key = (
            bool(t["is_bot"]),
            t.get("event_name"),
            t.get("course"),
            t["country"]["iso_code"],
            t["device"]["type"],
        )
        adds_of.append((own, key))
    population = 2_000_000
    np_rng = np.random.default_rng(seed)
    written, started, batch = 0, time.monotonic(), []
    for start, count in year_counts(views, YEAR, rng):
        chosen = np_rng.integers(0, len(pool), count)
        visitors = np_rng.zipf(1.3, count) % population
        adds: rows.Adds = {}
        registers: rows.Registers = {}
        for t, visitor in zip(chosen.tolist(), visitors.tolist(), strict=True):
            found, key = adds_of[t]
            rows.gather(found, adds)
            index, rank = sketch.register(
                hashlib.blake2b(str(visitor).encode(), digest_size=8).hexdigest()
            )
            if rank > registers.get((key, index), 0):
                registers[(key, index)] = rank
        period = Period("q", start)
        batch.append(
            {
                "_id": period.key,
                "l": "q",
                "s": start,
                "rev": 1,
                "folded": {},
                **rows.encode(adds, registers),
            }
        )
        written += count
        if len(batch) == 96:
            db[ROLLUPS].insert_many(batch)
            batch = []
            if start.day == 1 and start.hour == 23:
                progress(f"written {written:,} views up to {start:%Y-%m-%d}")
    if batch:
        db[ROLLUPS].insert_many(batch)
    # What the batches would have marked before zones were configurable (UTC only); the
    # other zones of STATS_ZONES are added by compaction's first sync, as in a deployment.
    zones.mark_history(db, buckets.UTC_ONLY)
    return {"views": written, "write_s": time.monotonic() - started}


def periods_read(db: Any, params: dict[str, str]) -> tuple[int, int]:
    """How many stored periods (documents, once compacted) a summary and a top list read."""
    zone = ZoneInfo(params["zone"])
    start = datetime.fromisoformat(params["start"]).replace(tzinfo=zone).astimezone(UTC)
    end = datetime.fromisoformat(params["end"]).replace(tzinfo=zone).astimezone(UTC)
    kept = zones.ready(db)
    spans = buckets.local_buckets(start, end, params["bucket"], zone)  # type: ignore[arg-type]
    series = sum(len(buckets.tile(a, b, kept, hours=True)) for a, b in spans)
    return series, len(buckets.tile(start, end, kept))


READS: dict[str, tuple[int, int]] = {}


def time_queries(db: Any, client: Any, runs: int) -> list[tuple[str, str, float, float]]:
    ranges = {
        "one year, Asia/Kolkata (bucket month)": {
            "start": "2025-01-01",
            "end": "2026-01-01",
            "zone": "Asia/Kolkata",
            "bucket": "month",
        },
        "one year, UTC (bucket month)": {
            "start": "2025-01-01",
            "end": "2026-01-01",
            "zone": "UTC",
            "bucket": "month",
        },
        "one year, Kolkata, country=IN": {
            "start": "2025-01-01",
            "end": "2026-01-01",
            "zone": "Asia/Kolkata",
            "bucket": "month",
            "country": "IN",
        },
        "one day, Asia/Kolkata (bucket hour)": {
            "start": "2025-06-10",
            "end": "2025-06-11",
            "zone": "Asia/Kolkata",
            "bucket": "hour",
        },
        "one day, UTC (bucket hour)": {
            "start": "2025-06-10",
            "end": "2025-06-11",
            "zone": "UTC",
            "bucket": "hour",
        },
        # A zone not in STATS_ZONES: exact, from finer periods, slower.
        "one year, Asia/Kathmandu (not kept)": {
            "start": "2025-01-01",
            "end": "2026-01-01",
            "zone": "Asia/Kathmandu",
            "bucket": "month",
        },
        "one day, Asia/Kathmandu (not kept)": {
            "start": "2025-06-10",
            "end": "2025-06-11",
            "zone": "Asia/Kathmandu",
            "bucket": "hour",
        },
    }
    # One unmeasured request: the app's first one builds what it keeps (routes, spec).
    assert client.get("/api/v1/stats/summary").status_code == 200
    out = []
    for label, params in ranges.items():
        READS[label] = periods_read(db, params)
        paths = ["summary", "map", *(f"top/{d}" for d in TOP)]
        for path in paths:
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                response = client.get(f"/api/v1/stats/{path}", params=params)
                times.append(time.perf_counter() - began)
                assert response.status_code == 200, response.text
            times.sort()
            out.append(
                (
                    label,
                    path,
                    statistics.median(times) * 1000,
                    times[max(0, round(0.95 * len(times)) - 1)] * 1000,
                )
            )
    return out


def flusher_throughput(settings: Any, events: int, with_rollups: bool, run: str) -> float:
    settings = settings.replace(
        {
            "stream_prefix": f"{settings.queue.stream_prefix}{run}",
            "mongo_db": f"{settings.servers.mongo_db}{run}",
        }
    )
    redis, db = redis_client(settings.servers), mongo_database(settings.servers)
    init_db(db)
    streams = Streams(redis, settings.queue.stream_prefix, settings.queue.idempotency_ttl_s)
    flusher = Flusher(settings, redis, db)
    flusher.streams.ensure_group(flusher.collections)
    if not with_rollups:
        flusher.preparers = {PAGEVIEWS.name: Enricher(settings, redis).enrich}
        flusher.after = {}
    for chunk_start in range(0, events, 500):
        chunk = PAYLOADS[chunk_start : chunk_start + 500]
        streams.enqueue([Message(PAGEVIEWS.name, p) for p in chunk])
    began = time.perf_counter()
    while batch := flusher.next_batch():
        assert flusher.store(batch)
    elapsed = time.perf_counter() - began
    assert db[PAGEVIEWS.name].count_documents({}) == events
    return events / elapsed


PAYLOADS: list[bytes] = []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--flush-events", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        valkey = EmbeddedValkey(Path(tmp) / "valkey").start()
        mongo = EmbeddedMongo(Path(tmp) / "mongo").start()
        try:
            settings = make_settings(valkey.url, mongo.uri, "benchstats")
            db = mongo_database(settings.servers)
            init_db(db)
            PAYLOADS.extend(stream_payloads(page_views(2000), args.flush_events))
            progress(f"flusher, {args.flush_events:,} page views, with and without rollups")
            rates = {True: [], False: []}
            for n, with_rollups in enumerate([False, True, False, True]):
                rates[with_rollups].append(
                    flusher_throughput(settings, args.flush_events, with_rollups, f"f{n}")
                )
            progress(f"writing a year of {args.views:,} page views into the rollups")
            year = write_year(db, args.views)
            # Compaction in two steps, as a deployment would meet them: UTC's periods
            # first (what was kept before STATS_ZONES), then the other zones added,
            # marked over the history and summed: each step's time and storage.
            steps: list[tuple[str, float, dict[str, Any]]] = []
            for listed in (["UTC"], settings.stats.stats_zones):
                progress(f"compacting, STATS_ZONES={','.join(listed)}")
                began = time.monotonic()
                rollups = Rollups(
                    db, redis_client(settings.servers), settings.queue.stream_prefix, 0, listed
                )
                while rollups.compact():
                    pass
                steps.append(
                    (",".join(listed), time.monotonic() - began, db.command("collStats", ROLLUPS))
                )
            app = create_app(settings)
            key = keys.create(db, "bench", ["read"], ()).secret
            client = app.test_client(headers={"X-API-Key": key})
            progress("timing every statistic")
            timings = time_queries(db, client, args.runs)
        finally:
            mongo.stop()
            valkey.stop()
    print(
        f"data set: {year['views']:,} page views over 2025 (UTC), "
        f"written in {year['write_s']:.0f} s"
    )
    for listed, compact_s, stats in steps:
        print(
            f"STATS_ZONES={listed}: compaction {compact_s:.0f} s; rollups "
            f"{stats.get('count', 0):,} documents, {stats.get('size', 0) / 1e6:,.0f} MB "
            f"(collStats size), {stats.get('storageSize', 0) / 1e6:,.0f} MB on disk"
        )
    best = {k: max(v) for k, v in rates.items()}
    print(
        f"flusher: {best[False]:,.0f} views/s without rollups, {best[True]:,.0f} with "
        f"(best of 2 each, interleaved): ratio {best[True] / best[False]:.2f}"
    )
    worst: dict[str, float] = {}
    for label, path, p50, p95 in timings:
        print(f"{label:40s} {path:32s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
        worst[label] = max(worst.get(label, 0), p95)
    for label, p95 in worst.items():
        series, top = READS[label]
        print(
            f"worst p95, {label}: {p95:.1f} ms (periods read: summary {series}, a top list {top})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
