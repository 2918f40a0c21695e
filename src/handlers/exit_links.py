"""`/exit-links`: a click on a link that leaves the site."""

from __future__ import annotations

from typing import Any

from footfall.events import ExitLink
from footfall.handlers import queue_event
from footfall.security.ratelimit import draws_with_enqueue
from footfall.web.bridge import on_loop
from footfall.web.responses import Answer


@on_loop
@draws_with_enqueue
def create(body: dict[str, Any]) -> Answer:
    return queue_event(ExitLink, body)
