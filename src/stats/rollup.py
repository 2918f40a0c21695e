"""The flusher's hook: counts what a batch stored into the rollups, exactly once.

Rollups are documents per period (see `footfall.stats.buckets`): a day or month holds per
segment and dimension one blob of cells (`c.<segment>.<dimension>`) and the visitor
registers (`u.<segment>`); a 15-minute period holds rows (`footfall.stats.rows`). A batch
never updates a period in place (MongoDB servers such as SecantusDB take a time
quadratic in the fields of one update): it **inserts one delta document per 15-minute
period it touches**, whose `_id` is the period and the attempt's token, so inserting it
twice stores it once. `compact` folds a period's deltas into its base document, and sums
days and months from their children, once they are over.

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
a coarse period as its own document only when it is clean: every batch marks the hours,
days and months it counts in (those of every zone in the registry, `footfall.stats.zones`)
`dirty` before and after inserting its deltas, `compact` clears the mark only if no
batch marked it meanwhile, and a dirty period is read as its children. So a figure is
never stale.
"""

from __future__ import annotations

import logging
import time
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from bson import Binary
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError
from redis import Redis

from footfall.metrics import tally
from footfall.settings import Settings
from footfall.stats import buckets, cells, rows, sketch, zones
from footfall.stats.buckets import Period
from footfall.store.collections import ROLLUP_TOKENS
from footfall.store.collections import ROLLUPS as ROLLUP_COLLECTION
from footfall.store.writers import (
    DUPLICATE_KEY,
    DeadLetter,
    Decoded,
    TransientWriteError,
    insert_documents,
)

