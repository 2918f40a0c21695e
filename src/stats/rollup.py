"""The flusher's hook: counts what a batch stored into the rollups, exactly once.

Rollups are documents per period (see `footfall.stats.buckets`): `c.<segment>.<dimension>`
holds that dimension's cells as one blob, `u.<segment>` the visitor registers. A batch
never updates a period in place (MongoDB servers such as SecantusDB take a time
quadratic in the fields of one update): it **inserts one delta document per 15-minute
period it touches**, whose `_id` is the period and the attempt's token, so inserting it
twice stores it once. `compact` folds a period's deltas into its base document and sums
the hour, day and month periods from their children.

`prepare` stamps a batch's documents, before they are inserted, with a token unique to
this attempt (`rt`). `after_store` runs after the insert and before the ack:

1. Duplicates (an earlier attempt stored them) are resolved by their token's record in
   `rollup_tokens`: `done` → counted; `open` → that attempt stored its deltas in its
   record: they are inserted again (a delta already there is not stored twice); no
   record, or `abandoned` → that attempt died before saying what it would count: its
   record is set `abandoned` (which stops it, should it still be alive) and this attempt
   adopts the documents by a conditional swap of `rt`, which one attempt only can win.
2. This attempt's deltas (what it inserted and what it adopted) are written into its
   record (`open`) first; if the record exists, another flusher abandoned this attempt:
   the batch is retried (a new token; now all duplicates, resolved by 1).
3. The deltas are inserted; the record becomes `done`.

A flusher killed at any point leaves its entries pending; the attempt that replays them
finds the record in one of these states and finishes the work, counting nothing twice
and losing nothing (tests/test_stats_exactly_once.py kills flushers between the steps).

Queries read a 15-minute period as its base plus the deltas not folded into it yet, and
a coarse period as its own document only when it is clean: every batch marks the hour,
day and month it counts in `dirty` before and after inserting its deltas, `compact`
clears the mark only if no batch marked it meanwhile, and a dirty period is read as its
children. So a figure is never stale.
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
from pymongo import InsertOne, UpdateOne
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
#: A delta's level: a 15-minute period's addition from one attempt.
DELTA = "qd"
#: Token records, and the tokens a base remembers having folded, are kept this long: far
#: longer than a stalled batch can stay pending before another flusher replays it.
KEEP = timedelta(days=1)
#: The field of each stream's documents that says when it happened.
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
        deltas = delta_documents(collection, ours, token)
        if deltas:
            try:
                self.db[TOKENS].insert_one(
                    {"_id": token, "state": "open", "at": _now(), "deltas": deltas}
                )
            except DuplicateKeyError:
                raise Preempted(token) from None
            self._insert_deltas(token, deltas)
        self._live(collection, ours)
        if time.monotonic() >= self._next_compact:
            self._next_compact = time.monotonic() + self.compact_s
            self.compact()

    # --- steps ------------------------------------------------------------------------
    def _resolve(self, collection: str, duplicates: Sequence[Doc], token: str) -> list[Doc]:
        """Finish or adopt the work of earlier attempts; returns the documents adopted."""
        if not duplicates:
            return []
        by_token: dict[str, list[Doc]] = defaultdict(list)
        for doc in self.db[collection].find(
            {"log_id": {"$in": [d["log_id"] for d in duplicates]}}
        ):
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
                self._insert_deltas(other, record["deltas"])
            elif record["state"] == "abandoned":
                adopted += self._adopt(collection, docs, other, token)
        return adopted

    def _adopt(self, collection: str, docs: list[Doc], other: str, token: str) -> list[Doc]:
        ids = [doc["log_id"] for doc in docs]
        self.db[collection].update_many(
            {"log_id": {"$in": ids}, "rt": other}, {"$set": {"rt": token}}
        )
        return list(self.db[collection].find({"log_id": {"$in": ids}, "rt": token}))

    def _insert_deltas(self, token: str, deltas: list[Doc]) -> None:
        """Mark the coarse periods, insert the deltas (a duplicate is one already stored),
        mark again, and say the token is done."""
        self._mark_dirty(deltas)
        try:
            self.db[ROLLUPS].insert_many(deltas, ordered=False)
        except BulkWriteError as error:
            if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
                raise
        self._mark_dirty(deltas)
        self.db[TOKENS].update_one(
            {"_id": token}, {"$set": {"state": "done"}, "$unset": {"deltas": ""}}
        )

    def _mark_dirty(self, deltas: Iterable[Doc]) -> None:
        parents: set[Period] = set()
        for delta in deltas:
            period: Period | None = Period("q", delta["s"].replace(tzinfo=UTC))
            while (period := buckets.parent(period)) is not None:  # type: ignore[arg-type]
                parents.add(period)
        ops = [
            UpdateOne({"_id": p.key}, {"$set": {"dirty": True, "l": p.level, "s": p.start},
                                       "$inc": {"dv": 1}}, upsert=True)
            for p in sorted(parents)
        ]
        _retry_races(self.db[ROLLUPS], ops)

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
        pipe.zadd(live_key(self.prefix, "views"), views)
        if visitors:
            pipe.zadd(live_key(self.prefix, "visitors"), visitors, gt=True)
        for what in ("views", "visitors"):
            pipe.zremrangebyscore(live_key(self.prefix, what), "-inf", since)
            pipe.pexpire(live_key(self.prefix, what), 4 * LIVE_WINDOW_S * 1000)
        pipe.execute()

    # --- compaction -------------------------------------------------------------------
    def compact(self, limit: int = 500) -> int:
        """Fold deltas into their 15-minute bases, then recompute dirty hours, days and
        months from their children, finest first; returns the periods written."""
        done = 0
        starts = self.db[ROLLUPS].distinct("s", {"l": DELTA})
        for start in sorted(starts)[:limit]:
            self._fold(Period("q", start.replace(tzinfo=UTC)))
            done += 1
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
        self.db[TOKENS].delete_many({"state": {"$ne": "open"}, "at": {"$lt": _now() - KEEP}})
        return done

    def _fold(self, period: Period) -> None:
        """Add a period's new deltas to its base (guarded by the base's revision), then
        delete them. The base remembers the tokens it folded, for KEEP, so that a delta
        inserted again by a late replay is recognised and dropped, never added twice."""
        rollups = self.db[ROLLUPS]
        base = rollups.find_one({"_id": period.key}) or {}
        folded: dict[str, datetime] = base.get("folded", {})
        deltas = list(rollups.find({"l": DELTA, "s": period.start}))
        fresh = [d for d in deltas if d["tok"] not in folded]
        if fresh:
            summed = Summed()
            if base:
                _add_doc(base, summed, registers=True)
            for delta in fresh:
                _add_doc(delta, summed, registers=True)
            now, old = _now(), _now() - KEEP
            kept = {t: at for t, at in folded.items() if at.replace(tzinfo=UTC) >= old}
            kept.update({d["tok"]: now for d in fresh})
            body = {**encode_sum(summed), "folded": kept, "l": "q", "s": period.start,
                    "rev": base.get("rev", 0) + 1}
            try:
                result = rollups.replace_one({"_id": period.key, "rev": base.get("rev", 0)},
                                             body, upsert=not base)
            except DuplicateKeyError:
                return  # another flusher folded it first: next time
            if not base and result.upserted_id is None and not result.modified_count:
                return
            if base and not result.modified_count:
                return  # changed under us: next time
        rollups.delete_many({"_id": {"$in": [d["_id"] for d in deltas]}})


def live_key(prefix: str, what: str) -> str:
    """The Redis sorted set of recent views or visitors, scored by event time (ms)."""
    return f"{prefix}:live:{what}"


# --- what a batch adds, one delta per 15-minute period ----------------------------------
def delta_documents(collection: str, docs: Iterable[Doc], token: str) -> list[Doc]:
    """The documents of this attempt's additions, one per 15-minute period."""
    field = TIME_FIELD[collection]
    # period -> segment key -> dim -> value -> counter -> amount (segments expanded last)
    adds: dict[datetime, dict[Any, dict[str, dict[str, dict[str, float]]]]] = {}
    registers: dict[datetime, dict[Any, dict[int, int]]] = {}
    for doc in docs:
        own = buckets.floor(doc[field].replace(tzinfo=UTC), "q")
        if collection == "pageviews":
            found, visitor = cells.pageview(doc)
            start = buckets.floor(doc["visit"]["start"].replace(tzinfo=UTC), "q") \
                if "visit" in doc else own
        else:
            found, visitor, start = cells.exit_link(doc), None, own
        for key, dim, value, counter, amount, at_start in found:
            table = adds.setdefault(start if at_start else own, {}).setdefault(key, {})
            cell = table.setdefault(dim, {}).setdefault(value, {})
            cell[counter] = cell.get(counter, 0) + amount
        if visitor is not None:
            key, index, rank = visitor
            mine = registers.setdefault(own, {}).setdefault(key, {})
            if rank > mine.get(index, 0):
                mine[index] = rank
    out = []
    for start in sorted(set(adds) | set(registers)):
        summed = Summed()
        for key, dims in adds.get(start, {}).items():
            for seg in cells.segments(*key):
                for dim, table in dims.items():
                    summed.add_cells(seg, dim, table)
        sparse: dict[str, dict[int, int]] = {}
        for key, found_registers in registers.get(start, {}).items():
            for seg in cells.segments(*key):
                mine = sparse.setdefault(seg, {})
                for index, rank in found_registers.items():
                    if rank > mine.get(index, 0):
                        mine[index] = rank
        period = Period("q", start)
        out.append({
            "_id": f"{period.key}|{token}", "l": DELTA, "s": start, "tok": token,
            "c": encode_sum(summed)["c"],
            "u": {cells.field(seg): Binary(sketch.sparse_bytes(r)) for seg, r in sparse.items()},
        })
    return out


