"""How long a page was looked at, as the in-page script reports it when the page is hidden.

A page view is stored when the page loads, before anyone knows how long it will be
read, and page views are append-only; so the time comes later as its own event, naming
the page view it measures. Each report is the visible time so far (a page hidden twice
reports twice): the page's duration is the largest report for its `pageview_log_id`.
"""

from __future__ import annotations

from typing import ClassVar

from footfall.events.base import Received
from footfall.events.pageview import ClientFields


class VisitDuration(ClientFields, schema=("VisitDuration", "Received")):
    kind: ClassVar[str] = "visit_duration"
    browser: ClassVar[bool] = True

    def fill(self, received: Received) -> None:
        super().fill(received)
        if self.at is None:
            self.at = received.at