if TYPE_CHECKING:
    from footfall.sinks import Sink

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
    def __init__(
        self,
        db: Database,
        redis: Redis,
        prefix: str,
        compact_s: float,
        zones: Sequence[str],
    ) -> None:
        self.db = db
        self.redis = redis
        self.prefix = prefix
        self.compact_s = compact_s
        self.zones = list(zones)
        self._synced = False
        self._next_compact = 0.0

    # --- the hook ---------------------------------------------------------------------
    def prepare(self, docs: list[Doc]) -> list[Doc]:
        """Stamp the attempt's token on every document (before the insert)."""
        token = uuid.uuid4().hex
        for doc in docs:
            doc["rt"] = token
        return docs

    def after_store(
        self, collection: str, inserted: Sequence[Doc], duplicates: Sequence[Doc]
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
        for doc in self.db[collection].find({"log_id": {"$in": [d["log_id"] for d in duplicates]}}):
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
        # The registry is read each time: a zone added by another flusher since the last
        # batch is marked from now on (zones.py says why that leaves no gap).
        kept = zones.marked(self.db)
        parents: set[Period] = set()
        for delta in deltas:
            quarter = Period("q", delta["s"].replace(tzinfo=UTC))
            parents.update(buckets.containers(quarter, kept))
        zones.mark_dirty(self.db, sorted(parents))

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
        """Fold deltas into their 15-minute bases, then recompute dirty hours (totals),
        days and months from their children, finest first; returns the periods written."""
        if not self._synced:
            zones.sync(self.db, self.zones)
            self._synced = True
        done, now, days_left = 0, _now(), False
        # Only periods that are over: the present ones change with every batch, and no
        # query reads them whole (ranges are clipped at the present).
        starts = self.db[ROLLUPS].distinct("s", {"l": DELTA, "s": {"$lt": now - buckets.GRID}})
        for start in sorted(starts)[:limit]:
            self._fold(Period("q", start.replace(tzinfo=UTC)))
            done += 1
        for level in ("h", "d", "m"):  # finest first: a month is summed from clean days
            if level == "m" and days_left:
                # Not while days wait (a backlog, a zone added): a month with dirty days
                # would read their quarters, thirty times the cost of reading the days.
                break
            dirty = list(
                self.db[ROLLUPS]
                .find({"l": level, "dirty": True}, {"dv": 1, "s": 1, "z": 1})
                .limit(limit)
            )
            days_left = level == "d" and len(dirty) == limit
            for doc in dirty:
                start = doc["s"].replace(tzinfo=UTC)
                period = Period(level, start, doc.get("z", buckets.ABSOLUTE))  # type: ignore[arg-type]
                if period.end > now:
                    continue
                dims = ["t"] if level == "h" else None  # hours: totals and visitors only
                summed = sum_periods(self.db, buckets.children(period), dims=dims)
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
            total: tuple[rows.Adds, rows.Registers] = rows.decode(base) if base else ({}, {})
            for delta in fresh:
                rows.add(total, rows.decode(delta))
            now, old = _now(), _now() - KEEP
            kept = {t: at for t, at in folded.items() if at.replace(tzinfo=UTC) >= old}
            kept.update({d["tok"]: now for d in fresh})
            body = {
                **rows.encode(*total),
                "folded": kept,
                "l": "q",
                "s": period.start,
                "rev": base.get("rev", 0) + 1,
            }
            try:
                result = rollups.replace_one(
                    {"_id": period.key, "rev": base.get("rev", 0)}, body, upsert=not base
                )
            except DuplicateKeyError:
                return  # another flusher folded it first: next time
            if base and not result.modified_count:
                return  # changed under us: next time
        rollups.delete_many({"_id": {"$in": [d["_id"] for d in deltas]}})


def live_key(prefix: str, what: str) -> str:
    """The Redis sorted set of recent views or visitors, scored by event time (ms)."""
    return f"{prefix}:live:{what}"


# --- what a batch adds, one delta per 15-minute period ----------------------------------
def delta_documents(collection: str, docs: Iterable[Doc], token: str) -> list[Doc]:
    """The documents of this attempt's additions, one per 15-minute period (`rows`)."""
    field = TIME_FIELD[collection]
    found: dict[datetime, tuple[rows.Adds, rows.Registers]] = {}
    for doc in docs:
        own = buckets.floor(doc[field].replace(tzinfo=UTC), "q")
        if collection == "pageviews":
            adds, visitor = cells.pageview(doc)
            start = (
                buckets.floor(doc["visit"]["start"].replace(tzinfo=UTC), "q")
                if "visit" in doc
                else own
            )
        else:
            adds, visitor, start = cells.exit_link(doc), None, own
        for key, dim, value, counter, amount, at_start in adds:
            period_adds = found.setdefault(start if at_start else own, ({}, {}))[0]
            cell = (key, dim, value, counter)
            period_adds[cell] = period_adds.get(cell, 0) + amount
        if visitor is not None:
            key, index, rank = visitor
            registers = found.setdefault(own, ({}, {}))[1]
            if rank > registers.get((key, index), 0):
                registers[(key, index)] = rank
    return [
        {
            "_id": f"{Period('q', start).key}|{token}",
            "l": DELTA,
            "s": start,
            "tok": token,
            **rows.encode(*found[start]),
        }
        for start in sorted(found)
    ]


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

    def add_register_arrays(self, seg: str, index: Any, ranks: Any) -> None:
        registers = self.registers.get(seg)
        if registers is None:
            registers = self.registers[seg] = sketch.empty()
        np.maximum.at(registers, index, ranks)

    def add_registers(self, seg: str, data: bytes) -> None:
        registers = self.registers.get(seg)
        if registers is None:
            registers = self.registers[seg] = sketch.empty()
        sketch.add_bytes(registers, data)


def sum_periods(
    db: Database,
    periods: Sequence[Period],
    *,
    segs: Sequence[str] | None = None,
    dims: Sequence[str] | None = None,
    registers: bool = True,
) -> Summed:
    """The sum of some periods (see `load`)."""
    summed = Summed()
    for part in load(db, periods, segs=segs, dims=dims, registers=registers).values():
        summed.merge(part)
    return summed


def load(
    db: Database,
    periods: Sequence[Period],
    *,
    segs: Sequence[str] | None = None,
    dims: Sequence[str] | None = None,
    registers: bool = True,
) -> dict[Period, Summed]:
    """Each period's sums. A 15-minute period is its base plus the deltas not folded into
    it; a dirty coarse period is read as its children (recursively). A coarse period with
    no document was never marked, so nothing was counted in it (a batch marks first)."""
    out = {period: Summed() for period in periods}
    pending = [(period, period) for period in out]
    wanted = None if segs is None else set(segs)
    fine = _fine_projection(dims, registers)
    coarse = _coarse_projection(segs, dims, registers)
    while pending:
        quarters = [(p, owner) for p, owner in pending if p.level == "q"]
        if quarters:
            _load_quarters(db, quarters, out, wanted, fine, registers)
        bigger = [(p, owner) for p, owner in pending if p.level != "q"]
        docs = (
            {
                d["_id"]: d
                for d in db[ROLLUPS].find(
                    {"_id": {"$in": list({p.key for p, _ in bigger})}}, coarse
                )
            }
            if bigger
            else {}
        )
        descend: list[tuple[Period, Period]] = []
        for period, owner in bigger:
            doc = docs.get(period.key)
            if doc is None:
                continue
            if doc.get("dirty", False):
                descend += [(child, owner) for child in buckets.children(period)]
                continue
            _add_coarse(doc, out[owner], registers)
        pending = descend
    return out


def _load_quarters(
    db: Database,
    quarters: list[tuple[Period, Period]],
    out: dict[Period, Summed],
    wanted: set[str] | None,
    projection: dict[str, int],
    registers: bool,
) -> None:
    # Deltas first, then bases: a fold between the two reads is then seen either before
    # (delta added, base without it) or after (base with it, delta skipped).
    starts = [p.start for p, _ in quarters]
    deltas: dict[datetime, list[Doc]] = defaultdict(list)
    for delta in db[ROLLUPS].find(
        {"l": DELTA, "s": {"$in": starts}}, {**projection, "tok": 1, "s": 1}
    ):
        deltas[delta["s"].replace(tzinfo=UTC)].append(delta)
    bases = {
        d["_id"]: d
        for d in db[ROLLUPS].find(
            {"_id": {"$in": [p.key for p, _ in quarters]}}, {**projection, "folded": 1}
        )
    }
    for period, owner in quarters:
        base = bases.get(period.key)
        folded = (base or {}).get("folded", {})
        summed = out[owner]
        on_registers = summed.add_register_arrays if registers else None
        for doc in [d for d in deltas.get(period.start, ()) if d["tok"] not in folded] + (
            [base] if base else []
        ):
            rows.expand(doc, wanted, summed.add_cells, on_registers)


def _fine_projection(dims: Sequence[str] | None, registers: bool) -> dict[str, int]:
    projection = {"k": 1}
    if dims is None:
        projection["r"] = 1
    for dim in dims or ():
        projection[f"r.{dim}"] = 1
    if registers:
        projection["g"] = 1
    return projection


def _coarse_projection(
    segs: Sequence[str] | None, dims: Sequence[str] | None, registers: bool
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


def _add_coarse(doc: Doc, summed: Summed, registers: bool) -> None:
    for seg, dims in (doc.get("c") or {}).items():
        seg = cells.unfield(seg)
        for dim, blob in dims.items():
            summed.add_cells(seg, dim, orjson.loads(blob))
    for seg, data in (doc.get("u") or {}).items() if registers else ():
        summed.add_registers(cells.unfield(seg), data)


def encode_sum(summed: Summed) -> dict[str, Any]:
    """A period's stored form: per segment and dimension a blob of cells (a query reads only
    the dimension it reports), and the registers as bytes."""
    c = {
        cells.field(seg): {dim: Binary(orjson.dumps(table)) for dim, table in dims.items()}
        for seg, dims in summed.cells.items()
    }
    u = {
        cells.field(seg): Binary(sketch.to_bytes(registers))
        for seg, registers in summed.registers.items()
    }
    return {"c": c, "u": u}


#: The Rollups of each Redis client (a flusher's), by database and prefix.
_SHARED: weakref.WeakKeyDictionary[Redis, dict[tuple[str, str], Rollups]] = (
    weakref.WeakKeyDictionary()
)


class CountedInsert:
    """The writer of page views and exit links: append-only like `Insert`, and each
    document this write stored counted once into the rollups before the batch is acked
    (`Rollups.prepare` stamps the attempt's token, `after_store` counts; a replay or a
    retry counts nothing twice)."""

    def __init__(self, sink: Sink, settings: Settings, redis: Redis) -> None:
        self.collection = sink.collection.name
        self.redis = redis
        self.prefix = settings.queue.stream_prefix
        self.compact_s = settings.stats.stats_compact_s
        self.zones = settings.stats.stats_zones
        self._rollups: Rollups | None = None

    def write(self, db: Database, decoded: Decoded) -> list[DeadLetter]:
        if self._rollups is None:
            # One Rollups per flusher for both sinks: one compaction timer, not two.
            per_db = _SHARED.setdefault(self.redis, {})
            key = (db.name, self.prefix)
            if key not in per_db:
                per_db[key] = Rollups(db, self.redis, self.prefix, self.compact_s, self.zones)
            self._rollups = per_db[key]
        # A log_id twice in one batch (an entry replayed beside its original) is stored
        # and counted once: the rollups' duplicate rule is about earlier attempts.
        owners, seen = [], set()
        for index, (_, doc) in enumerate(decoded):
            if doc.get("log_id") not in seen:
                seen.add(doc.get("log_id"))
                owners.append(index)
        tally.duplicates(self.collection, len(decoded) - len(owners))
        docs = self._rollups.prepare([decoded[index][1] for index in owners])
        outcome = insert_documents(db[self.collection], docs)
        failed = {index for index, _, _ in outcome.refused} | set(outcome.duplicate_indexes)
        inserted = [doc for index, doc in enumerate(docs) if index not in failed]
        duplicates = [docs[index] for index in outcome.duplicate_indexes]
        self._rollups.after_store(self.collection, inserted, duplicates)
        return [
            DeadLetter(decoded[owners[index]][0], reason, details)
            for index, reason, details in outcome.refused
        ]
