"""`/pageviews`: a page view from a site's middleware or the in-page script."""

from __future__ import annotations

from typing import Any

from footfall.events import PageView
from footfall.handlers import queue_event
from footfall.web.bridge import on_loop
from footfall.web.responses import Answer


@on_loop
def create(body: dict[str, Any]) -> Answer:
    return queue_event(PageView, body)
