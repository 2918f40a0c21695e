"""A repeated log_id is answered like the first and stored once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from footfall.app import create_app
from tests.conftest import make_key


def test_the_same_log_id_twice_in_a_row_is_stored_once(client, db, flush):
    first = client.post("/api/v1/pageviews", json={"path": "/a", "log_id": "same"})
    second = client.post("/api/v1/pageviews", json={"path": "/a", "log_id": "same"})
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json() == {"status": "accepted", "log_id": "same"}
    assert second.json() == {"status": "duplicate", "log_id": "same"}
    flush()
    assert db.pageviews.count_documents({"log_id": "same"}) == 1


def test_the_same_log_id_sent_concurrently_is_stored_once(settings, db, redis, flush):
    app = create_app(settings)
    app.test_client().get("/api/v1/health")  # build the middleware stack once
    key = {"X-API-Key": make_key(db, "ingest")}

    def post(_: int) -> str:
        response = app.test_client().post(
            "/api/v1/pageviews", json={"path": "/", "log_id": "race"}, headers=key
        )
        assert response.status_code == 202
        return response.json()["status"]

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(16)))
    assert statuses.count("accepted") == 1
    assert statuses.count("duplicate") == 15
    flush()
    assert db.pageviews.count_documents({"log_id": "race"}) == 1


def test_the_same_log_id_twice_in_one_batch_is_stored_once(client, db, flush):
    items = [{"kind": "pageview", "path": "/", "log_id": "b1"}] * 2
    receipts = client.post("/api/v1/batch", json={"items": items}).json()["receipts"]
    assert [r["status"] for r in receipts] == ["accepted", "duplicate"]
    flush()
    assert db.pageviews.count_documents({"log_id": "b1"}) == 1


def test_an_event_replayed_into_the_stream_is_stored_once(client, db, redis, settings, flush):
    """The flusher may write a batch again (a crash before XACK): duplicates are stored."""
    client.post("/api/v1/pageviews", json={"path": "/", "log_id": "replayed"})
    stream = f"{settings.queue.stream_prefix}:pageviews"
    [(_, fields)] = redis.xrange(stream)
    redis.xadd(stream, fields)  # the same event a second time, bypassing the API
    flusher = flush()
    assert db.pageviews.count_documents({"log_id": "replayed"}) == 1
    assert flusher.dead == 0
    assert redis.xlen(stream) == 0


def test_the_same_log_id_for_different_kinds_is_not_a_duplicate(client, db, flush):
    client.post("/api/v1/pageviews", json={"path": "/", "log_id": "shared"})
    response = client.post(
        "/api/v1/exit-links", json={"url": "https://a.example/", "page": "/", "log_id": "shared"}
    )
    assert response.json()["status"] == "accepted"
