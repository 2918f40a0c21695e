"""Footfall on a Redis Cluster of three Valkey primaries: ingest, idempotency, rate
limits, first visits, the flusher, a claim and a replay, each against the real cluster."""

from __future__ import annotations

import time
import uuid

import pytest
from redis.cluster import RedisCluster

from footfall.app import create_app
from footfall.connections import mongo_database, redis_client
from footfall.deadletters import DeadLetters, Filter
from footfall.embedded import EmbeddedValkeyCluster
from footfall.enrich.visitors import VisitorLog
from footfall.flusher import Flusher
from footfall.security import keys
from footfall.security.keymirror import KeyMirror
from footfall.security.ratelimit import RateLimiter
from footfall.status import gather
from footfall.store.schema import init_db
from footfall.store.streams import Streams
from tests.conftest import make_settings

API = "/api/v1"
SITE = "https://site.example"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = EmbeddedValkeyCluster(tmp_path_factory.mktemp("cluster")).start()
    yield server
    server.stop()


@pytest.fixture
def settings(cluster, mongo):  # type: ignore[no-untyped-def]
    return make_settings(cluster.url, mongo.uri, f"c{uuid.uuid4().hex[:12]}")


@pytest.fixture
def redis(settings):  # type: ignore[no-untyped-def]
    client = redis_client(settings.servers)
    assert isinstance(client, RedisCluster)
    yield client
    client.close()


@pytest.fixture
def db(settings):  # type: ignore[no-untyped-def]
    database = mongo_database(settings.servers)
    init_db(database)
    yield database
    database.client.drop_database(database.name)
    database.client.close()


def flush(settings, redis, db, **overrides) -> Flusher:  # type: ignore[no-untyped-def]
    flusher = Flusher(settings.replace(overrides), redis, db)
    flusher.streams.ensure_group(flusher.collections)
    while batch := flusher.next_batch():
        assert flusher.store(batch)
    return flusher


def test_the_streams_live_on_several_primaries(settings, redis):
    nodes = {
        redis.get_node_from_key(f"{settings.queue.stream_prefix}:{stream}").name
        for stream in ("pageviews", "exit_links", "usage_logs", "tutorial_progress")
    }
    assert len(nodes) >= 2  # so the checks below cross nodes


def test_ingest_idempotency_and_the_flusher_work_on_a_cluster(settings, redis, db):
    client = create_app(settings).test_client(headers={"X-API-Key": _key(db, "admin")})
    first = client.post(f"{API}/pageviews", json={"path": "/", "log_id": "once"})
    again = client.post(f"{API}/pageviews", json={"path": "/", "log_id": "once"})
    assert (first.json()["status"], again.json()["status"]) == ("accepted", "duplicate")
    items = [
        {"kind": "pageview", "path": "/a", "log_id": "pv-1"},
        {"kind": "exit_link", "url": "https://docs.example/", "page": "/a"},
        {
            "kind": "usage_log",
            "log_id": "s-1",
            "tool_id": "ed",
            "user_id": "u1",
            "start_dt": "2026-11-20T09:00:00Z",
        },
        {
            "kind": "tutorial_progress",
            "log_id": "tp-1",
            "username": "asha",
            "course_id": "python",
            "tutorial_id": "intro",
            "language": "English",
            "visit_id": "v1",
            "at": "2026-11-20T09:20:00Z",
            "position_s": 60,
            "duration_s": 600,
        },
    ]
    batch = client.post(f"{API}/batch", json={"items": items}).json()
    assert batch["accepted"] == 4

    flush(settings, redis, db)

    assert db.pageviews.count_documents({}) == 2
    assert db.exit_links.count_documents({}) == 1
    assert db.usage_logs.count_documents({"log_id": "s-1"}) == 1
    assert db.tutorial_progress.count_documents({}) == 1
    prefix = settings.queue.stream_prefix
    for stream in ("pageviews", "exit_links", "usage_logs", "tutorial_progress"):
        assert redis.xlen(f"{prefix}:{stream}") == 0  # acked and deleted
    report = gather(redis, db, prefix)
    assert report["redis"]["cluster"] and report["redis"]["streams"]["pageviews"]["length"] == 0


def test_rate_limits_hold_across_the_cluster(settings, db):
    settings = settings.replace({"rate_ip_per_s": 0.2, "rate_ip_burst": 2})
    app = create_app(settings)
    browser = keys.create(db, "site", ["browser"], [SITE]).secret
    limited = keys.create(db, "tool", ["ingest"], rate=keys.Rate(0.1, 3)).secret

    def send(secret: str, address: str, **headers: str) -> int:
        client = app.test_client(client=(address, 50000))
        headers = {"X-API-Key": secret, **headers}
        return client.post(f"{API}/pageviews", json={"path": "/"}, headers=headers).status_code

    assert [send(browser, "198.51.100.1", Origin=SITE) for _ in range(3)] == [202, 202, 429]
    assert send(browser, "198.51.100.2", Origin=SITE) == 202
    assert [send(limited, "10.0.0.1") for _ in range(4)] == [202, 202, 202, 429]


