"""The flusher: nothing acknowledged is lost, nothing is stored twice, bad documents are kept."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from footfall.app import create_app
from footfall.connections import mongo_database, redis_client
from footfall.embedded import EmbeddedMongo, EmbeddedValkey
from footfall.flusher import Flusher
from footfall.store.schema import init_db
from footfall.store.streams import GROUP
from tests.conftest import keyed_client, make_settings, settings_env


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


def post_views(client, count: int, prefix: str = "v") -> None:
    items = [{"kind": "pageview", "path": f"/{i}", "log_id": f"{prefix}{i}"} for i in range(count)]
    for start in range(0, count, 500):
        response = client.post("/api/v1/batch", json={"items": items[start : start + 500]})
        assert response.status_code == 200


def test_a_partial_batch_is_written_once_it_has_waited_long_enough(client, settings, redis, db):
    post_views(client, 3)
    flusher = Flusher(settings.replace({"flush_max_wait_ms": 100}), redis, db)
    flusher.streams.ensure_group(flusher.collections)
    started = time.monotonic()
    batch = flusher.next_batch()
    assert len(batch) == 3
    assert time.monotonic() - started < 5  # it did not wait for a full batch of 500


def test_a_document_the_validator_refuses_goes_to_dead_letters_and_the_rest_is_stored(
    client, db, redis, settings, flush
):
    # A stricter validator than the API's (as after an upgrade) refuses long paths.
    validator = db.command("listCollections", filter={"name": "pageviews"})
    schema = validator["cursor"]["firstBatch"][0]["options"]["validator"]
    schema["$jsonSchema"]["properties"]["path"]["maxLength"] = 5
    db.command("collMod", "pageviews", validator=schema)
    for path, log_id in [("/ok", "good1"), ("/far-too-long", "refused"), ("/ok2", "good2")]:
        client.post("/api/v1/pageviews", json={"path": path, "log_id": log_id})
    redis.xadd(f"{settings.queue.stream_prefix}:pageviews", {"d": b"not json at all"})

    flusher = flush()

    assert sorted(d["log_id"] for d in db.pageviews.find()) == ["good1", "good2"]
    letters = list(db.dead_letters.find({}, {"_id": 0}).sort("entry_id", 1))
    assert len(letters) == 2
    assert letters[0]["reason"] == "Document failed validation"
    assert '"log_id":"refused"' in letters[0]["payload"]
    assert letters[0]["details"]  # MongoDB's own explanation is kept
    assert letters[1]["reason"] == "the event does not decode"
    assert flusher.dead == 2
    assert redis.xlen(f"{settings.queue.stream_prefix}:pageviews") == 0  # all acked


def test_entries_left_pending_by_a_dead_flusher_are_claimed_and_stored(client, settings, redis, db):
    post_views(client, 10)
    dead = Flusher(settings.replace({"flush_consumer": "dead"}), redis, db)
    dead.streams.ensure_group(dead.collections)
    assert len(dead.next_batch()) == 10  # read, never stored nor acked: it "dies" here

    alive = Flusher(settings.replace({"flush_consumer": "alive"}), redis, db)
    time.sleep(settings.flusher.flush_claim_idle_ms / 1000 + 0.1)
    batch = alive.next_batch()
    assert len(batch) == 10
    assert alive.store(batch)
    assert db.pageviews.count_documents({}) == 10
    assert redis.xpending(f"{settings.queue.stream_prefix}:pageviews", GROUP)["pending"] == 0


def test_a_flusher_killed_after_mongodb_accepted_but_before_the_ack_loses_and_duplicates_nothing(
    client, settings, redis, db, valkey
):
    """The ack is refused to the first flusher (an ACL), so it dies between write and ack."""
    post_views(client, 1200)
    redis.execute_command(
        "ACL", "SETUSER", "noack", "on", "nopass", "~*", "&*", "+@all", "-xack", "-xdel"
    )
    host_port = valkey.url.removeprefix("redis://")
    doomed = settings.replace(
        {"redis_url": f"redis://noack:x@{host_port}", "flush_consumer": "doomed"}
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "footfall", "flush"],
        env=settings_env(doomed),
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: db.pageviews.count_documents({}) >= 500, what="a stored batch")
        stream = f"{settings.queue.stream_prefix}:pageviews"
        assert redis.xlen(stream) == 1200  # stored, yet nothing acked
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()

    survivor = Flusher(settings.replace({"flush_consumer": "survivor"}), redis, db)
    thread = threading.Thread(target=survivor.run)
    thread.start()
    try:
        wait_for(lambda: redis.xlen(stream) == 0, what="the stream to drain")
    finally:
        survivor.stop()
        thread.join(10)
    assert db.pageviews.count_documents({}) == 1200
    assert len(db.pageviews.distinct("log_id")) == 1200
    assert db.dead_letters.count_documents({}) == 0


def test_sigterm_finishes_the_batch_in_hand_then_exits(client, settings, redis, db):
    post_views(client, 2000)
    process = subprocess.Popen(
        [sys.executable, "-m", "footfall", "flush"],
        env=settings_env(settings),
        stderr=subprocess.PIPE,
    )
    wait_for(lambda: db.pageviews.count_documents({}) > 0, what="the first batch")
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    stream = f"{settings.queue.stream_prefix}:pageviews"
    stored = db.pageviews.count_documents({})
    pending = redis.xpending(stream, GROUP)["pending"]
    # Every event is stored or still in the stream; what was read was stored and acked.
    assert pending == 0
    assert stored + redis.xlen(stream) == 2000


@pytest.fixture
def own_servers(tmp_path):
    """Servers of this test's own, so that it can stop and restart them."""
    valkey = EmbeddedValkey(tmp_path / "valkey").start()
    mongo = EmbeddedMongo(tmp_path / "mongo").start()
    yield valkey, mongo
    mongo.stop()
    valkey.stop()


