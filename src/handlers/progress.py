"""`/tutorial-progress` and `/tutorial-completion`: what a learner's player and buttons send."""

from __future__ import annotations

from typing import Any

from footfall import ingest
from footfall.events import Event, TutorialCompletion, TutorialProgress
from footfall.security.identity import caller
from footfall.web.context import received, services
from footfall.web.responses import Answer


def create(body: dict[str, Any]) -> Answer:
    return _queue(TutorialProgress, body)


def toggle(body: dict[str, Any]) -> Answer:
    return _queue(TutorialCompletion, body)


def _queue(kind: type[Event], body: dict[str, Any]) -> Answer:
    app = services()
    return ingest.one(
        kind,
        body,
        received(),
        app.streams,
        app.settings.max_event_bytes,
        app.settings.retry_after_s,
        caller(),
    )
