"""The Python tracker (footfall-client): contexts, processors, batches and retries,
against the real service on a real port."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from footfall_client import NameFilter, Tracker
from pymongo.database import Database

from footfall.settings import Settings
from tests.conftest import make_key
from tests.live import Gate, Live, gated_service, wait_for


@pytest.fixture
def service(settings: Settings, db: Database, tmp_path: Path) -> Iterator[tuple[Live, Gate, str]]:
    with gated_service(settings, tmp_path / "service") as running:
        yield running


def recorder() -> tuple[list[dict[str, Any]], Any]:
    """A processor that keeps what reaches it and drops it (nothing is sent)."""
    seen: list[dict[str, Any]] = []

    def record(event: dict[str, Any]) -> None:
        seen.append(event)

    return seen, record


def test_contexts_nest_and_unwind():
    seen, record = recorder()
    tracker = Tracker("http://127.0.0.1:9/api/v1", "ff_x", processors=[record], start=False)
    with tracker.context({"username": "asha", "source": "server"}):
        with tracker.context({"username": "ravi"}):
            tracker.emit("pageview", {"path": "/inner"})
        tracker.emit("pageview", {"path": "/outer", "source": "browser"})
    tracker.emit("pageview", {"path": "/none"})
    assert [(e["path"], e.get("username"), e.get("source")) for e in seen] == [
        ("/inner", "ravi", "server"),
        ("/outer", "asha", "browser"),  # the event's own fields win over the context
        ("/none", None, None),
    ]


def test_contexts_belong_to_their_thread_and_their_asyncio_task():
    seen, record = recorder()
    tracker = Tracker("http://127.0.0.1:9/api/v1", "ff_x", processors=[record], start=False)
    inside, outside = threading.Event(), threading.Event()

    def in_thread() -> None:
        with tracker.context({"username": "thread"}):
            inside.set()
            outside.wait(5)
            tracker.emit("pageview", {"path": "/thread"})

    thread = threading.Thread(target=in_thread)
    thread.start()
    inside.wait(5)
    tracker.emit("pageview", {"path": "/main"})  # the thread's context is not the main one's
    outside.set()
    thread.join()

    async def task(name: str, pause: float) -> None:
        with tracker.context({"username": name}):
            await asyncio.sleep(pause)
            tracker.emit("pageview", {"path": f"/{name}"})

    async def both() -> None:
        await asyncio.gather(task("first", 0.02), task("second", 0.0))

    asyncio.run(both())
    users = {e["path"]: e.get("username") for e in seen}
    assert users == {"/main": None, "/thread": "thread", "/first": "first", "/second": "second"}


def test_processors_change_or_drop_events_and_name_filters_allow_and_block(
    service: tuple[Live, Gate, str], db: Database
):
    _, _, url = service

    def tag(event: dict[str, Any]) -> dict[str, Any]:
        return {**event, "event_name": "event.tagged"} if event["kind"] == "pageview" else event

    tracker = Tracker(
        url,
        make_key(db, "ingest"),
        processors=[NameFilter(allow=["page", "exit"], block=["exit_"]), tag],
        flush_interval_s=0.05,
    )
    tracker.emit("pageview", {"path": "/kept"})
    tracker.emit("exit_link", {"url": "https://example.org/", "page": "/kept"})  # blocked
    tracker.emit("usage_log", {"tool_id": "t", "user_id": "u", "start_dt": "2026-01-01T00:00:00Z"})
    assert tracker.flush(10)
    tracker.close()
    view = wait_for(lambda: db.pageviews.find_one({"path": "/kept"}))
    assert view["event_name"] == "event.tagged"
    assert db.exit_links.count_documents({}) == 0 and db.usage_logs.count_documents({}) == 0
    assert tracker.stats.accepted == 1


def test_a_batch_footfall_did_not_take_is_sent_again_with_the_same_log_ids(
    service: tuple[Live, Gate, str], db: Database
):
    _, gate, url = service
    gate.close()
    tracker = Tracker(url, make_key(db, "ingest"), flush_interval_s=0.05, max_backoff_s=0.5)
    ids = [tracker.emit("pageview", {"path": f"/retried/{n}"}) for n in range(3)]
    assert wait_for(lambda: tracker.stats.failures >= 2, 10)
    assert tracker.pending() == 3
    gate.open()
    assert tracker.flush(15)
    tracker.close()
    stored = wait_for(lambda: db.pageviews.count_documents({"log_id": {"$in": ids}}) == 3 and ids)
    assert stored and db.pageviews.count_documents({"path": {"$regex": "^/retried/"}}) == 3
    assert (tracker.stats.accepted, tracker.stats.rejected) == (3, 0)


def test_a_rejected_item_is_counted_and_the_rest_of_its_batch_is_stored(
    service: tuple[Live, Gate, str], db: Database
):
    _, _, url = service
    tracker = Tracker(url, make_key(db, "ingest"), flush_interval_s=0.05)
    good = tracker.emit("pageview", {"path": "/good"})
    tracker.emit("pageview", {"path": "no-slash"})
    assert tracker.flush(10)
    tracker.close()
    assert (tracker.stats.accepted, tracker.stats.rejected) == (1, 1)
    assert wait_for(lambda: db.pageviews.find_one({"log_id": good}))


def test_what_is_left_at_exit_is_spooled_and_sent_by_the_next_tracker(
    service: tuple[Live, Gate, str], db: Database, tmp_path: Path
):
    _, gate, url = service
    key, spool = make_key(db, "ingest"), tmp_path / "footfall.spool"
    gate.close()
    first = Tracker(url, key, spool=spool, flush_interval_s=0.05, max_backoff_s=0.2)
    log_id = first.emit("pageview", {"path": f"/spooled/{uuid.uuid4().hex}"})
    first.close(timeout_s=0.5)  # Footfall is down: the event goes to the spool
    assert log_id in spool.read_text()
    gate.open()
    second = Tracker(url, key, spool=spool, flush_interval_s=0.05)
    assert second.flush(10)
    second.close()
    assert wait_for(lambda: db.pageviews.find_one({"log_id": log_id}))
    assert not spool.exists()
