"""Erasures the queue honours: an event accepted before a learner's erasure is dropped
when a flusher meets it; an event accepted after it is new data and is stored.

An erasure is recorded in Redis (one hash, `<prefix>:erasures`: the learner's name, as
`username:<name>` or `user_id:<id>`, to the erasure's time in ms, by Redis's own clock).
A stream entry's id starts with the time Redis accepted it, by the same clock, so "before
the erasure" is exact: an entry id whose time is at or before the record's. The flusher
checks each batch's learners with one HMGET (`keep`), on every attempt to write it, so a
batch it retries after an erasure is checked again. A record is forgotten once no stream
holds an entry from before it (`forget_settled`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any

from redis import Redis
from redis.exceptions import RedisError, ResponseError

from footfall.learners.subject import record_name
from footfall.store.collections import Collection
from footfall.store.streams import GROUP, Entry
from footfall.store.writers import TransientWriteError

# Atomically: the time by Redis's clock, recorded for every name (a later erasure of the
# same learner moves it forward, never back). Returns the time in ms.
_RECORD = """
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, name in ipairs(ARGV) do
  local old = tonumber(redis.call('HGET', KEYS[1], name) or '0')
  if ms > old then redis.call('HSET', KEYS[1], name, ms) end
end
return ms
"""

Decoded = list[tuple[Entry, dict[str, Any]]]


def accepted_ms(entry_id: str) -> int:
    """When Redis accepted a stream entry: the time part of its id."""
    return int(entry_id.partition("-")[0])


class ErasureRecords:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.key = f"{prefix}:erasures"
        self._record = redis.register_script(_RECORD)

    def record(self, names: Sequence[str]) -> int:
        """Record an erasure of these names now; returns its time (ms, Redis's clock)."""
        return int(self._record(keys=[self.key], args=list(names)))

    def now_ms(self) -> int:
        seconds, micros = self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    def keep(self, collection: Collection, decoded: Decoded) -> Decoded:
        """The batch without the events of learners erased after the event was accepted."""
        if collection.learner is None or not decoded:
            return decoded
        names = [_name(collection, doc) for _, doc in decoded]
        wanted = sorted({name for name in names if name is not None})
        if not wanted:
            return decoded
        try:
            found = self.redis.hmget(self.key, wanted)
        except RedisError as error:  # unknown: the batch waits (pending) and is retried
            raise TransientWriteError("erasure records cannot be read") from error
        erased = {name: int(at) for name, at in zip(wanted, found, strict=True) if at is not None}
        if not erased:
            return decoded
        return [
            (entry, doc)
            for (entry, doc), name in zip(decoded, names, strict=True)
            if name not in erased or accepted_ms(entry.entry_id) > erased[name]
        ]

    def in_flight(self, streams: Iterable[str], at_ms: int) -> int:
        """Entries a flusher was handed at or before `at_ms` and has not acked yet: it may
        have checked the erasure records before the erasure was recorded."""
        idle_ms = max(0, self.now_ms() - at_ms)
        held = 0
        for stream in streams:
            with suppress(ResponseError):  # no stream or group yet: nothing held
                held += len(
                    self.redis.xpending_range(
                        stream, GROUP, min="-", max=str(at_ms), count=10_000, idle=idle_ms
                    )
                )
        return held

    def forget_settled(self, streams: Iterable[str]) -> int:
        """Forget the records older than every entry still queued; returns how many."""
        oldest = math.inf
        for stream in streams:
            first = self.redis.xrange(stream, "-", "+", count=1)
            if first:
                entry_id = first[0][0]
                oldest = min(oldest, accepted_ms(_text(entry_id)))
        settled = [name for name, at in self.redis.hgetall(self.key).items() if int(at) < oldest]
        if settled:
            self.redis.hdel(self.key, *settled)
        return len(settled)


def _name(collection: Collection, doc: dict[str, Any]) -> str | None:
    """The learner a decoded message names. A usage-log change carries its fields under
    `fields` (footfall.events.usage_log.UsageLogChange.document)."""
    assert collection.learner is not None
    field = collection.learner.field
    value = doc.get(field, (doc.get("fields") or {}).get(field))
    return record_name(collection.learner.identity, value) if isinstance(value, str) else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
