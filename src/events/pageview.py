"""A page view, as a site's server middleware or the in-page script reports it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, IPvAnyAddress, field_serializer

from footfall.events.base import (
    Event,
    FreeList,
    FreeObject,
    Identifier,
    LongText,
    Received,
    ShortText,
    UtcTime,
)
from footfall.events.clienthints import ClientHints

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]


class ClientFields(Event):
    """Who sent it: filled from the request when the body does not say."""

    learner_field: ClassVar[str | None] = "username"

    username: Annotated[str, Field(min_length=1, max_length=150)] | None = None
    ip: IPvAnyAddress | None = None
    user_agent: Annotated[str, Field(max_length=1024)] | None = None
    received_at: datetime | None = None
    do_not_track: bool | None = None

    def fill(self, received: Received) -> None:
        super().fill(received)
        if self.ip is None and received.ip is not None:
            self.ip = received.ip  # type: ignore[assignment]
        if self.user_agent is None:
            self.user_agent = received.user_agent
        self.received_at = received.at
        self.do_not_track = received.do_not_track or None

    @field_serializer("ip")
    def _ip_text(self, ip: IPvAnyAddress | None) -> str | None:
        return None if ip is None else str(ip)


class PageView(ClientFields):
    kind: ClassVar[str] = "pageview"
    collection: ClassVar[str] = "pageviews"
    browser: ClassVar[bool] = True

    source: Literal["server", "browser"] = "server"
    path: Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^/")]
    method: Method = "GET"
    visited_at: UtcTime | None = None
    referrer: LongText | None = None
    page_title: ShortText | None = None
    first_visit: bool | None = None
    visitor_id: Identifier | None = None
    view_args: FreeList | None = None
    view_kwargs: FreeObject | None = None
    request_data: FreeObject | None = None
    event_name: Identifier | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    client_hints: ClientHints | None = None

    def fill(self, received: Received) -> None:
        # Hints describe the same client as the user agent: they are taken from the
        # request only when the user agent is too, never mixed with a body's own agent.
        agent_from_request = self.user_agent is None
        super().fill(received)
        if agent_from_request and self.client_hints is None and received.client_hints:
            self.client_hints = ClientHints.model_validate(received.client_hints)
        if self.visited_at is None:
            self.visited_at = received.at
