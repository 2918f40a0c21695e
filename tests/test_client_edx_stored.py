"""The real `event-tracking` package with Footfall's backend: events are stored.

Needs the server-side `edx_event` kind (issue 12); skipped while the server does not
know that kind (its batch answers `unknown kind`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eventtracking.tracker import Tracker as EdxTracker
from footfall_client.edx import FootfallBackend
from pymongo.database import Database

from footfall.settings import Settings
from footfall.sinks import KINDS
from tests.conftest import make_key
from tests.live import gated_service, wait_for

pytestmark = pytest.mark.skipif(
    "edx_event" not in KINDS, reason="needs the edx_event kind (issue 12)"
)


def test_event_tracking_events_are_stored_through_the_backend(
    settings: Settings, db: Database, tmp_path: Path
):
    with gated_service(settings, tmp_path / "service") as (_, _, url):
        backend = FootfallBackend(url=url, key=make_key(db, "ingest"), flush_interval_s=0.05)
        tracker = EdxTracker(backends={"footfall": backend})
        with tracker.context("course", {"course_id": "course-v1:IITB+Py101+2026"}):
            tracker.emit("edx.course.enrollment.activated", {"mode": "audit"})
        assert backend.tracker.flush(10)
        backend.tracker.close()
        assert backend.tracker.stats.accepted == 1, backend.tracker.snapshot()
        names = db.list_collection_names()
        assert wait_for(
            lambda: any(
                db[name].find_one({"name": "edx.course.enrollment.activated"}) for name in names
            )
        )