def _retry_races(mongo: Any, ops: list[UpdateOne | InsertOne]) -> None:
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

    def add_registers(self, seg: str, data: bytes) -> None:
        registers = self.registers.get(seg)
        if registers is None:
            registers = self.registers[seg] = sketch.empty()
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
    """Each period's sums. A 15-minute period is its base plus the deltas not folded into
    it; a dirty coarse period is read as its children (recursively). A coarse period with
    no document was never marked, so nothing was counted in it (a batch marks first)."""
    out = {period: Summed() for period in periods}
    pending = [(period, period) for period in out]
    projection = _projection(segs, dims, registers)
    while pending:
        # Deltas first, then bases: a fold between the two reads is then seen either
        # before (delta added, base without it) or after (base with it, delta skipped).
        quarters = [period.start for period, _ in pending if period.level == "q"]
        deltas: dict[datetime, list[Doc]] = defaultdict(list)
        if quarters:
            for delta in db[ROLLUPS].find({"l": DELTA, "s": {"$in": quarters}},
                                          {**projection, "tok": 1, "s": 1}):
                deltas[delta["s"].replace(tzinfo=UTC)].append(delta)
        keys = list({period.key for period, _ in pending})
        docs = {d["_id"]: d for d in db[ROLLUPS].find({"_id": {"$in": keys}},
                                                       {**projection, "folded": 1})}
        descend: list[tuple[Period, Period]] = []
        for period, owner in pending:
            doc = docs.get(period.key)
            if period.level == "q":
                folded = (doc or {}).get("folded", {})
                for delta in deltas.get(period.start, ()):
                    if delta["tok"] not in folded:
                        _add_doc(delta, out[owner], registers)
                if doc is not None:
                    _add_doc(doc, out[owner], registers)
                continue
            if doc is None:
                continue
            if doc.get("dirty", False):
                descend += [(child, owner) for child in buckets.children(period)]
                continue
            _add_doc(doc, out[owner], registers)
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


def _add_doc(doc: Doc, summed: Summed, registers: bool) -> None:
    for seg, dims in (doc.get("c") or {}).items():
        seg = cells.unfield(seg)
        for dim, blob in dims.items():
            summed.add_cells(seg, dim, orjson.loads(blob))
    for seg, data in (doc.get("u") or {}).items() if registers else ():
        summed.add_registers(cells.unfield(seg), data)


def encode_sum(summed: Summed) -> dict[str, Any]:
    """A period's stored form: per segment and dimension a blob of cells (a query reads only
    the dimension it reports), and the registers as bytes."""
    c = {cells.field(seg): {dim: Binary(orjson.dumps(table)) for dim, table in dims.items()}
         for seg, dims in summed.cells.items()}
    u = {cells.field(seg): Binary(sketch.to_bytes(registers))
         for seg, registers in summed.registers.items()}
    return {"c": c, "u": u}
