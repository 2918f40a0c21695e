"""The flusher: moves events from the Redis streams into MongoDB, a batch at a time.

It is the other half of the data path (`footfall.ingest` is the first): it reads every
sink's stream, and hands each sink its entries (`footfall.sinks`): decode, prepare,
write. It knows no kind of event.

Run any number of them (`footfall flush`); each is a consumer of one group, so each
entry goes to one flusher. An entry is acked and deleted only after MongoDB holds its
document (or its dead letter), so a flusher killed at any point loses nothing: its
entries stay pending and another flusher claims them once they have been idle long
enough. Replays are harmless because `log_id` is unique and merges are idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

from pymongo.database import Database
from pymongo.errors import ConnectionFailure
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import (
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_any,
    wait_exponential_jitter,
)

from footfall import deadletters
from footfall.learners.queue import ErasureRecords
from footfall.metrics import flusher as metrics
from footfall.settings import Settings
from footfall.sinks import SINKS, Prepare, Sink
from footfall.store.streams import Entry, Streams
from footfall.store.writers import DeadLetter, TransientWriteError, Writer

log = logging.getLogger(__name__)
T = TypeVar("T")

MONGO_TRANSIENT = (ConnectionFailure, TransientWriteError)
REDIS_TRANSIENT = (RedisConnectionError, RedisTimeoutError)


class Flusher:
    def __init__(
        self, settings: Settings, redis: Redis, db: Database, sinks: Sequence[Sink] = SINKS
    ) -> None:
        self.settings = settings.flusher
        self.db = db
        self.streams = Streams(
            redis, settings.queue.stream_prefix, settings.queue.idempotency_ttl_s
        )
        self.consumer = self.settings.consumer_name
        self.sinks = {sink.stream: _Running(sink, settings, redis) for sink in sinks}
        self.collections = list(self.sinks)
        self.stopping = threading.Event()
        self.stored = 0
        self.dead = 0
        self._next_claim = 0.0

    def stop(self) -> None:
        """Finish the batch in hand, then return from `run` (the SIGTERM handler calls it)."""
        self.stopping.set()

    def run(self) -> None:
        log.info("flusher %s started", self.consumer)
        self._on_redis(lambda: self.streams.ensure_group(self.collections))
        # After a restart under the same name, first finish what this consumer held.
        batch = self._on_redis(lambda: self._read(pending=True)) or []
        while not self.stopping.is_set():
            batch = batch or (self._on_redis(self.next_batch) or [])
            if batch and not self.store(batch):
                break
            batch = []
        log.info("flusher %s stopped", self.consumer)

    def next_batch(self) -> list[Entry]:
        """Up to FLUSH_BATCH_SIZE entries; a partial batch once its first has waited long enough."""
        size, max_wait = self.settings.flush_batch_size, self.settings.flush_max_wait_ms / 1000
        entries = self._claim_stale()
        deadline = time.monotonic() + max_wait if entries else None
        while len(entries) < size and not self.stopping.is_set():
            wait = max_wait if deadline is None else deadline - time.monotonic()
            if wait <= 0:
                break
            got = self._read(count=size - len(entries), block_ms=max(1, int(wait * 1000)))
            if not got and deadline is None:
                break  # nothing is waiting: go round, so stop and claims are checked
            deadline = deadline or time.monotonic() + max_wait
            entries += got
        return entries

    def store(self, batch: Sequence[Entry]) -> bool:
        """Write the batch, retrying transient failures; ack it once MongoDB holds it.

        Returns False when told to stop before MongoDB took it: the entries then stay
        pending for this or another flusher.
        """
        retrying = Retrying(
            retry=retry_if_exception_type(MONGO_TRANSIENT),
            wait=wait_exponential_jitter(
                multiplier=0.1, max=self.settings.flush_retry_max_s, jitter=0.2
            ),
            stop=stop_any(lambda _: self.stopping.is_set()),
            before_sleep=_count_then(before_sleep_log(log, logging.WARNING), "mongodb"),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt, metrics.writing() as written:
                    dead = self._write(batch)
        except MONGO_TRANSIENT:
            log.warning("stopping with %d entries not stored; they stay pending", len(batch))
            return False
        self._on_redis(lambda: self.streams.done(batch))
        metrics.stored(batch, dead, written)
        self.stored += len(batch) - len(dead)
        self.dead += len(dead)
        return True

    def _write(self, batch: Sequence[Entry]) -> list[DeadLetter]:
        by_stream: dict[str, list[Entry]] = defaultdict(list)
        for entry in batch:
            by_stream[entry.collection].append(entry)
        dead: list[DeadLetter] = []
        for stream, entries in by_stream.items():
            dead += self.sinks[stream].store(self.db, entries)
        for letter in dead:
            log.warning(
                "dead letter %s %s: %s",
                letter.entry.collection,
                letter.entry.entry_id,
                letter.reason,
            )
        if dead:
            deadletters.bury(self.db, dead)
        refused = {id(letter.entry) for letter in dead}
        deadletters.resolve(self.db, [entry for entry in batch if id(entry) not in refused])
        return dead

    def _read(
        self, count: int | None = None, block_ms: int | None = None, *, pending: bool = False
    ) -> list[Entry]:
        count = count or self.settings.flush_batch_size
        return self.streams.read(self.collections, self.consumer, count, block_ms, pending=pending)

    def _claim_stale(self) -> list[Entry]:
        """Entries a dead flusher read but never acked, once they have idled long enough."""
        now = time.monotonic()
        if now < self._next_claim:
            return []
        idle_ms = self.settings.flush_claim_idle_ms
        self._next_claim = now + min(idle_ms / 2000, 5.0)
        claimed: list[Entry] = []
        for name in self.collections:
            room = self.settings.flush_batch_size - len(claimed)
            if room <= 0:
                break
            claimed += self.streams.claim(name, self.consumer, idle_ms, room)
        if claimed:
            log.info("claimed %d entries left pending by another flusher", len(claimed))
            metrics.claimed(claimed)
        return claimed

    def _on_redis(self, call: Callable[[], T]) -> T | None:
        """Run a Redis call, waiting out an outage (nothing is lost: entries stay in Redis).

        Always tried once, so the ack of a stored batch is sent even while stopping;
        gives up (None) only when an outage meets a stop.
        """
        delay = 0.1
        while True:
            try:
                return call()
            except REDIS_TRANSIENT as error:
                if self.stopping.is_set():
                    return None
                log.warning("Redis unavailable (%s); retrying in %.1f s", error, delay)
                metrics.retried("redis")
                self.stopping.wait(delay)
                delay = min(delay * 2, self.settings.flush_retry_max_s)


def _count_then(log_it: Callable[[RetryCallState], None], server: str) -> Callable[..., None]:
    def before_sleep(state: RetryCallState) -> None:
        metrics.retried(server)
        log_it(state)

    return before_sleep


class _Running:
    """A sink with its prepare step and writer built for this flusher."""

    def __init__(self, sink: Sink, settings: Settings, redis: Redis) -> None:
        self.sink = sink
        self.prepare: Prepare | None = sink.prepare(sink, settings, redis) if sink.prepare else None
        self.writer: Writer = sink.writer(sink, settings, redis)
        self.erasures = ErasureRecords(redis, settings.queue.stream_prefix)

    def store(self, db: Database, entries: Sequence[Entry]) -> list[DeadLetter]:
        decoded, dead = self.sink.decode(entries)
        decoded = self.erasures.keep(self.sink.collection, decoded)
        if self.prepare is not None:
            kept = {id(doc) for doc in self.prepare([doc for _, doc in decoded])}
            decoded = [(entry, doc) for entry, doc in decoded if id(doc) in kept]
        return dead + self.writer.write(db, decoded)
