"""Write a batch of stream entries into one collection, and say which ones MongoDB refused.

Returns the dead letters: entries that can never be stored as they are (the event no
longer decodes, or the validator refuses the document). Duplicates count as stored.
Anything transient (network, failover, shutdown) is raised for the flusher to retry;
retrying is safe because `log_id` is unique and merges are idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pymongo import UpdateOne
from pymongo.collection import Collection as MongoCollection
from pymongo.errors import BulkWriteError

from footfall.progress.completion import DEFAULT_THRESHOLD
from footfall.settings import Settings
from footfall.store import merge, progress
from footfall.store.collections import Collection, WriteMode
from footfall.store.streams import Entry

DUPLICATE_KEY = 11000
#: Write errors that say "not now" rather than "never": the batch is retried.
TRANSIENT_CODES = {6, 7, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}

Decode = Callable[[bytes], dict[str, Any]]
#: Runs on a decoded batch before it is written (enrichment): returns the documents to
#: store, in order, the same objects; one it leaves out is acked without being stored.
Prepare = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
Decoded = list[tuple[Entry, dict[str, Any]]]
#: Runs once an append-only batch is stored, before it is acked, with the documents this
#: write inserted and those already stored (duplicate log_id): the statistics' rollups
#: (`footfall.stats.rollup.Rollups.after_store`). Raising leaves the batch pending.
AfterStore = Callable[[str, list[dict[str, Any]], list[dict[str, Any]]], None]


class TransientWriteError(Exception):
    """MongoDB could not take the batch now; its entries stay pending."""


@dataclass(frozen=True)
class DeadLetter:
    entry: Entry
    reason: str
    details: Any = None

    def document(self) -> dict[str, Any]:
        return {
            "collection": self.entry.collection,
            "entry_id": self.entry.entry_id,
            "payload": self.entry.payload.decode(errors="replace"),
            "reason": self.reason,
            "details": self.details,
            "failed_at": datetime.now(UTC),
        }


def write(
    mongo: MongoCollection,
    collection: Collection,
    decode: Decode,
    entries: Sequence[Entry],
    settings: Settings | None = None,
    prepare: Prepare | None = None,
    after: AfterStore | None = None,
) -> list[DeadLetter]:
    """Store a batch the way its collection says (`Collection.write`, one strategy each)."""
    decoded, dead = _decode_all(decode, entries)
    if prepare is not None:
        kept = {id(doc) for doc in prepare([doc for _, doc in decoded])}
        decoded = [(entry, doc) for entry, doc in decoded if id(doc) in kept]
    if collection.write == "insert":
        return dead + _insert_many(mongo, decoded, after)
    strategy = _STRATEGIES[collection.write]
    return dead + strategy(mongo, collection, decoded, settings)


def _decode_all(decode: Decode, entries: Sequence[Entry]) -> tuple[Decoded, list[DeadLetter]]:
    decoded, dead = [], []
    for entry in entries:
        try:
            decoded.append((entry, decode(entry.payload)))
        except (ValidationError, ValueError) as error:
            dead.append(DeadLetter(entry, "the event does not decode", str(error)))
    return decoded, dead


def _insert_many(
    mongo: MongoCollection, decoded: Decoded, after: AfterStore | None = None
) -> list[DeadLetter]:
    if not decoded:
        return []
    docs = [doc for _, doc in decoded]
    dead: list[DeadLetter] = []
    failed: dict[int, int] = {}
    try:
        mongo.insert_many(docs, ordered=False)
    except BulkWriteError as error:
        dead = _refused(error, [[entry] for entry, _ in decoded])
        failed = {e["index"]: e["code"] for e in error.details.get("writeErrors", [])}
    if after is not None:
        inserted = [doc for i, doc in enumerate(docs) if i not in failed]
        duplicates = [doc for i, doc in enumerate(docs) if failed.get(i) == DUPLICATE_KEY]
        after(mongo.name, inserted, duplicates)
    return dead


def _merge(
    mongo: MongoCollection, collection: Collection, decoded: Decoded, settings: Settings | None
) -> list[DeadLetter]:
    """One document per log_id, changes merged field by field (`footfall.store.merge`)."""
    fields = list(collection.merge_fields)
    return _upserts(
        mongo,
        [
            ([entry], merge.change_update(change, merge.version(entry.entry_id), fields))
            for entry, change in decoded
        ],
    )


def _progress(
    mongo: MongoCollection, collection: Collection, decoded: Decoded, settings: Settings | None
) -> list[DeadLetter]:
    """Every event kept raw (insert_many), then merged into its state: one bulk_write of
    upserts, one per state, with the derived fields (`footfall.store.progress`).

    An event the raw collection refuses is not merged: what a state holds is always
    backed by a stored event.
    """
    dead = _insert_many(mongo.database[collection.raw_collection], decoded)
    refused = {id(letter.entry) for letter in dead}
    pending = progress.deltas((e, doc) for e, doc in decoded if id(e) not in refused)
    threshold = settings.completion_threshold if settings else DEFAULT_THRESHOLD
    return dead + _merge_states(mongo, pending, threshold)


def _merge_states(
    mongo: MongoCollection, pending: list[progress.StateDelta], threshold: float
) -> list[DeadLetter]:
    """Read the states, write them guarded by the `rev` read; again for those that
    another flusher changed (or created) in between (a duplicate key error)."""
    dead: list[DeadLetter] = []
    for _ in range(5):
        if not pending:
            return dead
        ids = [delta.state_id for delta in pending]
        stored = {doc["_id"]: doc for doc in mongo.find({"_id": {"$in": ids}}, progress.READ_BACK)}
        updates = [delta.update(stored.get(delta.state_id), threshold) for delta in pending]
        try:
            mongo.bulk_write(updates, ordered=False)
            return dead
        except BulkWriteError as error:
            dead += _refused(error, [delta.entries for delta in pending])
            raced = {e["index"] for e in error.details["writeErrors"] if e["code"] == DUPLICATE_KEY}
            pending = [pending[i] for i in sorted(raced)]
    if not pending:
        return dead
    raise TransientWriteError("progress states kept changing under this flusher")


def _upserts(
    mongo: MongoCollection, pending: list[tuple[list[Entry], UpdateOne]]
) -> list[DeadLetter]:
    """One bulk_write of upserts, each owned by the entries it merges.

    Two upserts of one new key can race and one gets a duplicate key error; it is
    applied again, now as an update. Merges are idempotent, so this is safe.
    """
    dead: list[DeadLetter] = []
    for _ in range(3):
        if not pending:
            return dead
        try:
            mongo.bulk_write([update for _, update in pending], ordered=False)
            return dead
        except BulkWriteError as error:
            dead += _refused(error, [entries for entries, _ in pending])
            raced = {e["index"] for e in error.details["writeErrors"] if e["code"] == DUPLICATE_KEY}
            pending = [pending[i] for i in sorted(raced)]
    if not pending:
        return dead
    raise TransientWriteError("upserts kept racing on the same key")


def _refused(error: BulkWriteError, owners: Sequence[Sequence[Entry]]) -> list[DeadLetter]:
    """Dead letters for what MongoDB refused for good, one per entry owning the write.

    `owners[i]` are the entries whose write is operation i of the bulk.
    """
    dead = []
    for write_error in error.details.get("writeErrors", []):
        code = write_error["code"]
        if code == DUPLICATE_KEY:
            continue  # already stored (insert) or raced (merge: applied again)
        if code in TRANSIENT_CODES:
            raise TransientWriteError(write_error.get("errmsg", str(code))) from error
        details = write_error.get("errInfo") or {"code": code}
        for entry in owners[write_error["index"]]:
            dead.append(DeadLetter(entry, write_error.get("errmsg", "refused"), details))
    if error.details.get("writeConcernErrors"):
        raise TransientWriteError("write concern not satisfied") from error
    return dead


Strategy = Callable[[MongoCollection, Collection, Decoded, Settings | None], list[DeadLetter]]

#: How each `Collection.write` mode stores a batch.
#: ("insert", append-only, is `_insert_many`: a duplicate log_id is already stored.)
_STRATEGIES: dict[WriteMode, Strategy] = {
    "merge": _merge,
    "progress": _progress,
}
