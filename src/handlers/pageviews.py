"""`/pageviews`: a page view from a site's middleware or the in-page script."""

from __future__ import annotations

from typing import Any

from footfall.events import PageView
from footfall.handlers import queue_event
from footfall.security.ratelimit import draws_with_enqueue
from footfall.web.bridge import on_loop
from footfall.web.responses import Answer


@on_loop
@draws_with_enqueue
def create(body: dict[str, Any]) -> Answer:
    return queue_event(PageView, body)
