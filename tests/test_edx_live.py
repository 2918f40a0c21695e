"""Live Open edX events: `POST /edx-events` and the batch kind `edx_event`, in both shapes,
through the queue and a flusher into the collection the importer fills."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import yaml

from footfall.app import SPEC_DIR
from footfall.edx.mapping import parse_line
from footfall.store.collections import EDX_EVENTS
from tests.conftest import keyed_client
from tests.edx_helpers import COURSE, LOG, V1

SPEC = yaml.safe_load((SPEC_DIR / "footfall.yaml").read_text())
EXAMPLES = SPEC["paths"]["/edx-events"]["post"]["requestBody"]["content"]["application/json"][
    "examples"
]

#: What the event-tracking backend (footfall_client.edx) posts: the tracker's event.
EVENT_TRACKING = {
    "kind": "edx_event",
    "log_id": "3f1e9a0c5b7d4e2f8a6c1b0d9e8f7a6b",
    "name": "edx.course.enrollment.activated",
    "timestamp": "2026-03-01T09:30:00.123456+00:00",
    "context": {"course_id": COURSE, "user_id": 42, "username": "asha", "ip": "198.51.100.77"},
    "data": {"mode": "audit"},
}


def test_a_tracking_log_line_posted_live_is_stored_like_an_imported_one(client, db, flush):
    line = LOG.read_bytes().splitlines()[4]  # line 5: play_video, event as a JSON string
    body = orjson.loads(line)
    answer = client.post("/api/v1/edx-events", json=body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "accepted"
    flush()
    doc = db[EDX_EVENTS.name].find_one({}, {"_id": 0})
    imported = parse_line(line)
    imported["ip"] = "203.0.113.0"  # the flusher applies IP_STORAGE, as the importer does
    received = doc.pop("received_at")
    assert abs((datetime.now(UTC) - received).total_seconds()) < 60
    assert {k: v for k, v in doc.items() if k != "log_id"} == {
        k: v for k, v in imported.items() if k != "log_id"
    }
    assert doc["event"] == {"id": V1, "currentTime": 0, "code": "html5"}


def test_event_tracking_events_come_in_batches_and_a_bad_one_is_rejected_alone(client, db, flush):
    bad = {"kind": "edx_event", "name": "play_video", "data": {}}
    answer = client.post("/api/v1/batch", json={"items": [EVENT_TRACKING, bad]})
    assert answer.status_code == 200, answer.text
    receipts = answer.json()["receipts"]
    assert receipts[0] == {"log_id": EVENT_TRACKING["log_id"], "status": "accepted"}
    assert receipts[1]["status"] == "rejected"
    assert receipts[1]["errors"] == [
        {"pointer": "/items/1/time", "detail": "no time (nor timestamp)"}
    ]
    flush()
    doc = db[EDX_EVENTS.name].find_one({"log_id": EVENT_TRACKING["log_id"]}, {"_id": 0})
    assert doc["event_type"] == doc["name"] == "edx.course.enrollment.activated"
    assert doc["family"] == "enrollment"
    assert doc["time"] == datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=UTC)
    # The request fields event-tracking keeps in the context are lifted; the IP reduced
    # in both places.
    assert (doc["username"], doc["ip"]) == ("asha", "198.51.100.0")
    assert doc["context"] == {
        "course_id": COURSE,
        "user_id": 42,
        "username": "asha",
        "ip": "198.51.100.0",
    }
    assert doc["event"] == {"mode": "audit"}


def test_an_event_sent_twice_without_a_log_id_is_stored_once(client, db, flush):
    event = {k: v for k, v in EVENT_TRACKING.items() if k not in ("kind", "log_id")}
    first = client.post("/api/v1/edx-events", json=event).json()
    again = client.post("/api/v1/edx-events", json=event).json()
    assert first["log_id"] == again["log_id"]
    assert (first["status"], again["status"]) == ("accepted", "duplicate")
    flush()
    assert db[EDX_EVENTS.name].count_documents({}) == 1


def test_bad_edx_events_are_422_with_a_pointer(client):
    cases = [
        ({"time": "2026-03-01T09:30:00Z"}, "/event_type"),
        ({"event_type": "x", "time": "soon"}, "/time"),
        ({"name": "x", "timestamp": "2999-01-01T00:00:00Z"}, "/timestamp"),
        ({"event_type": "x", "time": "2026-03-01T09:30:00Z", "context": [1]}, "/context"),
        ({"event_type": "x", "time": "2026-03-01T09:30:00Z", "username": {"a": 1}}, "/username"),
    ]
    for body, pointer in cases:
        answer = client.post("/api/v1/edx-events", json=body)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["pointer"] for e in answer.json()["errors"]] == [pointer], body


def test_browser_keys_cannot_send_edx_events_in_a_batch(app, db):
    from footfall.security import keys

    browser = keys.create(db, "site", ["browser"], ["https://site.example"])
    answer = app.test_client().post(
        "/api/v1/batch",
        json={"items": [EVENT_TRACKING]},
        headers={"X-API-Key": browser.secret, "Origin": "https://site.example"},
    )
    assert answer.status_code == 422
    assert answer.json()["receipts"][0]["errors"][0]["pointer"] == "/items/0/kind"


def test_the_spec_examples_are_stored(app, db, flush):
    client = keyed_client(app, db, "ingest")
    for example in EXAMPLES.values():
        assert client.post("/api/v1/edx-events", json=example["value"]).status_code == 202
    flush()
    assert db[EDX_EVENTS.name].count_documents({"context.course_id": COURSE}) == 2
