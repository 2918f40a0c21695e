"""Erase one learner: every document that names them, in every collection, by index;
their events still in the queue are dropped as they arrive; an audit record is kept.

In order:
1. The erasure is recorded in Redis (`footfall.learners.queue`): from now on a flusher
   drops that learner's events accepted before this moment, and stores later ones.
2. It waits (at most ERASURE_SETTLE_S) for the entries a flusher was already handed
   before that moment: it may have checked the records before step 1 and be writing
   them now.
3. Every collection that names a learner (`Collection.learner`) loses their documents:
   a `delete_many` by the learner's field (an index starts with it). A merged
   collection (`Learner.tombstone`: usage logs) is purged to a tombstone (`log_id`
   only) the way a hard DELETE purges one, so that a change still queued for one of
   those sessions cannot bring its data back.
4. The audit record: who, when, how many documents per collection, what was still in
   flight; never the learner's name nor their data.

Running it again is harmless (nothing is found twice).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database
from redis import Redis

from footfall.learners.queue import ErasureRecords
from footfall.learners.subject import Subject, about_learners
from footfall.settings import Settings
from footfall.sinks import SINKS
from footfall.store import merge
from footfall.store.collections import ERASURES, Collection
from footfall.store.streams import Streams
from footfall.store.writers import Merge

POLL_S = 0.05


@dataclass(frozen=True)
class Erasure:
    erased_at: datetime
    by: str
    counts: dict[str, int]
    #: Events a flusher held at the erasure and had not finished within ERASURE_SETTLE_S.
    in_flight: int
    reference: str | None = None
    audit_id: str = field(default="")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def audit(self) -> dict[str, Any]:
        """The audit record: no name, no data."""
        record: dict[str, Any] = {
            "erased_at": self.erased_at,
            "by": self.by,
            "counts": self.counts,
            "total": self.total,
            "in_flight": self.in_flight,
        }
        if self.reference is not None:
            record["reference"] = self.reference
        return record


def erase(
    db: Database,
    redis: Redis,
    settings: Settings,
    subject: Subject,
    *,
    by: str,
    reference: str | None = None,
) -> Erasure:
    streams = Streams(redis, settings.queue.stream_prefix, settings.queue.idempotency_ttl_s)
    names = [streams.stream(sink.stream) for sink in SINKS]
    records = ErasureRecords(redis, settings.queue.stream_prefix)
    at_ms = records.record(subject.record_names())
    in_flight = _settle(records, names, at_ms, settings.retention.erasure_settle_s)
    counts = {
        collection.name: _erase(db, collection, subject, at_ms) for collection in about_learners()
    }
    erased_at = datetime.fromtimestamp(at_ms / 1000, UTC)
    done = Erasure(erased_at, by, counts, in_flight, reference)
    audit_id = db[ERASURES.name].insert_one(done.audit()).inserted_id
    records.forget_settled(names)
    return Erasure(erased_at, by, counts, in_flight, reference, str(audit_id))


def filters(subject: Subject) -> dict[str, dict[str, Any]]:
    """The query erasing the learner runs on each collection (its explain plans are tested)."""
    queries = {c.name: subject.filter(c) for c in about_learners()}
    return {name: query for name, query in queries.items() if query is not None}


def _settle(records: ErasureRecords, streams: list[str], at_ms: int, wait_s: float) -> int:
    deadline = time.monotonic() + wait_s
    while (held := records.in_flight(streams, at_ms)) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    return held


def _erase(db: Database, collection: Collection, subject: Subject, at_ms: int) -> int:
    query = subject.filter(collection)
    if query is None:
        return 0
    mongo = db[collection.name]
    if collection.learner is None or not collection.learner.tombstone:
        return mongo.delete_many(query).deleted_count
    # A purge newer than every change accepted up to the erasure (merge versions sort
    # by stream id): those changes, still queued, find a tombstone and set nothing.
    version = merge.version(f"{at_ms}-{10**10 - 1}")
    log_ids = [doc["log_id"] for doc in mongo.find(query, {"log_id": 1})]
    purges = [
        merge.change_update(
            {
                "op": "purge",
                "log_id": log_id,
                "at": datetime.fromtimestamp(at_ms / 1000, UTC),
                "created": False,
                "fields": {},
            },
            version,
            Merge.fields,
        )
        for log_id in log_ids
    ]
    if purges:
        mongo.bulk_write(purges, ordered=False)
    return len(log_ids)
