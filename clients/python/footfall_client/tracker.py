"""`Tracker`: emit events from any thread or task; a background thread sends them in batches.

Emitting never blocks on the network and never raises into the caller: events go to a
bounded in-memory queue (full: the oldest is dropped and counted), and one daemon thread
posts them to `/batch`. An item leaves the queue only when a receipt settles it; on a
network error, a 5xx or a 429 the batch stays at the front and is sent again, with the
same `log_id`s (so Footfall stores each once), after a backoff that honours `Retry-After`.
With `spool`, what is still queued is written to that file when sending fails and at
exit, and read back by the next Tracker using the same file.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from footfall_client.processors import Event, Processor
from footfall_client.transport import dumps, post_batch

log = logging.getLogger("footfall_client")


@dataclass
class Stats:
    """Counts since the tracker started: what Footfall answered, and what never left."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    #: Dropped because the queue was full (the oldest events go first).
    dropped: int = 0
    #: Batches that were not taken (network, 5xx, 429) and are retried.
    failures: int = 0


class Tracker:
    def __init__(
        self,
        url: str,
        key: str,
        *,
        processors: Iterable[Processor] = (),
        batch_size: int = 100,
        flush_interval_s: float = 1.0,
        max_queue: int = 10_000,
        timeout_s: float = 5.0,
        max_backoff_s: float = 60.0,
        spool: str | os.PathLike[str] | None = None,
        start: bool = True,
    ) -> None:
        """`url` is the API base (`https://footfall.example.org/api/v1`); `key` an ingest key."""
        self.batch_url = url.rstrip("/") + "/batch"
        self.key = key
        self.processors = list(processors)
        self.batch_size = max(1, min(batch_size, 500))
        self.flush_interval_s = flush_interval_s
        self.timeout_s = timeout_s
        self.max_backoff_s = max_backoff_s
        self.spool = Path(spool) if spool else None
        self.stats = Stats()
        self._queue: deque[Event] = deque()
        self._max_queue = max_queue
        self._lock = threading.Condition()
        self._context: ContextVar[Mapping[str, Any]] = ContextVar(
            f"footfall_{id(self)}", default=MappingProxyType({})
        )
        self._sending = 0  # items taken by the sender, not settled yet
        self._urgent = False  # flush() or close() asked: send partial batches at once
        self._retry_at = 0.0
        self._backoff = 0.0
        self._closed = False
        self._thread: threading.Thread | None = None
        self._load_spool()
        if start:
            self.start()

    # -- what callers use -------------------------------------------------------------

    def emit(self, kind: str, data: Mapping[str, Any] | None = None) -> str | None:
        """Queue one event of `kind` (a batch kind: pageview, exit_link, usage_log, ...):
        the fields of the current contexts, then `data`'s. Returns its `log_id`, or None
        when a processor dropped it."""
        try:
            event: Event | None = {**self._context.get(), **(data or {}), "kind": kind}
            event.setdefault("log_id", uuid.uuid4().hex)  # type: ignore[union-attr]
            for processor in self.processors:
                try:
                    event = processor(event)  # type: ignore[arg-type]
                except Exception:
                    log.exception("footfall processor %r failed; event kept as it was", processor)
                if event is None:
                    return None
            self._put(event)  # type: ignore[arg-type]
            return event["log_id"]  # type: ignore[index]
        except Exception:  # tracking must never break the caller
            log.exception("footfall: could not queue a %s event", kind)
            return None

    @contextlib.contextmanager
    def context(self, fields: Mapping[str, Any]) -> Iterator[None]:
        """Fields added to every event emitted inside the block, in this thread or task only
        (a `contextvars` variable: threads start empty, asyncio tasks inherit a copy).
        Nested blocks add to (and override) the outer ones; leaving one restores them."""
        token = self._context.set({**self._context.get(), **fields})
        try:
            yield
        finally:
            self._context.reset(token)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued so far is settled; False when time ran out."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            self._urgent = True
            self._lock.notify_all()
            while self._queue or self._sending:
                left = deadline - time.monotonic()
                if left <= 0 or not self._running():
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Send what is queued (for up to `timeout_s`), stop the thread, spool the rest."""
        if self._closed:
            return
        self.flush(timeout_s)
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._save_spool()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="footfall-sender", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    # -- the queue and the sender -------------------------------------------------------

    def _put(self, event: Event) -> None:
        with self._lock:
            self._queue.append(event)
            excess = len(self._queue) - self._max_queue
            for _ in range(max(0, excess)):
                self._queue.popleft()  # the oldest goes; the newest tell more about now
            if excess > 0:
                self.stats.dropped += excess
            if len(self._queue) >= self.batch_size:
                self._lock.notify_all()

    def _running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._lock:
                batch = self._take()
                if batch is None:
                    return
            self._send(batch)

    def _take(self) -> list[Event] | None:
        """Under the lock: the next batch once it is full, due or asked for, and no
        backoff holds it; None to stop."""
        waited_since = time.monotonic()
        while not self._closed:
            now = time.monotonic()
            ready = (
                len(self._queue) >= self.batch_size
                or self._urgent
                or now - waited_since >= self.flush_interval_s
            )
            if self._queue and ready and now >= self._retry_at:
                batch = [self._queue[i] for i in range(min(self.batch_size, len(self._queue)))]
                self._sending = len(batch)
                return batch
            wake = self._retry_at - now if self._retry_at > now else self.flush_interval_s
            self._lock.wait(max(0.01, min(wake, self.flush_interval_s)))
        return None

    def _send(self, batch: list[Event]) -> None:
        outcome = post_batch(self.batch_url, self.key, batch, self.timeout_s)
        with self._lock:
            self._sending = 0
            if outcome.retry:
                self.stats.failures += 1
                self._backoff = min(max(self._backoff * 2, 0.5), self.max_backoff_s)
                wait = outcome.retry_after_s
                if wait is None:
                    wait = self._backoff * random.uniform(0.5, 1.0)
                self._retry_at = time.monotonic() + wait
                log.warning(
                    "footfall: batch not taken (%s); retrying in %.1f s", outcome.detail[:200], wait
                )
                self._save_spool_locked()
            else:
                self._backoff = 0.0
                self._retry_at = 0.0
                # By identity: a full queue may have dropped some of them meanwhile.
                sent = {id(event) for event in batch}
                self._queue = deque(e for e in self._queue if id(e) not in sent)
                if not self._queue:
                    self._urgent = False
                for status in outcome.statuses:
                    if status in ("accepted", "duplicate", "rejected"):
                        setattr(self.stats, status, getattr(self.stats, status) + 1)
                if "rejected" in outcome.statuses:
                    log.warning("footfall rejected events: %s", outcome.detail[:500] or "receipts")
                if self.spool is not None and not self._queue:
                    self.spool.unlink(missing_ok=True)
            self._lock.notify_all()

    # -- the spool ----------------------------------------------------------------------

    def _load_spool(self) -> None:
        if self.spool is None or not self.spool.exists():
            return
        try:
            for line in self.spool.read_text().splitlines():
                if line.strip():
                    self._queue.append(json.loads(line))
        except (OSError, ValueError):
            log.exception("footfall: spool %s unreadable; it is left as it is", self.spool)

    def _save_spool(self) -> None:
        with self._lock:
            self._save_spool_locked()

    def _save_spool_locked(self) -> None:
        if self.spool is None:
            return
        try:
            if not self._queue:
                self.spool.unlink(missing_ok=True)
                return
            partial = self.spool.with_name(self.spool.name + ".tmp")
            partial.write_bytes(b"".join(dumps(event) + b"\n" for event in self._queue))
            os.replace(partial, self.spool)  # a crash leaves the old spool or the new one
        except OSError:
            log.exception("footfall: could not write the spool %s", self.spool)

    def snapshot(self) -> dict[str, int]:
        """The stats as a dict, with what is queued now."""
        with self._lock:
            return {**asdict(self.stats), "queued": len(self._queue)}
