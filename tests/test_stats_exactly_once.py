"""Rollups count every stored view exactly once: replays, and flushers that die between
storing a batch and counting it, change no figure (see footfall.stats.rollup)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database
from redis import Redis

from footfall.flusher import Flusher
from footfall.settings import Settings
from footfall.stats import rollup
from footfall.stats.rollup import Rollups
from footfall.store.schema import init_db
from tests.conftest import keyed_client, make_settings, settings_env
from tests.stats_data import START, Oracle, generate, geo_database, post, unique_name
from tests.test_flusher import wait_for

DAYS = 4


@pytest.fixture
def settings(valkey, mongo, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(
        valkey.url, mongo.uri, unique_name(), geoip_db=geo_database(tmp_path), flush_batch_size=40
    )


@pytest.fixture
def loaded(app, db, settings) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    data = generate(seed=11)
    post(keyed_client(app, db, "ingest"), data.items())
    yield data


def figures(reader: Any) -> dict[str, Any]:
    """Every figure of the data set's days, UTC and Kolkata, and the visit-level lists."""
    out = {}
    for zone in ("UTC", "Asia/Kolkata"):
        params = {"start": "2026-10-31", "end": "2026-11-04", "zone": zone, "bots": "include"}
        out[zone] = reader.get("/api/v1/stats/summary", params=params).json()["series"]
        for dim in ("pages", "exit_pages", "paths", "sources", "next_pages", "exit_links"):
            body = reader.get(f"/api/v1/stats/top/{dim}", params={**params, "limit": 1000}).json()
            out[f"{zone} {dim}"] = {r["value"]: r["count"] for r in body["rows"]}
    return out


def assert_exact(reader: Any, data: Any, db: Database) -> None:
    oracle = Oracle(data, db)
    got = figures(reader)
    for bucket in got["UTC"]:
        start = datetime.fromisoformat(bucket["start"])
        expected = oracle.figures(start, start + timedelta(days=1), None, "include")
        expected.pop("visitors")
        assert {k: bucket[k] for k in expected} == expected
    end = START + timedelta(days=DAYS)
    for dim in ("pages", "exit_pages", "paths", "sources", "next_pages", "exit_links"):
        assert got[f"UTC {dim}"] == dict(oracle.top(dim, START, end, None, "include")), dim
    assert db.pageviews.count_documents({}) == len(data.views)


def run_until_drained(settings: Settings, redis: Redis, db: Database, name: str) -> None:
    flusher = Flusher(settings.replace({"flush_consumer": name}), redis, db)
    thread = threading.Thread(target=flusher.run)
    thread.start()
    try:
        for stream in ("pageviews", "exit_links"):
            wait_for(
                lambda s=stream: redis.xlen(f"{settings.queue.stream_prefix}:{s}") == 0,
                what="the streams to drain",
            )
    finally:
        flusher.stop()
        thread.join(10)


def test_a_replayed_batch_changes_no_figure(app, db, redis, settings, loaded, flush) -> None:  # type: ignore[no-untyped-def]
    streams = [f"{settings.queue.stream_prefix}:{name}" for name in ("pageviews", "exit_links")]
    payloads = {s: [fields for _, fields in redis.xrange(s)] for s in streams}
    flush()
    reader = keyed_client(app, db, "read")
    before = figures(reader)
    for stream, entries in payloads.items():  # the very same events, queued again
        for fields in entries:
            redis.xadd(stream, fields)
    flush()
    assert figures(reader) == before
    assert_exact(reader, loaded, db)


def test_a_flusher_that_dies_between_storing_and_counting_loses_and_doubles_nothing(  # type: ignore[no-untyped-def]
    app, db, redis, settings, loaded
) -> None:
    """The doomed flusher's token records are refused (a validator), so it stores its
    first batch and dies before counting anything; it is killed for good measure."""
    db.command("collMod", "rollup_tokens", validator={"_id": {"$exists": False}})
    process = subprocess.Popen(
        [sys.executable, "-m", "footfall", "flush"],
        env=settings_env(settings.model_copy(update={"flush_consumer": "doomed"})),
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: db.pageviews.count_documents({}) > 0, what="a stored batch")
        process.wait(timeout=30)  # it died on the refused record
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
    assert db.rollup_tokens.count_documents({}) == 0
    stored = db.pageviews.count_documents({})
    init_db(db)  # the validator is right again
    run_until_drained(settings, redis, db, "survivor")
    assert stored > 0
    assert_exact(keyed_client(app, db, "read"), loaded, db)
    assert db.rollup_tokens.count_documents({"state": "abandoned"}) >= 1


