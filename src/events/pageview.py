"""A page view, as a site's server middleware or the in-page script reports it."""

from __future__ import annotations

from typing import ClassVar

from footfall.events.base import Event, Received


class ClientFields(Event):
    """Who sent it (`username`, `ip`, `user_agent`): filled from the request when the body
    does not say, with what the API adds (`received_at`, `do_not_track`)."""

    learner_field: ClassVar[str | None] = "username"

    def fill(self, received: Received) -> None:
        super().fill(received)
        if self.ip is None and received.ip is not None:
            self.ip = received.ip  # type: ignore[assignment]
        if self.user_agent is None:
            self.user_agent = received.user_agent
        self.received_at = received.at
        self.do_not_track = received.do_not_track or None


class PageView(ClientFields, schema=("PageView", "Received")):
    kind: ClassVar[str] = "pageview"
    browser: ClassVar[bool] = True

    def fill(self, received: Received) -> None:
        super().fill(received)
        if self.visited_at is None:
            self.visited_at = received.at
