"""One module per resource of the spec; each function is an operationId.

Handlers are the HTTP side of the data path: they hand the request's body, context and
caller to `footfall.ingest` or `footfall.reads`, and turn what comes back (receipts,
documents, domain errors) into answers and problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from footfall.events import Event
from footfall.ingest import QueueFull, QueueUnavailable, Refused
from footfall.security.identity import caller
from footfall.security.ratelimit import RateLimited, too_many
from footfall.web.context import received, services
from footfall.web.problems import Forbidden, Invalid, Overloaded, TooLarge, Unavailable
from footfall.web.responses import Answer, answer


def queue_event(kind: type[Event], body: dict[str, Any]) -> Answer:
    """Validate, normalise and queue one event: 202 with its receipt, or a problem."""
    with ingest_problems():
        receipt = services().ingest.one(kind, body, received(), caller())
    return answer(receipt.json(), 202)


@contextmanager
def ingest_problems() -> Iterator[None]:
    """The ingest core's domain errors as HTTP problems."""
    retry_after_s = services().settings.api.retry_after_s
    try:
        yield
    except Refused as refused:
        if refused.reason == "denied":
            raise Forbidden(refused.errors[0]["detail"], refused.errors) from None
        if refused.reason == "too_large":
            limit = services().ingest.max_event_bytes
            raise TooLarge("the event", refused.size or 0, limit) from None
        raise Invalid(refused.errors) from None
    except QueueUnavailable:
        raise Unavailable("Redis", retry_after_s) from None
    except QueueFull as full:
        raise Overloaded(full.collection, retry_after_s) from None
    except RateLimited as limited:
        raise too_many(limited.wait_ms) from None
