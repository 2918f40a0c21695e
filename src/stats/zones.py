"""Which zones' days and months the rollups keep: a registry shared by every flusher.

`STATS_ZONES` lists the zones whose local days and months (and the hours of their phase)
compaction keeps as whole documents. A query reads a coarse period only if it is *kept*
and clean; a period with no document at all is read as empty, which is true only if
every batch that counted into it marked it. So the zones are recorded in the database,
not only in each process's settings:

- a batch marks the containers of every zone in the registry (read again after its
  deltas are inserted, so a zone added meanwhile is marked by the batch or found by the
  backfill below, never missed);
- `sync` (a flusher's first compaction) makes the registry match `STATS_ZONES`: a zone
  added is recorded `ready: false`, every period of it holding a stored 15-minute period
  is marked dirty (compaction then sums them), and only then is it set `ready`; a zone
  removed is dropped (its documents stay, unread);
- queries tile with the `ready` zones only.

A registry that was never written is that of a deployment from before zones were
configurable: UTC's days, months and hours, all marked by every batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from footfall.stats import buckets
from footfall.stats.buckets import Kept, Period
from footfall.store.collections import ROLLUPS
from footfall.store.writers import DUPLICATE_KEY

#: The registry document, in the rollups collection (its level `zones` is no period's).
REGISTRY = "zones"
#: Quarters of stored deltas and bases (footfall.stats.rollup.DELTA and "q").
QUARTER_LEVELS = ["q", "qd"]


def _entries(db: Database) -> list[dict[str, Any]]:
    doc = db[ROLLUPS.name].find_one({"_id": REGISTRY})
    if doc is None:
        return [{"name": "UTC", "ready": True, "phases": list(buckets.UTC_ONLY.phases)}]
    return list(doc["zones"])


def _kept(entries: Sequence[dict[str, Any]]) -> Kept:
    names = tuple(e["name"] for e in entries)
    phases = tuple(sorted({p for e in entries for p in e["phases"]}))
    return Kept(names, phases)


def marked(db: Database) -> Kept:
    """What a batch marks: every zone in the registry, ready or being backfilled."""
    return _kept(_entries(db))


def ready(db: Database) -> Kept:
    """What queries may read whole: the zones whose every period has been marked."""
    return _kept([e for e in _entries(db) if e["ready"]])


def sync(db: Database, configured: Sequence[str]) -> list[str]:
    """Make the registry match the configured zones; returns the zones added (whose
    periods holding stored quarters are now marked dirty, for compaction to sum)."""
    entries = _entries(db)
    names = [e["name"] for e in entries]
    kept = [e for e in entries if e["name"] in configured]
    added = [z for z in dict.fromkeys(configured) if z not in names]
    if not added and len(kept) == len(entries):
        return []
    fresh = [{"name": z, "ready": False, "phases": list(buckets.phases(z))} for z in added]
    _write(db, kept + fresh)
    if added:
        mark_history(db, _kept(fresh))
        for entry in fresh:
            entry["ready"] = True
        _write(db, kept + fresh)
    return added


def mark_history(db: Database, kept: Kept) -> None:
    """Mark dirty every kept period that holds a stored 15-minute period."""
    starts = db[ROLLUPS.name].distinct("s", {"l": {"$in": QUARTER_LEVELS}})
    periods: set[Period] = set()
    for start in starts:
        periods.update(buckets.containers(Period("q", start.replace(tzinfo=UTC)), kept))
    ordered = sorted(periods)
    for at in range(0, len(ordered), 1000):
        mark_dirty(db, ordered[at : at + 1000])


def mark_dirty(db: Database, periods: Sequence[Period]) -> None:
    """Mark coarse periods dirty (`dv` counts the marks: compaction clears a mark only if
    no batch marked the period meanwhile). Two flushers creating one period race once;
    the loser retries."""
    ops = [_mark(p) for p in periods]
    for _ in range(3):
        try:
            if ops:
                db[ROLLUPS.name].bulk_write(ops, ordered=False)
            return
        except BulkWriteError as error:
            errors = error.details["writeErrors"]
            if any(e["code"] != DUPLICATE_KEY for e in errors):
                raise
            ops = [ops[e["index"]] for e in errors]


def _mark(period: Period) -> UpdateOne:
    fields: dict[str, Any] = {"dirty": True, "l": period.level, "s": period.start}
    if period.zone != buckets.ABSOLUTE:
        fields["z"] = period.zone
    return UpdateOne({"_id": period.key}, {"$set": fields, "$inc": {"dv": 1}}, upsert=True)


def _write(db: Database, entries: list[dict[str, Any]]) -> None:
    db[ROLLUPS.name].replace_one(
        {"_id": REGISTRY},
        {"l": REGISTRY, "s": datetime.now(UTC), "zones": entries},
        upsert=True,
    )
