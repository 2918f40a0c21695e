"""`/exit-links`: a click on a link that leaves the site."""

from __future__ import annotations

from typing import Any

from footfall import ingest
from footfall.events import ExitLink
from footfall.security.identity import caller
from footfall.web.context import received, services
from footfall.web.responses import Answer


def create(body: dict[str, Any]) -> Answer:
    app = services()
    return ingest.one(
        ExitLink,
        body,
        received(),
        app.streams,
        app.settings.max_event_bytes,
        app.settings.retry_after_s,
        caller(),
    )
