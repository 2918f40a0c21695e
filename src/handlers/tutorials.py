"""`/tutorial-progress` and `/tutorial-completion`: what a learner's player and buttons send."""

from __future__ import annotations

from typing import Any

from footfall.events import TutorialCompletion, TutorialProgress
from footfall.handlers import queue_event
from footfall.security.ratelimit import draws_with_enqueue
from footfall.web.bridge import on_loop
from footfall.web.responses import Answer


@on_loop
@draws_with_enqueue
def create(body: dict[str, Any]) -> Answer:
    return queue_event(TutorialProgress, body)


@on_loop
@draws_with_enqueue
def toggle(body: dict[str, Any]) -> Answer:
    return queue_event(TutorialCompletion, body)
