"""A page view, as a site's server middleware or the in-page script reports it."""

from __future__ import annotations

from typing import Any, ClassVar, get_args

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
        # Hints describe the same client as the user agent: they are taken from the
        # request only when the user agent is too, never mixed with a body's own agent.
        agent_from_request = self.user_agent is None
        super().fill(received)
        if agent_from_request and self.client_hints is None and received.client_hints:
            hints = type(self).model_fields["client_hints"].annotation
            self.client_hints = _model_of(hints).model_validate(received.client_hints)
        if self.visited_at is None:
            self.visited_at = received.at


def _model_of(annotation: Any) -> Any:
    """The model inside `Model | None`."""
    return next(arg for arg in get_args(annotation) if arg is not type(None))
