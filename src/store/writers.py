"""How a sink stores a decoded batch, and which entries MongoDB refused for good.

A writer returns the dead letters: entries that can never be stored as they are (the
validator refuses the document). Duplicates count as stored. Anything transient
(network, failover, shutdown) is raised for the flusher to retry; retrying is safe
because `log_id` is unique and merges are idempotent.

Three writers: `Insert` (append-only), `Merge` (one document per log_id, changes merged
field by field) and `TutorialStates` (every event kept, then merged into states). Each
is built per flusher from its sink and the settings, and keeps only what it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pymongo import UpdateOne
from pymongo.collection import Collection as MongoCollection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from footfall.events.usage_log import UsageFields
from footfall.metrics import tally
from footfall.store import merge, tutorial_states
from footfall.store.collections import PROGRESS_EVENTS
from footfall.store.streams import Entry

if TYPE_CHECKING:
    from footfall.settings import Settings
    from footfall.sinks import Sink

DUPLICATE_KEY = 11000
#: Write errors that say "not now" rather than "never": the batch is retried.
TRANSIENT_CODES = {6, 7, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}

Decoded = list[tuple[Entry, dict[str, Any]]]


class Writer(Protocol):
    """Stores a decoded batch of one sink; returns the dead letters."""

    def write(self, db: Database, decoded: Decoded) -> list[DeadLetter]: ...


class TransientWriteError(Exception):
    """MongoDB could not take the batch now; its entries stay pending."""


@dataclass(frozen=True)
class DeadLetter:
    entry: Entry
    reason: str
    details: Any = None


class Insert:
    """Append-only: one insert_many; a duplicate log_id is already stored."""

    def __init__(self, sink: Sink, settings: Settings) -> None:
        self.collection = sink.collection.name

    def write(self, db: Database, decoded: Decoded) -> list[DeadLetter]:
        return insert_documents(db[self.collection], decoded)


def insert_documents(mongo: MongoCollection, decoded: Decoded) -> list[DeadLetter]:
    """insert_many(ordered=False) of the documents; dead letters for what is refused."""
    if not decoded:
        return []
    try:
        mongo.insert_many([doc for _, doc in decoded], ordered=False)
    except BulkWriteError as error:
        dead = _refused(error, [[entry] for entry, _ in decoded])
        errors = error.details.get("writeErrors", [])
        tally.duplicates(mongo.name, sum(e["code"] == DUPLICATE_KEY for e in errors))
        return dead
    return []


class Merge:
    """One document per log_id, changes merged field by field (`footfall.store.merge`)."""

    #: The fields a change may set (a purge removes them).
    fields: ClassVar[list[str]] = list(UsageFields.model_fields)

    def __init__(self, sink: Sink, settings: Settings) -> None:
        self.collection = sink.collection.name

    def write(self, db: Database, decoded: Decoded) -> list[DeadLetter]:
        return _upserts(
            db[self.collection],
            [
                ([entry], merge.change_update(change, merge.version(entry.first_id), self.fields))
                for entry, change in decoded
            ],
        )


class TutorialStates:
    """Every event kept raw (insert_many into `progress_events`), then merged into its
    state: one bulk_write of upserts, one per state, with the derived fields
    (`footfall.store.tutorial_states`).

    An event the raw collection refuses is not merged: what a state holds is always
    backed by a stored event.
    """

    def __init__(self, sink: Sink, settings: Settings) -> None:
        self.collection = sink.collection.name
        self.threshold = settings.progress.completion_threshold

    def write(self, db: Database, decoded: Decoded) -> list[DeadLetter]:
        dead = insert_documents(db[PROGRESS_EVENTS.name], decoded)
        refused = {id(letter.entry) for letter in dead}
        pending = tutorial_states.deltas((e, doc) for e, doc in decoded if id(e) not in refused)
        return dead + _merge_states(db[self.collection], pending, self.threshold)


def _merge_states(
    mongo: MongoCollection, pending: list[tutorial_states.StateDelta], threshold: float
) -> list[DeadLetter]:
    """Read the states, write them guarded by the `rev` read; again for those that
    another flusher changed (or created) in between (a duplicate key error)."""
    dead: list[DeadLetter] = []
    for _ in range(5):
        if not pending:
            return dead
        ids = [delta.state_id for delta in pending]
        stored = {
            doc["_id"]: doc for doc in mongo.find({"_id": {"$in": ids}}, tutorial_states.READ_BACK)
        }
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
