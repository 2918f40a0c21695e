"""The flusher's hook: counts what a batch stored into the rollups, exactly once.

`prepare` stamps a batch's documents, before they are inserted, with a token unique to
this attempt (`rt`). `after_store` then runs after the insert and before the ack:

1. Duplicates (an earlier attempt stored them) are resolved by their token's record in
   `rollup_tokens`: `done` → already counted; `open` → that attempt stored its updates
   there, so they are applied again (guarded, see 3); no record or `abandoned` → that
   attempt died before saying what it would count, so its record is marked `abandoned`
   (which stops it for good, should it still be alive) and this attempt adopts the
   documents with a conditional `rt` swap, so that each is adopted by one attempt only.
2. What this attempt counts (the documents it inserted and those it adopted) becomes
   one update per 15-minute period, stored in the token's record (`open`) before any
   is applied. If the record already exists, another flusher abandoned this attempt:
   the batch is retried (a new token, now all duplicates, resolved by 1).
3. Each update is applied with a guard: the period's document must not list the token
   (`g.<token>`); the update adds the token. Applying it twice changes nothing.
4. The record is marked `done`.

A flusher killed at any point leaves its entries pending; the attempt that replays them
finds the record in one of these states and finishes the work without counting twice
or losing a document (tests/test_stats_exactly_once.py kills one between steps).

Coarser periods (hour, UTC day, UTC month) are sums of finer ones. Every update first
and last marks them `dirty`; queries read a dirty period's children instead, and
`compact` (every STATS_COMPACT_S, from this hook) recomputes them and clears the mark
unless a batch marked it again meanwhile. So queries never read a stale sum.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from bson import Binary
from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError
from redis import Redis

from footfall.stats import buckets, cells, sketch
from footfall.stats.buckets import Period
from footfall.store.collections import ROLLUP_TOKENS
from footfall.store.collections import ROLLUPS as ROLLUP_COLLECTION
from footfall.store.writers import DUPLICATE_KEY, TransientWriteError

log = logging.getLogger(__name__)

ROLLUPS = ROLLUP_COLLECTION.name
TOKENS = ROLLUP_TOKENS.name
#: Guards and token records are kept this long after their last use: far longer than a
#: stalled batch can stay pending before another flusher replays it.
KEEP = timedelta(days=1)
#: The stream whose documents carry this time, per collection.
TIME_FIELD = {"pageviews": "visited_at", "exit_links": "clicked_at"}
LIVE_WINDOW_S = 300

Doc = dict[str, Any]


class Preempted(TransientWriteError):
    """Another flusher abandoned this attempt's token: the batch is retried."""


