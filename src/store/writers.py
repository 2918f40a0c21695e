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
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import orjson
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
    from redis import Redis

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

    @property
    def learner(self) -> str | None:
        """The learner its payload names, so that a learner's export and erasure find
        the dead letter by index."""
        with suppress(ValueError):
            data = orjson.loads(self.entry.payload)
            if isinstance(data, dict) and isinstance(data.get("username"), str):
                return data["username"]
        return None


class Insert:
    """Append-only: one insert_many; a duplicate log_id is already stored."""

    def __init__(self, sink: Sink, settings: Settings, redis: Redis) -> None:
        self.collection = sink.collection.name

    def write(self, db: Database, decoded: Decoded) -> list[DeadLetter]:
        return insert_decoded(db[self.collection], decoded)


def insert_decoded(mongo: MongoCollection, decoded: Decoded) -> list[DeadLetter]:
    """`insert_documents` of a decoded batch; a dead letter per entry refused."""
    outcome = insert_documents(mongo, [doc for _, doc in decoded])
    return [
        DeadLetter(decoded[index][0], reason, details) for index, reason, details in outcome.refused
    ]


@dataclass(frozen=True)
class Inserted:
    """What one `insert_documents` did: documents stored now, already stored (their
    log_id was), and refused for good as (index, MongoDB's reason, its details)."""

    stored: int
    duplicates: int
    refused: list[tuple[int, str, Any]]
    #: The indexes of the documents that were already stored (their log_id was).
    duplicate_indexes: tuple[int, ...] = ()


def insert_documents(mongo: MongoCollection, documents: Sequence[dict[str, Any]]) -> Inserted:
    """Append documents in one unordered insert_many: the write of every append-only
    collection (the flusher's `insert` mode, `footfall import edx`).

    A duplicate log_id is already stored; a refusal (the validator) is returned for the
    caller to report; anything transient raises TransientWriteError, and the caller
    writes the same documents again (duplicates are then harmless).
    """
    if not documents:
        return Inserted(0, 0, [])
    try:
        mongo.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        refused, duplicates, seen = [], 0, []
        for write_error in error.details.get("writeErrors", []):
            code = write_error["code"]
            if code == DUPLICATE_KEY:
                duplicates += 1
                seen.append(write_error["index"])
            elif code in TRANSIENT_CODES:
                raise TransientWriteError(write_error.get("errmsg", str(code))) from error
            else:
                reason = write_error.get("errmsg", "refused")
                details = write_error.get("errInfo") or {"code": code}
                refused.append((write_error["index"], reason, details))
        if error.details.get("writeConcernErrors"):
            raise TransientWriteError("write concern not satisfied") from error
        tally.duplicates(mongo.name, duplicates)
        return Inserted(error.details.get("nInserted", 0), duplicates, refused, tuple(seen))
    return Inserted(len(documents), 0, [])


class Merge:
    """One document per log_id, changes merged field by field (`footfall.store.merge`)."""

    #: The fields a change may set (a purge removes them).
    fields: ClassVar[list[str]] = list(UsageFields.model_fields)

    def __init__(self, sink: Sink, settings: Settings, redis: Redis) -> None:
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

    def __init__(self, sink: Sink, settings: Settings, redis: Redis) -> None:
        self.collection = sink.collection.name
        self.threshold = settings.progress.completion_threshold

    def write(self, db: Database, decoded: Decoded) -> list[DeadLetter]:
        dead = insert_decoded(db[PROGRESS_EVENTS.name], decoded)
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
