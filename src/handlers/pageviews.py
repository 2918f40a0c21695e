"""`/pageviews`: a page view from a site's middleware or the in-page script."""

from __future__ import annotations

from typing import Any

from footfall import ingest
from footfall.events import PageView
from footfall.security.identity import caller
from footfall.web.context import received, services
from footfall.web.responses import Answer


def create(body: dict[str, Any]) -> Answer:
    app = services()
    return ingest.one(
        PageView,
        body,
        received(),
        app.streams,
        app.settings.max_event_bytes,
        app.settings.retry_after_s,
        caller(),
    )