def test_events_keep_being_accepted_while_mongodb_is_down_and_land_once_it_is_back(own_servers):
    valkey, mongo = own_servers
    settings = make_settings(valkey.url, mongo.uri, "outage", mongo_timeout_ms=300)
    init_db(mongo_database(settings.servers))
    client = keyed_client(create_app(settings), mongo_database(settings.servers))
    # A worker that has checked the key once keeps accepting with MongoDB down.
    assert client.post("/api/v1/pageviews", json={"path": "/warm"}).status_code == 202
    mongo.stop()

    post_views(client, 299)
    response = client.post("/api/v1/pageviews", json={"path": "/single", "log_id": "single"})
    assert response.status_code == 202

    flusher = Flusher(settings, redis_client(settings.servers), mongo_database(settings.servers))
    thread = threading.Thread(target=flusher.run)
    thread.start()
    try:
        time.sleep(1.5)  # the flusher is retrying against a dead MongoDB
        assert thread.is_alive()
        mongo.start()
        db = mongo_database(settings.servers)
        wait_for(lambda: db.pageviews.count_documents({}) == 301, what="all 301 documents")
    finally:
        flusher.stop()
        thread.join(15)
    assert redis_client(settings.servers).xlen("outage:pageviews") == 0


def test_redis_down_is_a_503_with_retry_after_and_nothing_is_half_written(own_servers):
    valkey, mongo = own_servers
    settings = make_settings(valkey.url, mongo.uri, "down")
    init_db(mongo_database(settings.servers))
    client = keyed_client(create_app(settings), mongo_database(settings.servers))
    valkey.stop()

    single = client.post("/api/v1/pageviews", json={"path": "/", "log_id": "lost?"})
    batch = client.post("/api/v1/batch", json={"items": [{"kind": "pageview", "path": "/"}]})
    for response in (single, batch):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == str(settings.api.retry_after_s)
        assert response.headers["content-type"] == "application/problem+json"

    valkey.start()
    redis = redis_client(settings.servers)
    assert redis.exists("down:pageviews", "{down:pageviews}:seen:lost?") == 0
    # The client retries and the event is accepted as new, not as a duplicate.
    retry = client.post("/api/v1/pageviews", json={"path": "/", "log_id": "lost?"})
    assert retry.json()["status"] == "accepted"
