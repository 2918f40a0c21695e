"""A learner's data: exported whole (and nothing of anyone else), erased from every
collection by index, with the queue honouring the erasure and an audit record kept."""

from __future__ import annotations

import orjson
import pytest

from footfall.learners.erasure import erase, filters
from footfall.learners.subject import Subject, about_learners
from footfall.store.collections import ALL, ERASURES
from footfall.store.streams import Streams

API = "/api/v1"


def seed(client, username: str, user_id: str, tag: str) -> None:
    """One document of every kind naming the learner (a dead letter too)."""
    posts = [
        (
            "/pageviews",
            {
                "log_id": f"{tag}-pv",
                "path": "/watch/python/intro/English/",
                "username": username,
                "view_args": ["python"],
            },
        ),
        (
            "/exit-links",
            {
                "log_id": f"{tag}-el",
                "url": "https://docs.python.org/3/",
                "page": "/watch/python/intro/English/",
                "username": username,
            },
        ),
        (
            "/usage-logs",
            {
                "log_id": f"{tag}-ul",
                "tool_id": "editor",
                "user_id": user_id,
                "start_dt": "2026-11-20T09:00:00Z",
            },
        ),
        (
            "/tutorial-progress",
            {
                "log_id": f"{tag}-tp",
                "username": username,
                "course_id": "python",
                "tutorial_id": "intro",
                "language": "English",
                "visit_id": "v1",
                "at": "2026-11-20T09:01:00Z",
                "position_s": 30,
                "duration_s": 600,
            },
        ),
        (
            "/tutorial-completion",
            {
                "log_id": f"{tag}-tc",
                "username": username,
                "course_id": "python",
                "tutorial_id": "intro",
                "language": "English",
                "visit_id": "v1",
                "at": "2026-11-20T09:02:00Z",
                "completed": True,
            },
        ),
    ]
    for path, body in posts:
        response = client.post(API + path, json=body)
        assert response.status_code == 202, response.json()
    duration = {
        "kind": "visit_duration",
        "log_id": f"{tag}-vd",
        "pageview_log_id": f"{tag}-pv",
        "path": "/watch/python/intro/English/",
        "duration_s": 42.5,
        "username": username,
    }
    edx = {
        "kind": "edx_event",
        "log_id": f"{tag}-edx",
        "event_type": "play_video",
        "event_source": "browser",
        "time": "2026-11-20T09:03:00+00:00",
        "username": username,
        "context": {"course_id": "course-v1:IITB+Py101+2026", "user_id": 7},
        "event": "{}",
    }
    response = client.post(API + "/batch", json={"items": [duration, edx]})
    assert response.json()["accepted"] == 2, response.json()


def dead_letter(redis, settings, username: str) -> None:
    """A page view the flusher cannot decode: it becomes a dead letter naming the learner."""
    streams = Streams(redis, settings.queue.stream_prefix, settings.queue.idempotency_ttl_s)
    payload = orjson.dumps({"kind": "pageview", "username": username, "path": 42})
    redis.xadd(streams.stream("pageviews"), {"d": payload})


def holdings(db, subject: Subject) -> dict[str, int]:
    return {name: db[name].count_documents(query) for name, query in filters(subject).items()}


@pytest.fixture
def two_learners(client, db, redis, settings, flush):
    seed(client, "asha", "u42", "a")
    seed(client, "ravi", "u77", "r")
    dead_letter(redis, settings, "asha")
    dead_letter(redis, settings, "ravi")
    flush()
    return Subject("asha", ("u42",)), Subject("ravi", ("u77",))


