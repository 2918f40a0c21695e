"""What the core did, told to the metrics without knowing them: plain Python, no
prometheus-client (see `footfall.metrics`).

The API: the ingest core (`footfall.ingest`, no HTTP) calls `record` for each event it
judged; the middleware (`footfall.metrics.api`) opens a tally per request and counts it
afterwards, and counts by the answer's status the requests the core never saw (refused by
the key check, the rate limit, the spec or the body limit). The flusher: the writers and
the enricher say what they met (`duplicates`, `enrich_error`) in a tally opened per write
attempt, counted only for the attempt MongoDB took. A tally is handed down through a
context variable, which a handler's worker thread inherits.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["accepted", "duplicate", "rejected"]
#: Why an event was rejected: the event model or the spec (`schema`), its size, the key
#: (`auth`), the rate limit, a full queue, Redis down (`unavailable`).
Reason = Literal["schema", "size", "auth", "rate", "queue_full", "unavailable"]


@dataclass
class Tally:
    events: list[tuple[str, Outcome, Reason | None]] = field(default_factory=list)
    #: Inserts MongoDB already held, by collection.
    duplicates: dict[str, int] = field(default_factory=dict)
    enrich_errors: int = 0


current: ContextVar[Tally | None] = ContextVar("footfall_tally", default=None)


def record(kind: str, outcome: Outcome, reason: Reason | None = None) -> None:
    tally = current.get()
    if tally is not None:
        tally.events.append((kind, outcome, reason))


def duplicates(collection: str, count: int) -> None:
    tally = current.get()
    if tally is not None and count:
        tally.duplicates[collection] = tally.duplicates.get(collection, 0) + count


def enrich_error() -> None:
    tally = current.get()
    if tally is not None:
        tally.enrich_errors += 1
