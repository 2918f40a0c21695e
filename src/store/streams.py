"""The queue: one Redis Stream per collection, read by the flushers' consumer group.

The API appends (`enqueue`); flushers read, claim what a dead flusher left pending, and
remove an entry (`XACK` + `XDEL`) only once MongoDB holds its document.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.commands.core import AsyncScript
from redis.crc import key_slot
from redis.exceptions import ResponseError

from footfall import awaiting
from footfall.security.ratelimit import DRAW_LUA, TAKE_LUA, Draw, RateLimited
from footfall.store import scripts

GROUP = "flushers"
#: On a Cluster, how often a flusher that found nothing looks again (a blocking read
#: cannot span streams in several hash slots).
CLUSTER_POLL_S = 0.02

# Atomically: remember a client's log_id (unless seen within the TTL) and append.
# Returns the new entry id, or nil for a log_id already accepted.
_ENQUEUE_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  return redis.call('XADD', KEYS[1], '*', 'd', ARGV[1])
end
return false
"""

# Atomically: ack and delete a stream's stored entries (KEYS[1]: the stream).
_DONE = """
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
"""


# One write with its request's rate-limit draw (footfall.security.ratelimit), in one
# round trip. KEYS: the n buckets, the stream, and the seen key when the client chose
# the log_id. ARGV: per_s and burst of each bucket, the payload, the TTL, then n.
# Returns 1 (added), 0 (a duplicate log_id) or -wait_ms (refused: nothing taken, nothing
# added).
_DRAW_THEN_ENQUEUE = (
    DRAW_LUA
    + """
local n = tonumber(ARGV[#ARGV])
local wait = draw(n)
if wait > 0 then return -wait end
if KEYS[n + 2] and not redis.call('SET', KEYS[n + 2], '1', 'NX', 'EX', ARGV[2 * n + 2]) then
  return 0
end
redis.call('XADD', KEYS[n + 1], '*', 'd', ARGV[2 * n + 1])
return 1
"""
)


#: The scripts of the API side, by the name a `_Call` gives.
_SCRIPTS = {
    "enqueue_once": _ENQUEUE_ONCE,
    "draw_then_enqueue": _DRAW_THEN_ENQUEUE,
    "take": TAKE_LUA,
}


@dataclass(frozen=True)
class _Call:
    """One command of a round trip: a script of `_SCRIPTS`, `xadd` (keys: the stream;
    args: the payload) or `xlen` (keys: the stream)."""

    name: str
    keys: list[str]
    args: list[Any]


R = TypeVar("R")
#: Steps of a queue operation: each yields the calls of one round trip, gets their replies.
_Steps = Generator[list[_Call], list[Any], R]


@dataclass(frozen=True)
class Message:
    """An event on its way to a collection.

    `once_id` is the client's own log_id: a message with one is queued only if that id
    was not queued within IDEMPOTENCY_TTL_S. Ids the server made cannot repeat.
    """

    collection: str
    payload: bytes
    once_id: str | None = None


@dataclass(frozen=True)
class Entry:
    collection: str
    entry_id: str
    payload: bytes
    #: A replayed dead letter (`footfall.deadletters`): the entry id it was first queued
    #: under, which stays its identity (its dead letter, its merge version).
    origin_id: str | None = None

    @property
    def first_id(self) -> str:
        """The id the event was first queued under: its own, or that of the entry it replays."""
        return self.origin_id or self.entry_id


class QueueFull(Exception):
    """A stream holds `max_length` entries or more: the API answers 503, Redis stays bounded."""

    def __init__(self, collection: str) -> None:
        super().__init__(collection)
        self.collection = collection


