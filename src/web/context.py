"""What a handler needs from the app and the request, without globals.

The app factory builds one `Services` per process and keeps it on the Flask app;
handlers reach it through `services()`, so tests and workers each get their own. Code
that runs before Flask (the security guard) finds it on the ASGI scope, where
`ProvideServices` puts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import flask
from pymongo.database import Database
from redis import Redis
from starlette.types import ASGIApp, Receive, Scope, Send

from footfall.events import Received, clienthints
from footfall.settings import Settings
from footfall.store.streams import Streams
from footfall.web.client import client_ip, do_not_track

if TYPE_CHECKING:
    from footfall.ingest import Ingest
    from footfall.security.keystore import KeyStore

EXTENSION = "footfall"
SCOPE_KEY = "footfall.services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: Redis
    db: Database
    streams: Streams
    ingest: Ingest
    keys: KeyStore


def services() -> Services:
    return flask.current_app.extensions[EXTENSION]


def scope_services(scope: Scope) -> Services:
    return scope[SCOPE_KEY]


class ProvideServices:
    """ASGI middleware: this app's Services on every request's scope."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[SCOPE_KEY] = self.services
        await self.app(scope, receive, send)


def received() -> Received:
    """The request's own facts that fill an event's defaults."""
    request = flask.request
    return Received(
        at=datetime.now(UTC),
        ip=client_ip(
            request.remote_addr,
            request.headers.get("X-Forwarded-For"),
            services().settings.api.trusted_proxies,
        ),
        user_agent=request.headers.get("User-Agent"),
        client_hints=clienthints.from_request(request.headers),
        do_not_track=do_not_track(request.headers.get("DNT"), request.headers.get("Sec-GPC")),
    )
