"""The scopes a key can hold, and which imply which.

Operations declare the scopes they need in the spec (`security: [{ApiKey: [read]}]`;
several requirement objects are alternatives). `guard` checks them, in one place.

`admin` implies `ingest` and `read`: whoever may delete data may also read and write it;
and `metrics`, which a monitoring system holds alone: counts, never an event.
`browser` is implied by no scope and implies none: it is not a smaller privilege but a
different trust (a public key, pinned to origins, naming learners only through signed
tokens), so an operation open to browsers lists `ingest` as the alternative for servers.
"""

from __future__ import annotations

from collections.abc import Iterable

INGEST = "ingest"
BROWSER = "browser"
READ = "read"
ADMIN = "admin"
METRICS = "metrics"

ALL: tuple[str, ...] = (INGEST, BROWSER, READ, ADMIN, METRICS)

_IMPLIES: dict[str, frozenset[str]] = {
    ADMIN: frozenset({ADMIN, INGEST, READ, METRICS}),
    METRICS: frozenset({METRICS}),
    INGEST: frozenset({INGEST}),
    READ: frozenset({READ}),
    BROWSER: frozenset({BROWSER}),
}


def granted(scopes: Iterable[str]) -> frozenset[str]:
    """Every scope a key holding `scopes` can use, implied ones included."""
    return frozenset().union(*(_IMPLIES.get(scope, frozenset()) for scope in scopes))


def satisfies(required: Iterable[str], scopes: Iterable[str]) -> bool:
    """True when a key holding `scopes` meets a requirement needing all of `required`."""
    return set(required) <= granted(scopes)