class Rollups:
    def __init__(self, db: Database, redis: Redis, prefix: str, compact_s: float) -> None:
        self.db = db
        self.redis = redis
        self.prefix = prefix
        self.compact_s = compact_s
        self._next_compact = 0.0

    # --- the hook ---------------------------------------------------------------------
    def prepare(self, docs: list[Doc]) -> list[Doc]:
        """Stamp the attempt's token on every document (before the insert)."""
        token = uuid.uuid4().hex
        for doc in docs:
            doc["rt"] = token
        return docs

    def after_store(self, collection: str, inserted: Sequence[Doc], duplicates: Sequence[Doc]
                    ) -> None:
        """Count the batch (before it is acked); raises to have the batch retried."""
        if not inserted and not duplicates:
            return
        token = (inserted or duplicates)[0]["rt"]
        ours = list(inserted) + self._resolve(collection, duplicates, token)
        updates = _period_updates(collection, ours)
        if updates:
            self._mark_dirty(updates)
            try:
                self.db[TOKENS].insert_one(
                    {"_id": token, "state": "open", "at": _now(), "updates": _pack(updates)}
                )
            except DuplicateKeyError:
                raise Preempted(token) from None
            self._apply(token, updates)
            self._mark_dirty(updates)
            self.db[TOKENS].update_one(
                {"_id": token}, {"$set": {"state": "done"}, "$unset": {"updates": ""}}
            )
        self._live(collection, ours)
        if time.monotonic() >= self._next_compact:
            self._next_compact = time.monotonic() + self.compact_s
            self.compact()

    # --- steps ------------------------------------------------------------------------
    def _resolve(self, collection: str, duplicates: Sequence[Doc], token: str) -> list[Doc]:
        """Finish or adopt the work of earlier attempts; returns the documents adopted."""
        if not duplicates:
            return []
        stored = {
            doc["log_id"]: doc
            for doc in self.db[collection].find(
                {"log_id": {"$in": [d["log_id"] for d in duplicates]}}
            )
        }
        by_token: dict[str, list[Doc]] = defaultdict(list)
        for doc in stored.values():
            if doc.get("rt"):
                by_token[doc["rt"]].append(doc)
        adopted: list[Doc] = []
        for other, docs in by_token.items():
            record = self.db[TOKENS].find_one({"_id": other})
            if record is None:
                try:
                    self.db[TOKENS].insert_one({"_id": other, "state": "abandoned", "at": _now()})
                    record = {"state": "abandoned"}
                except DuplicateKeyError:  # its attempt wrote the record just now
                    record = self.db[TOKENS].find_one({"_id": other}) or {"state": "abandoned"}
            if record["state"] == "open":
                updates = _unpack(record["updates"])
                self._mark_dirty(updates)
                self._apply(other, updates)
                self._mark_dirty(updates)
                self.db[TOKENS].update_one(
                    {"_id": other}, {"$set": {"state": "done"}, "$unset": {"updates": ""}}
                )
            elif record["state"] == "abandoned":
                adopted += self._adopt(collection, docs, other, token)
        return adopted

    def _adopt(self, collection: str, docs: list[Doc], other: str, token: str) -> list[Doc]:
        ids = [doc["log_id"] for doc in docs]
        self.db[collection].update_many(
            {"log_id": {"$in": ids}, "rt": other}, {"$set": {"rt": token}}
        )
        return list(self.db[collection].find({"log_id": {"$in": ids}, "rt": token}))

    def _apply(self, token: str, updates: dict[str, dict[str, Any]]) -> None:
        """One guarded upsert per period; a duplicate key on a retry means 'already applied'."""
        now = _now()
        pending = list(updates.items())
        for attempt in range(2):
            ops = []
            for key, update in pending:
                change: dict[str, Any] = {
                    "$set": {f"g.{token}": now, "mt": now, "l": "q",
                             "s": datetime.fromisoformat(update["s"])},
                }
                if update["inc"]:
                    change["$inc"] = update["inc"]
                if update["max"]:
                    change["$max"] = update["max"]
                ops.append(UpdateOne({"_id": key, f"g.{token}": {"$exists": False}}, change,
                                     upsert=True))
            try:
                self.db[ROLLUPS].bulk_write(ops, ordered=False)
                return
            except BulkWriteError as error:
                errors = error.details["writeErrors"]
                if any(e["code"] != DUPLICATE_KEY for e in errors):
                    raise
                if attempt == 1:
                    return  # the period exists and lists the token: applied before
                pending = [pending[e["index"]] for e in errors]  # a race creating it: again

    def _mark_dirty(self, updates: dict[str, dict[str, Any]]) -> None:
        parents: set[Period] = set()
        for update in updates.values():
            period: Period | None = Period("q", datetime.fromisoformat(update["s"]))
            while (period := buckets.parent(period)) is not None:  # type: ignore[arg-type]
                parents.add(period)
        ops = [
            UpdateOne({"_id": p.key}, {"$set": {"dirty": True, "l": p.level, "s": p.start},
                                       "$inc": {"dv": 1}}, upsert=True)
            for p in sorted(parents)
        ]
        _bulk_upserts(self.db[ROLLUPS], ops)

    def _live(self, collection: str, docs: Iterable[Doc]) -> None:
        """Views and visitors of the last minutes, in Redis sorted sets (idempotent adds)."""
        if collection != "pageviews":
            return
        now_ms = int(time.time() * 1000)
        since = now_ms - 2 * LIVE_WINDOW_S * 1000
        views, visitors = {}, {}
        for doc in docs:
            at = int(doc["visited_at"].replace(tzinfo=UTC).timestamp() * 1000)
            if at >= since and not doc.get("is_bot"):
                views[doc["log_id"]] = at
                if doc.get("visitor"):
                    visitors[doc["visitor"]] = max(at, visitors.get(doc["visitor"], 0))
        if not views:
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.live_key("views"), views)
        if visitors:
            pipe.zadd(self.live_key("visitors"), visitors, gt=True)
        for what in ("views", "visitors"):
            pipe.zremrangebyscore(self.live_key(what), "-inf", since)
            pipe.pexpire(self.live_key(what), 4 * LIVE_WINDOW_S * 1000)
        pipe.execute()

    def live_key(self, what: str) -> str:
        return live_key(self.prefix, what)

    # --- compaction -------------------------------------------------------------------
    def compact(self, limit: int = 500) -> int:
        """Recompute dirty hour, day and month periods from their children, finest first."""
        done = 0
        for level in ("h", "d", "m"):
            dirty = list(self.db[ROLLUPS].find({"l": level, "dirty": True}, {"dv": 1, "s": 1})
                         .limit(limit))
            for doc in dirty:
                period = Period(level, doc["s"].replace(tzinfo=UTC))  # type: ignore[arg-type]
                summed = sum_periods(self.db, buckets.children(period))
                self.db[ROLLUPS].update_one(
                    {"_id": period.key, "dv": doc["dv"]},
                    {"$set": {**encode_sum(summed), "dirty": False}},
                )
                done += 1
        self._forget_guards()
        return done

    def _forget_guards(self) -> None:
        """Drop period guards and token records nobody can replay any more."""
        old = _now() - KEEP
        self.db[ROLLUPS].update_many({"l": "q", "mt": {"$lt": old}, "g": {"$exists": True}},
                                     {"$unset": {"g": ""}})
        self.db[TOKENS].delete_many({"state": {"$ne": "open"}, "at": {"$lt": old}})