class Streams:
    """The queue. With `max_length`, `enqueue` refuses (QueueFull) while a stream is that
    long: the length is read (XLEN, O(1)) at most every `check_ms` per stream and process,
    so the bound costs no round trip per request and may be passed by what arrives in
    that interval."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        idempotency_ttl_s: int,
        max_length: int | None = None,
        check_ms: int = 250,
        make_async: Callable[[], AsyncRedis] | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.idempotency_ttl_s = idempotency_ttl_s
        self.max_length = max_length
        self.check_s = check_ms / 1000
        self._lengths: dict[str, tuple[float, int]] = {}
        self._scripts = {name: redis.register_script(lua) for name, lua in _SCRIPTS.items()}
        self._done = redis.register_script(_DONE)
        self.cluster = scripts.is_cluster(redis)
        self._make_async = make_async
        self._async: tuple[asyncio.AbstractEventLoop, AsyncRedis, dict[str, AsyncScript]] | None
        self._async = None

    def stream(self, collection: str) -> str:
        return f"{self.prefix}:{collection}"

    def seen_key(self, collection: str, log_id: str) -> str:
        """In its stream's hash slot: the tag is the stream's name (see footfall.store.scripts)."""
        return f"{{{self.stream(collection)}}}:seen:{log_id}"

    # The API side

    def enqueue(self, messages: Sequence[Message], draw: Draw | None = None) -> list[bool]:
        """Append all messages in one round trip; False where the log_id was seen already.

        With the request's rate-limit `draw` (not made yet), the draw comes first and
        `RateLimited` means nothing was appended. With one message, draw and append are
        one script where every key it touches may be given to one script: always on one
        Redis; on a Cluster only when they hash to one slot, which a key's buckets
        (`{<key id>}`) and a stream (its own name) do not, since the buckets are shared
        by every stream. Otherwise (a batch, a Cluster) the draw is a round trip of its own
        before the append.

        On the event loop (an ingest handler, `footfall.awaiting`) each round trip is
        awaited with the async client, so the worker serves other requests meanwhile;
        elsewhere (tests, the CLI, a thread) it is a plain blocking call. The steps are
        the same either way (`_enqueue` says them, `_round_trip` makes them).
        """
        steps = self._enqueue(messages, draw)
        reply: Any = None
        try:
            while True:
                reply = self._round_trip(steps.send(reply))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def _enqueue(self, messages: Sequence[Message], draw: Draw | None) -> _Steps[list[bool]]:
        yield from self._refuse_when_full({message.collection for message in messages})
        if draw is not None and not draw.made:
            draw.made = True
            if len(messages) == 1:
                message = messages[0]
                keys = self._drawn_with_keys(message, draw)
                if self._one_script_may_hold(keys):
                    args = [*draw.args, message.payload, self.idempotency_ttl_s, len(draw.keys)]
                    [added] = yield [_Call("draw_then_enqueue", keys, args)]
                    if int(added) < 0:
                        raise RateLimited(-int(added))
                    return [int(added) == 1]
            [wait] = yield [_Call("take", draw.keys, draw.args)]
            if int(wait):
                raise RateLimited(int(wait))
        if not messages:
            return []
        calls = []
        for message in messages:
            stream = self.stream(message.collection)
            if message.once_id is None:
                calls.append(_Call("xadd", [stream], [message.payload]))
            else:
                keys = [stream, self.seen_key(message.collection, message.once_id)]
                calls.append(_Call("enqueue_once", keys, [message.payload, self.idempotency_ttl_s]))
        replies = yield calls
        return [reply is not None for reply in replies]

    def _round_trip(self, calls: list[_Call]) -> list[Any]:
        """Send `calls` together (a pipeline when there are several); their replies."""
        if self._make_async is not None and awaiting.bridged():
            return awaiting.wait_for(self._async_round_trip(calls))
        if len(calls) == 1:
            return [self._call(calls[0], self.redis)]
        pipe = self.redis.pipeline(transaction=False)
        for call in calls:
            if call.name in _SCRIPTS:
                scripts.queue_call(self._scripts[call.name], pipe, call.keys, call.args)
            else:
                self._call(call, pipe)
        return list(pipe.execute())

    def _call(self, call: _Call, client: Any) -> Any:
        if call.name in _SCRIPTS:
            return self._scripts[call.name](keys=call.keys, args=call.args, client=client)
        if call.name == "xlen":
            return client.xlen(call.keys[0])
        return client.xadd(call.keys[0], {"d": call.args[0]})

    async def _async_round_trip(self, calls: list[_Call]) -> list[Any]:
        client, registered = self._async_client()
        if len(calls) == 1:
            call = calls[0]
            if call.name in _SCRIPTS:
                return [await registered[call.name](keys=call.keys, args=call.args)]
            if call.name == "xlen":
                return [await client.xlen(call.keys[0])]
            return [await client.xadd(call.keys[0], {"d": call.args[0]})]
        pipe = client.pipeline(transaction=False)
        for call in calls:
            if call.name in _SCRIPTS:
                await registered[call.name](keys=call.keys, args=call.args, client=pipe)
            elif call.name == "xlen":
                pipe.xlen(call.keys[0])
            else:
                pipe.xadd(call.keys[0], {"d": call.args[0]})
        return list(await pipe.execute())

    def _async_client(self) -> tuple[AsyncRedis, dict[str, AsyncScript]]:
        """This loop's async client (one per loop: a connection belongs to the loop that
        opened it; a worker has one loop, a test client one per request)."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            assert self._make_async is not None
            client = self._make_async()
            registered = {name: client.register_script(lua) for name, lua in _SCRIPTS.items()}
            self._async = (loop, client, registered)
        return self._async[1], self._async[2]

    def requeue(self, entries: Sequence[Entry]) -> None:
        """Queue stored entries again (a dead letter's replay), each naming the entry it
        replays (`o`), so that its identity stays that of its first queueing."""
        pipe = self.redis.pipeline(transaction=False)
        for entry in entries:
            pipe.xadd(self.stream(entry.collection), {"d": entry.payload, "o": entry.first_id})
        pipe.execute()

    def _drawn_with_keys(self, message: Message, draw: Draw) -> list[str]:
        keys = [*draw.keys, self.stream(message.collection)]
        if message.once_id is not None:
            keys.append(self.seen_key(message.collection, message.once_id))
        return keys

    def _one_script_may_hold(self, keys: Sequence[str]) -> bool:
        """One Redis runs a script over any keys; a Cluster only over keys of one slot."""
        return not self.cluster or len({key_slot(key.encode()) for key in keys}) == 1

    def _refuse_when_full(self, collections: Iterable[str]) -> _Steps[None]:
        if self.max_length is None:
            return
        now = time.monotonic()
        for collection in sorted(collections):
            read_at, length = self._lengths.get(collection, (-math.inf, 0))
            if now - read_at >= self.check_s:
                [found] = yield [_Call("xlen", [self.stream(collection)], [])]
                length = int(found)
                self._lengths[collection] = (now, length)
            if length >= self.max_length:
                raise QueueFull(collection)

    # The flusher side

    def ensure_group(self, collections: Iterable[str]) -> None:
        for collection in collections:
            try:
                self.redis.xgroup_create(self.stream(collection), GROUP, id="0", mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def read(
        self,
        collections: Sequence[str],
        consumer: str,
        count: int,
        block_ms: int | None,
        *,
        pending: bool = False,
    ) -> list[Entry]:
        """New entries for this consumer, or (`pending`) those it holds but has not acked."""
        start = "0" if pending else ">"
        if self.cluster:
            return self._read_each(collections, consumer, start, count, block_ms)
        reply = self.redis.xreadgroup(
            GROUP,
            consumer,
            {self.stream(c): start for c in collections},
            count=count,
            block=block_ms,
        )
        return self._entries(reply or [])

    def _read_each(
        self,
        collections: Sequence[str],
        consumer: str,
        start: str,
        count: int,
        block_ms: int | None,
    ) -> list[Entry]:
        """On a Cluster: one read per stream (in one pipeline), looked at again every
        CLUSTER_POLL_S until `block_ms` has passed or something came. Up to `count` per
        stream: every entry read is returned, since an entry read is pending on us."""
        deadline = time.monotonic() + (block_ms or 0) / 1000
        while True:
            pipe = self.redis.pipeline(transaction=False)
            for collection in collections:
                pipe.xreadgroup(GROUP, consumer, {self.stream(collection): start}, count=count)
            entries = self._entries([stream for reply in pipe.execute() for stream in reply or []])
            left = deadline - time.monotonic()
            if entries or left <= 0:
                return entries
            time.sleep(min(CLUSTER_POLL_S, left))

    def claim(self, collection: str, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        """Take over entries another consumer read but left unacked for `min_idle_ms`."""
        stream = self.stream(collection)
        reply = self.redis.xautoclaim(stream, GROUP, consumer, min_idle_ms, "0-0", count=count)
        return [_entry(collection, entry_id, fields) for entry_id, fields in reply[1] if fields]

    def done(self, entries: Sequence[Entry]) -> None:
        """Ack and delete stored entries: the stream holds only what is not stored yet."""
        by_stream: dict[str, list[str]] = {}
        for entry in entries:
            by_stream.setdefault(self.stream(entry.collection), []).append(entry.entry_id)
        pipe = self.redis.pipeline(transaction=False)
        for stream, ids in by_stream.items():  # each stream's ack and delete are atomic
            scripts.queue_call(self._done, pipe, [stream], [GROUP, *ids])
        pipe.execute()

    # Health

    def backlog(self, collections: Iterable[str]) -> dict[str, dict[str, int]]:
        """Per stream: entries not yet read by the group (`lag`) and read but unacked."""
        report = {}
        for collection in collections:
            stream = self.stream(collection)
            groups: list[dict[str, Any]] = []
            with suppress(ResponseError):  # no stream yet: nothing waits
                groups = self.redis.xinfo_groups(stream)
            group = next((g for g in groups if _text(g["name"]) == GROUP), None)
            report[collection] = {
                "length": int(self.redis.xlen(stream)),
                "lag": int(group.get("lag") or 0) if group else 0,
                "pending": int(group["pending"]) if group else 0,
            }
        return report

    def _entries(self, reply: list[Any]) -> list[Entry]:
        prefix_len = len(self.prefix) + 1
        entries = []
        for stream, items in reply:
            collection = _text(stream)[prefix_len:]
            entries.extend(_entry(collection, id_, fields) for id_, fields in items if fields)
        return entries


def _entry(collection: str, entry_id: bytes | str, fields: dict[bytes, bytes]) -> Entry:
    origin = fields.get(b"o")
    return Entry(collection, _text(entry_id), fields[b"d"], _text(origin) if origin else None)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