def test_a_flusher_that_dies_after_counting_but_before_saying_so_doubles_nothing(  # type: ignore[no-untyped-def]
    app, db, redis, settings, loaded
) -> None:
    """Its records may be written but never marked done, so it dies after applying."""
    init_db(db)
    db.command("collMod", "rollup_tokens", validator={"state": {"$in": ["open", "abandoned"]}})
    process = subprocess.Popen(
        [sys.executable, "-m", "footfall", "flush"],
        env=settings_env(settings.model_copy(update={"flush_consumer": "doomed"})),
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: db.rollup_tokens.count_documents({}) > 0, what="an applied batch")
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
    assert db.rollup_tokens.count_documents({"state": "open"}) == 1
    assert db.rollups.count_documents({"l": rollup.DELTA}) > 0  # its counts are in
    init_db(db)
    run_until_drained(settings, redis, db, "survivor")
    assert_exact(keyed_client(app, db, "read"), loaded, db)
    assert db.rollup_tokens.count_documents({"state": "open"}) == 0


def test_a_flusher_that_dies_half_way_through_its_deltas_doubles_nothing(  # type: ignore[no-untyped-def]
    app, db, redis, settings, loaded, monkeypatch
) -> None:
    real = Rollups._insert_deltas

    def half(self: Rollups, token: str, deltas: list[dict[str, Any]]) -> None:
        self.db.rollups.insert_many(deltas[: max(1, len(deltas) // 2)])
        raise SystemExit("killed half way")

    monkeypatch.setattr(Rollups, "_insert_deltas", half)
    doomed = Flusher(settings.replace({"flush_consumer": "doomed"}), redis, db)
    doomed.streams.ensure_group(doomed.collections)
    with pytest.raises(SystemExit):
        doomed.store(doomed.next_batch())
    monkeypatch.setattr(Rollups, "_insert_deltas", real)
    assert db.rollup_tokens.count_documents({"state": "open"}) == 1
    run_until_drained(settings, redis, db, "survivor")
    assert_exact(keyed_client(app, db, "read"), loaded, db)


def test_a_slow_flusher_whose_attempt_was_abandoned_retries_and_counts_once(  # type: ignore[no-untyped-def]
    app, db, redis, settings, loaded, monkeypatch
) -> None:
    """Another flusher gave up on this attempt's token (it looked dead) before it wrote its
    record: the attempt must not count, and its retry counts what nobody adopted."""
    real_prepare = Rollups.prepare
    tokens: list[str] = []

    def prepare(self: Rollups, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        docs = real_prepare(self, docs)
        if not tokens and docs:
            tokens.append(docs[0]["rt"])
            db.rollup_tokens.insert_one(
                {"_id": docs[0]["rt"], "state": "abandoned", "at": datetime.now(UTC)}
            )
        return docs

    monkeypatch.setattr(Rollups, "prepare", prepare)
    run_until_drained(settings, redis, db, "slow")
    assert tokens
    assert_exact(keyed_client(app, db, "read"), loaded, db)


def test_a_delta_inserted_again_after_it_was_folded_is_not_counted_twice(  # type: ignore[no-untyped-def]
    app, db, redis, settings, loaded, flush
) -> None:
    """A late replay of an open record re-inserts deltas that a fold already added and
    deleted: the base remembers the folded tokens, so they are dropped."""
    flush(stats_compact_s=3600)  # deltas only (the first batch compacts nothing yet)
    copies = list(db.rollups.find({"l": rollup.DELTA}))
    assert copies
    rollups = Rollups(db, redis, settings.queue.stream_prefix, 0, settings.stats.stats_zones)
    rollups.compact()
    assert db.rollups.count_documents({"l": rollup.DELTA}) == 0
    reader = keyed_client(app, db, "read")
    before = figures(reader)
    db.rollups.insert_many(copies)
    assert figures(reader) == before
    rollups.compact()
    assert db.rollups.count_documents({"l": rollup.DELTA}) == 0
    assert figures(reader) == before
    assert_exact(reader, loaded, db)


def test_token_records_are_forgotten_once_nobody_can_replay_them(  # type: ignore[no-untyped-def]
    db, redis, settings, loaded, flush
) -> None:
    flush()
    assert db.rollup_tokens.count_documents({"state": "done"}) > 0
    db.rollup_tokens.update_many({}, {"$set": {"at": datetime.now(UTC) - rollup.KEEP}})
    Rollups(db, redis, settings.queue.stream_prefix, 0, settings.stats.stats_zones).compact()
    assert db.rollup_tokens.count_documents({}) == 0