def test_first_visits_are_decided_on_the_cluster(settings, redis):
    visitors = VisitorLog(redis, settings.queue.stream_prefix, 180, "secret")
    keys_ = [visitors.key(visitor_id=f"visitor-{i}", ip=None, user_agent=None) for i in range(20)]
    first = visitors.first_visits([(key, f"first-{i}") for i, key in enumerate(keys_)])
    again = visitors.first_visits([(key, f"later-{i}") for i, key in enumerate(keys_)])
    replay = visitors.first_visits([(keys_[0], "first-0")])
    assert all(first) and not any(again) and replay == [True]
    assert len({redis.get_node_from_key(key).name for key in keys_}) >= 2


def test_a_dead_flushers_entries_are_claimed_on_the_cluster(settings, redis, db):
    client = create_app(settings).test_client(headers={"X-API-Key": _key(db, "ingest")})
    items = [{"kind": "pageview", "path": f"/{i}", "log_id": f"c{i}"} for i in range(5)]
    items.append({"kind": "exit_link", "url": "https://x.example/", "page": "/"})
    assert client.post(f"{API}/batch", json={"items": items}).json()["accepted"] == 6
    dead = Flusher(settings.replace({"flush_consumer": "dead"}), redis, db)
    dead.streams.ensure_group(dead.collections)
    assert len(dead._read(count=10)) == 6  # read, then it "dies" before storing

    time.sleep(settings.flusher.flush_claim_idle_ms / 1000 + 0.1)
    survivor = flush(settings, redis, db, flush_consumer="survivor")

    assert db.pageviews.count_documents({}) == 5 and db.exit_links.count_documents({}) == 1
    assert survivor.stored == 6
    pending = redis.xpending(f"{settings.queue.stream_prefix}:pageviews", "flushers")
    assert pending["pending"] == 0


def test_a_dead_letter_is_replayed_and_keys_are_mirrored_on_the_cluster(settings, redis, db):
    prefix = settings.queue.stream_prefix
    redis.xadd(f"{prefix}:exit_links", {"d": b"not json"})
    flush(settings, redis, db)
    letters = DeadLetters(db, Flusher(settings, redis, db).streams)
    assert letters.replay(Filter(everything=True)).replayed == 1
    flush(settings, redis, db)
    [letter] = letters.page(Filter(), 1, 10)[0]
    assert letter["replays"] == 1  # refused again, the same letter

    created = keys.create(db, "mirrored", ["ingest"])
    mirror = KeyMirror(redis, prefix)
    mirror.put(created.key)
    assert mirror.get(created.key.key_id) == created.key


def _key(db, *scopes: str) -> str:  # type: ignore[no-untyped-def]
    return keys.create(db, "cluster test", scopes).secret


def test_on_the_cluster_a_write_draws_then_appends_and_a_refused_one_appends_nothing(
    settings, redis, db
):
    """A key's buckets (`{<key id>}`) and a stream hash to different slots, so on a
    Cluster the draw is a script of its own before the append (one script over both would
    be refused, CROSSSLOT); the limit, duplicates and "nothing taken when refused" hold."""
    prefix = settings.queue.stream_prefix
    limiter = RateLimiter(redis, prefix)
    streams = Streams(redis, prefix, 60)
    bucket, _ = limiter.key_bucket("some-key", keys.Rate(1, 1))
    assert redis.keyslot(bucket) != redis.keyslot(streams.stream("pageviews"))
    assert not streams._one_script_may_hold([bucket, streams.stream("pageviews")])

    client = create_app(settings).test_client()
    limited = keys.create(db, "tool", ["ingest"], rate=keys.Rate(0.01, 2)).secret
    statuses = [
        client.post(
            f"{API}/pageviews", json={"path": "/", "log_id": log_id}, headers={"X-API-Key": limited}
        )
        for log_id in ("a", "a", "b")
    ]
    assert [r.status_code for r in statuses] == [202, 202, 429]
    assert [r.json()["status"] for r in statuses[:2]] == ["accepted", "duplicate"]
    assert redis.xlen(streams.stream("pageviews")) == 1
    assert not redis.exists(streams.seen_key("pageviews", "b"))  # refused: nothing kept
