"""One module per resource of the spec; each function is an operationId.

`queue_event` is the whole of a single-event ingest handler: the request's context,
the caller's identity and the app's queue handed to `footfall.ingest`.
"""

from __future__ import annotations

from typing import Any

from footfall import ingest
from footfall.events import Event
from footfall.security.identity import caller
from footfall.web.context import received, services
from footfall.web.responses import Answer


def queue_event(kind: type[Event], body: dict[str, Any]) -> Answer:
    """Validate, normalise and queue one event: 202 with its receipt, or a problem."""
    app = services()
    return ingest.one(
        kind,
        body,
        received(),
        app.streams,
        app.settings.max_event_bytes,
        app.settings.retry_after_s,
        caller(),
    )
