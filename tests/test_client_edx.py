"""The Open edX backend with the real `event-tracking` tracker, against a local HTTP
receiver started here (the server-side `edx_event` kind is issue 12: see
tests/test_client_edx_stored.py for the end-to-end test)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eventtracking.tracker import Tracker as EdxTracker
from footfall_client.edx import FootfallBackend

from tests.live import wait_for


class Receiver(http.server.BaseHTTPRequestHandler):
    """Records each POST (path, API key, body) and answers as /batch does."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append({"path": self.path, "key": self.headers["X-API-Key"], "body": body})
        receipts = [{"log_id": item["log_id"], "status": "accepted"} for item in body["items"]]
        answer = json.dumps(
            {"accepted": len(receipts), "duplicate": 0, "rejected": 0, "receipts": receipts}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Recording", (Receiver,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1", received
    finally:
        server.shutdown()
        server.server_close()


def test_event_tracking_events_are_sent_as_edx_event_items(receiver):
    url, received = receiver
    backend = FootfallBackend(url=url, key="ff_test_key", flush_interval_s=0.05)
    tracker = EdxTracker(backends={"footfall": backend})
    with tracker.context("course", {"course_id": "course-v1:IITB+Py101+2026", "user_id": 42}):
        tracker.emit("edx.course.enrollment.activated", {"mode": "audit"})
    tracker.emit("play_video", {"id": "intro", "currentTime": 12.5})
    assert backend.tracker.flush(10)
    backend.tracker.close()
    assert wait_for(lambda: sum(len(r["body"]["items"]) for r in received) == 2)
    items = [item for r in received for item in r["body"]["items"]]
    assert {r["path"] for r in received} == {"/api/v1/batch"}
    assert {r["key"] for r in received} == {"ff_test_key"}
    enrolled, played = items
    assert enrolled["kind"] == "edx_event" and enrolled["name"] == "edx.course.enrollment.activated"
    assert enrolled["data"] == {"mode": "audit"}
    assert enrolled["context"] == {"course_id": "course-v1:IITB+Py101+2026", "user_id": 42}
    assert enrolled["timestamp"].endswith("+00:00")  # event-tracking's UTC datetime, as ISO 8601
    assert played["name"] == "play_video" and played["context"] == {}
    assert len({enrolled["log_id"], played["log_id"]}) == 2