def live_key(prefix: str, what: str) -> str:
    """The Redis sorted set of recent views or visitors, scored by event time (ms)."""
    return f"{prefix}:live:{what}"


# --- what a batch adds, per 15-minute period ------------------------------------------
def _period_updates(collection: str, docs: Iterable[Doc]) -> dict[str, dict[str, Any]]:
    field = TIME_FIELD[collection]
    updates: dict[str, dict[str, Any]] = {}

    def update_for(at: datetime) -> dict[str, Any]:
        period = Period("q", buckets.floor(at.replace(tzinfo=UTC), "q"))
        return updates.setdefault(period.key, {"s": period.start.isoformat(), "inc": {},
                                               "max": {}})

    for doc in docs:
        own = update_for(doc[field])
        if collection == "pageviews":
            adds, registers = cells.pageview(doc)
            start = update_for(doc["visit"]["start"]) if "visit" in doc else own
        else:
            adds, registers, start = cells.exit_link(doc), [], own
        for (seg, dim, value), counter, amount, at_start in adds:
            inc = (start if at_start else own)["inc"]
            path = f"c.{cells.field(seg)}.{dim}.{cells.field(value)}.{counter}"
            inc[path] = inc.get(path, 0) + amount
        highest = own["max"]
        for seg, index, rank in registers:
            path = f"u.{cells.field(seg)}.{index}"
            if rank > highest.get(path, 0):
                highest[path] = rank
    return updates


def _pack(updates: dict[str, dict[str, Any]]) -> Binary:
    return Binary(orjson.dumps(updates))


def _unpack(data: bytes) -> dict[str, dict[str, Any]]:
    return orjson.loads(data)


def _bulk_upserts(mongo: Any, ops: list[UpdateOne]) -> None:
    """Upserts of markers: two flushers creating one period race once; the loser retries."""
    for _ in range(3):
        try:
            if ops:
                mongo.bulk_write(ops, ordered=False)
            return
        except BulkWriteError as error:
            errors = error.details["writeErrors"]
            if any(e["code"] != DUPLICATE_KEY for e in errors):
                raise
            ops = [ops[e["index"]] for e in errors]


def _now() -> datetime:
    return datetime.now(UTC)


# --- reading and summing periods (compaction and queries) -----------------------------
#: segment -> dimension -> value (escaped) -> counter -> sum
Sums = dict[str, dict[str, dict[str, dict[str, float]]]]


