"""What a handler needs from the app and the request, without globals.

The app factory builds one `Services` per process and keeps it on the Flask app;
handlers reach it through `services()`, so tests and workers each get their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import flask
from footfall.events import Received
from footfall.settings import Settings
from footfall.store.streams import Streams
from footfall.web.client import client_ip, do_not_track
from pymongo.database import Database
from redis import Redis

EXTENSION = "footfall"


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: Redis
    db: Database
    streams: Streams


def services() -> Services:
    return flask.current_app.extensions[EXTENSION]


def received() -> Received:
    """The request's own facts that fill an event's defaults."""
    request = flask.request
    settings = services().settings
    return Received(
        at=datetime.now(UTC),
        ip=client_ip(
            request.remote_addr, request.headers.get("X-Forwarded-For"), settings.trusted_proxies
        ),
        user_agent=request.headers.get("User-Agent"),
        do_not_track=do_not_track(request.headers.get("DNT"), request.headers.get("Sec-GPC")),
        future_tolerance=timedelta(seconds=settings.future_tolerance_s),
    )