def export_lines(client, username: str, user_ids: str = "") -> list[dict]:
    query = f"?user_id={user_ids}" if user_ids else ""
    response = client.get(f"{API}/learners/{username}/export{query}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [orjson.loads(line) for line in response.content.splitlines()]


def test_every_collection_that_names_a_learner_says_by_which_indexed_field():
    for collection in ALL:
        if collection.learner is None:
            continue
        field = collection.learner.field
        leading = [next(iter(index.document["key"])) for index in collection.indexes]
        assert field in leading, f"{collection.name}: no index starts with {field}"


def test_an_export_holds_every_document_of_the_learner_and_none_of_another(client, two_learners):
    lines = export_lines(client, "asha", "u42")
    *documents, last = lines
    manifest = last["manifest"]
    by_collection: dict[str, list[dict]] = {}
    for line in documents:
        by_collection.setdefault(line["collection"], []).append(line["document"])
    # Data in every collection that names a learner, each counted in the manifest.
    assert set(by_collection) == {c.name for c in about_learners()}
    assert manifest["counts"] == {name: len(docs) for name, docs in by_collection.items()}
    assert manifest["username"] == "asha" and manifest["user_ids"] == ["u42"]
    flat = orjson.dumps(documents).decode()
    assert "ravi" not in flat and "u77" not in flat
    assert by_collection["usage_logs"][0]["user_id"] == "u42"
    assert by_collection["pageviews"][0]["visited_at"].endswith("+00:00")


def test_an_export_without_user_ids_leaves_usage_logs_out(client, two_learners):
    *_, last = export_lines(client, "asha")
    assert last["manifest"]["counts"]["usage_logs"] == 0
    assert last["manifest"]["counts"]["pageviews"] == 1


def test_an_erasure_leaves_no_document_of_the_learner_and_every_one_of_another(
    client, db, two_learners
):
    asha, ravi = two_learners
    before = holdings(db, ravi)
    response = client.delete(f"{API}/learners/asha?user_id=u42&reference=DPR-1")
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {
        "pageviews": 1,
        "exit_links": 1,
        "visit_durations": 1,
        "edx_events": 1,
        "usage_logs": 1,
        "dead_letters": 1,
        "progress_events": 2,
        "tutorial_progress": 1,
    }
    assert body["total"] == 9 and body["in_flight"] == 0
    assert holdings(db, asha) == dict.fromkeys(before, 0)
    assert holdings(db, ravi) == before
    # The usage log is a tombstone: its key, nothing of the session nor the user.
    tombstone = db.usage_logs.find_one({"log_id": "a-ul"}, {"_id": 0, "_v": 0})
    assert set(tombstone) == {"log_id", "update_dt"}
    # No trace of the learner anywhere, the audit included.
    for name in db.list_collection_names():
        for document in db[name].find():
            text = orjson.dumps(document, default=str).decode()
            assert "asha" not in text and "u42" not in text, (name, document)


def test_the_audit_record_says_who_when_and_how_many_and_nothing_else(client, db, two_learners):
    answer = client.delete(f"{API}/learners/asha?user_id=u42&reference=DPR-1").json()
    audit = db[ERASURES.name].find_one({}, {"_id": 0})
    assert audit["by"].startswith("key:") and audit["reference"] == "DPR-1"
    assert audit["counts"] == answer["counts"] and audit["total"] == 9
    assert set(audit) == {"erased_at", "by", "reference", "counts", "total", "in_flight"}
    assert str(db[ERASURES.name].find_one()["_id"]) == answer["audit_id"]


def test_erasing_again_finds_nothing_and_is_audited_again(client, db, two_learners):
    client.delete(f"{API}/learners/asha?user_id=u42")
    again = client.delete(f"{API}/learners/asha?user_id=u42").json()
    assert again["total"] == 0
    assert db[ERASURES.name].count_documents({}) == 2


def test_an_event_accepted_before_the_erasure_and_flushed_after_it_is_not_stored_one_after_is(
    client, db, redis, settings, flush
):
    seed(client, "asha", "u42", "before")  # queued, not flushed
    erase(
        db, redis, settings.replace({"erasure_settle_s": 0}), Subject("asha", ("u42",)), by="test"
    )
    seed(client, "asha", "u42", "after")
    flush()
    stored = {
        name: sorted(d["log_id"] for d in db[name].find({}, {"log_id": 1}))
        for name in ("pageviews", "exit_links", "progress_events")
    }
    assert stored == {
        "pageviews": ["after-pv"],
        "exit_links": ["after-el"],
        "progress_events": ["after-tc", "after-tp"],
    }
    # The usage session from before: dropped in the queue; the one after is stored.
    assert [d["log_id"] for d in db.usage_logs.find({"user_id": "u42"})] == ["after-ul"]
    assert db.tutorial_progress.find_one({"username": "asha"})["rev"] == 1
    # The queue is empty, so the erasure record is no longer needed.
    client.delete(f"{API}/learners/nobody")
    assert redis.hlen(f"{settings.queue.stream_prefix}:erasures") == 0


def test_an_erasure_waits_for_what_a_flusher_holds_and_reports_what_it_did_not_finish(
    client, db, redis, settings
):
    from footfall.flusher import Flusher

    seed(client, "asha", "u42", "held")
    flusher = Flusher(settings, redis, db)
    flusher.streams.ensure_group(flusher.collections)
    held = flusher.next_batch()  # handed to this flusher, not stored yet
    assert held
    done = erase(
        db, redis, settings.replace({"erasure_settle_s": 0.2}), Subject("asha", ("u42",)), by="test"
    )
    assert done.in_flight == len(held)
    # The flusher writes the batch now: it checks the erasure records first.
    assert flusher.store(held)
    asha = Subject("asha", ("u42",))
    assert holdings(db, asha) == dict.fromkeys(filters(asha), 0)


def test_the_erasure_finds_each_collections_documents_through_an_index(db):
    subject = Subject("asha", ("u42", "u43"))
    plans = {
        name: db.command("explain", {"find": name, "filter": query}, verbosity="queryPlanner")
        for name, query in filters(subject).items()
    }
    assert set(plans) == {c.name for c in about_learners()}
    for name, plan in plans.items():
        stages = orjson.dumps(plan["queryPlanner"]["winningPlan"]).decode()
        assert "IXSCAN" in stages and "COLLSCAN" not in stages, (name, plan)