class Summed:
    """Counters per segment, dimension and value, and registers per segment, of some periods."""

    def __init__(self) -> None:
        self.cells: Sums = {}
        self.registers: dict[str, Any] = {}

    def add_cells(self, seg: str, dim: str, table: dict[str, dict[str, float]]) -> None:
        mine = self.cells.setdefault(seg, {}).setdefault(dim, {})
        for value, counters in table.items():
            cell = mine.get(value)
            if cell is None:
                mine[value] = dict(counters)
                continue
            for counter, amount in counters.items():
                cell[counter] = cell.get(counter, 0) + amount

    def merge(self, other: Summed) -> None:
        for seg, dims in other.cells.items():
            for dim, table in dims.items():
                self.add_cells(seg, dim, table)
        for seg, registers in other.registers.items():
            mine = self.registers.get(seg)
            if mine is None:
                self.registers[seg] = registers.copy()
            else:
                np.maximum(mine, registers, out=mine)

    def add_registers(self, seg: str, sparse: dict[str, int] | None = None,
                      data: bytes | None = None) -> None:
        registers = self.registers.get(seg)
        if registers is None:
            registers = self.registers[seg] = sketch.empty()
        if sparse:
            sketch.add_sparse(registers, sparse)
        if data:
            sketch.add_bytes(registers, data)


def sum_periods(db: Database, periods: Sequence[Period], *, segs: Sequence[str] | None = None,
                dims: Sequence[str] | None = None, registers: bool = True) -> Summed:
    """The sum of some periods (see `load`)."""
    summed = Summed()
    for part in load(db, periods, segs=segs, dims=dims, registers=registers).values():
        summed.merge(part)
    return summed


def load(db: Database, periods: Sequence[Period], *, segs: Sequence[str] | None = None,
         dims: Sequence[str] | None = None, registers: bool = True) -> dict[Period, Summed]:
    """Each period's sums; a dirty coarse period is read as its children (recursively).

    A coarse period with no document was never marked, so nothing was counted in it:
    every update marks its parents before it is applied.
    """
    out = {period: Summed() for period in periods}
    pending = [(period, period) for period in out]
    projection = _projection(segs, dims, registers)
    while pending:
        keys = list({period.key for period, _ in pending})
        docs = {doc["_id"]: doc for doc in db[ROLLUPS].find({"_id": {"$in": keys}}, projection)}
        descend: list[tuple[Period, Period]] = []
        for period, owner in pending:
            doc = docs.get(period.key)
            if doc is None:
                continue
            if period.level != "q" and doc.get("dirty", False):
                descend += [(child, owner) for child in buckets.children(period)]
                continue
            _add_doc(doc, out[owner], period.level, registers)
        pending = descend
    return out


def _projection(segs: Sequence[str] | None, dims: Sequence[str] | None, registers: bool
                ) -> dict[str, int]:
    """Only the segments and dimensions asked for: each is a field of its own."""
    projection = {"dirty": 1, "l": 1}
    if segs is None:
        projection.update({"c": 1, "u": 1})
        return projection
    for seg in segs:
        name = cells.field(seg)
        if dims is None:
            projection[f"c.{name}"] = 1
        for dim in dims or ():
            projection[f"c.{name}.{dim}"] = 1
        if registers:
            projection[f"u.{name}"] = 1
    return projection


def _add_doc(doc: dict[str, Any], summed: Summed, level: str, registers: bool) -> None:
    """A 15-minute period holds nested counters; a coarse one a blob per dimension."""
    for seg, dims in (doc.get("c") or {}).items():
        seg = cells.unfield(seg)
        for dim, table in dims.items():
            summed.add_cells(seg, dim, table if level == "q" else orjson.loads(table))
    for seg, stored in (doc.get("u") or {}).items() if registers else ():
        if level == "q":
            summed.add_registers(cells.unfield(seg), sparse=stored)
        else:
            summed.add_registers(cells.unfield(seg), data=stored)


def encode_sum(summed: Summed) -> dict[str, Any]:
    """A coarse period's stored form: per segment and dimension a blob of cells (a query
    reads only the dimension it reports), and the registers as bytes."""
    c: dict[str, dict[str, Binary]] = {}
    for seg, dims in summed.cells.items():
        c[cells.field(seg)] = {dim: Binary(orjson.dumps(table)) for dim, table in dims.items()}
    u = {cells.field(seg): Binary(sketch.to_bytes(registers))
         for seg, registers in summed.registers.items()}
    return {"c": c, "u": u}
