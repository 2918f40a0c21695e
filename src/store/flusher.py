"""The flusher: moves events from the Redis streams into MongoDB, a batch at a time.

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
from pymongo.errors import BulkWriteError, ConnectionFailure
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_any,
    wait_exponential_jitter,
)

from footfall.enrich import Enricher
from footfall.events import KINDS
from footfall.settings import Settings
from footfall.stats.rollup import Rollups
from footfall.store.collections import DEAD_LETTERS, EXIT_LINKS, PAGEVIEWS, STREAMED
from footfall.store.streams import Entry, Streams
from footfall.store.writers import (
    DUPLICATE_KEY,
    AfterStore,
    DeadLetter,
    Prepare,
    TransientWriteError,
    write,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

MONGO_TRANSIENT = (ConnectionFailure, TransientWriteError)
REDIS_TRANSIENT = (RedisConnectionError, RedisTimeoutError)


class Flusher:
    def __init__(self, settings: Settings, redis: Redis, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.streams = Streams(redis, settings.stream_prefix, settings.idempotency_ttl_s)
        self.consumer = settings.consumer_name
        self.collections = list(STREAMED)
        self.decoders = {kind.collection: kind.decode for kind in KINDS.values()}
        enricher = Enricher(settings, redis)
        # Statistics: page views and exit links are counted into the rollups once stored.
        rollups = Rollups(db, redis, settings.stream_prefix, settings.stats_compact_s)
        self.preparers: dict[str, Prepare] = {
            PAGEVIEWS.name: lambda docs: rollups.prepare(enricher.enrich(docs)),
            EXIT_LINKS.name: rollups.prepare,
        }
        self.after: dict[str, AfterStore] = {
            PAGEVIEWS.name: rollups.after_store,
            EXIT_LINKS.name: rollups.after_store,
        }
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
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    dead = self._write(batch)
        except MONGO_TRANSIENT:
            log.warning("stopping with %d entries not stored; they stay pending", len(batch))
            return False
        self._on_redis(lambda: self.streams.done(batch))
        self.stored += len(batch) - len(dead)
        self.dead += len(dead)
        return True

    def _write(self, batch: Sequence[Entry]) -> list[DeadLetter]:
        by_collection: dict[str, list[Entry]] = defaultdict(list)
        for entry in batch:
            by_collection[entry.collection].append(entry)
        dead: list[DeadLetter] = []
        for name, entries in by_collection.items():
            dead += write(
                self.db[name],
                STREAMED[name],
                self.decoders[name],
                entries,
                self.settings,
                self.preparers.get(name),
                self.after.get(name),
            )
        if dead:
            self._bury(dead)
        return dead

    def _bury(self, dead: list[DeadLetter]) -> None:
        for letter in dead:
            log.warning(
                "dead letter %s %s: %s",
                letter.entry.collection,
                letter.entry.entry_id,
                letter.reason,
            )
        try:
            self.db[DEAD_LETTERS.name].insert_many([d.document() for d in dead], ordered=False)
        except BulkWriteError as error:
            if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise TransientWriteError("dead letters not stored") from error

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
                self.stopping.wait(delay)
                delay = min(delay * 2, self.settings.flush_retry_max_s)
