"""A flusher's metrics: batches, entries stored and dead-lettered, duplicates, enrichment
errors, write latency, claims and retries while MongoDB (or Redis) is down.

One flusher per process: the values live in the process's default registry, served on
FLUSH_METRICS_PORT with the queue's (`serve`). They are counted for the write attempt
MongoDB took (`writing`), so a retried batch counts once.
"""

from __future__ import annotations

import time
from collections import Counter as Tallied
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from redis import Redis

from footfall.metrics import tally
from footfall.metrics.queue import QueueCollector
from footfall.settings import Settings
from footfall.store.streams import Entry
from footfall.store.writers import DeadLetter

BATCHES = Counter("footfall_flusher_batches", "Batches stored (and acked).")
ENTRIES = Counter(
    "footfall_flusher_entries",
    "Stream entries acked, by stream and outcome: stored (MongoDB holds it, or"
    " DNT_POLICY=drop left it out) or dead_letter.",
    ["stream", "outcome"],
)
DUPLICATES = Counter(
    "footfall_flusher_duplicates",
    "Inserts MongoDB already held (replays), by collection; part of the stored entries.",
    ["collection"],
)
ENRICH_ERRORS = Counter(
    "footfall_flusher_enrich_errors", "Enrichment steps that failed (the view is stored)."
)
WRITE_SECONDS = Histogram(
    "footfall_flusher_write_seconds", "Time MongoDB took to store a batch (its last attempt)."
)
CLAIMS = Counter(
    "footfall_flusher_claimed_entries",
    "Entries claimed from a flusher that left them pending too long, by stream.",
    ["stream"],
)
RETRIES = Counter(
    "footfall_flusher_retries",
    "Waits before trying again while a server is down, by server (mongodb, redis).",
    ["server"],
)


@dataclass
class Attempt:
    recorded: tally.Tally = field(default_factory=tally.Tally)
    seconds: float = 0.0


@contextmanager
def writing() -> Iterator[Attempt]:
    """One write attempt: what the writers and the enricher tell, and how long it took."""
    attempt = Attempt()
    token = tally.current.set(attempt.recorded)
    started = time.perf_counter()
    try:
        yield attempt
    finally:
        attempt.seconds = time.perf_counter() - started
        tally.current.reset(token)


def stored(batch: Sequence[Entry], dead: Sequence[DeadLetter], attempt: Attempt) -> None:
    """A batch MongoDB took, once acked."""
    BATCHES.inc()
    WRITE_SECONDS.observe(attempt.seconds)
    refused = Tallied(letter.entry.collection for letter in dead)
    for stream, count in Tallied(entry.collection for entry in batch).items():
        ENTRIES.labels(stream, "stored").inc(count - refused[stream])
    for stream, count in refused.items():
        ENTRIES.labels(stream, "dead_letter").inc(count)
    for collection, count in attempt.recorded.duplicates.items():
        DUPLICATES.labels(collection).inc(count)
    ENRICH_ERRORS.inc(attempt.recorded.enrich_errors)


def claimed(entries: Sequence[Entry]) -> None:
    for stream, count in Tallied(entry.collection for entry in entries).items():
        CLAIMS.labels(stream).inc(count)


def retried(server: str) -> None:
    RETRIES.labels(server).inc()


def serve(settings: Settings, redis: Redis, streams: list[str]) -> None:
    """This flusher's metrics and the queue's on FLUSH_METRICS_PORT (when set), no key."""
    port = settings.metrics.flush_metrics_port
    if port is None:
        return
    REGISTRY.register(QueueCollector(redis, settings.queue.stream_prefix, streams))
    start_http_server(port, addr=settings.metrics.metrics_host)
