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

from footfall.store import merge
from footfall.store.collections import Collection
from footfall.store.streams import Entry
from pydantic import ValidationError
from pymongo import UpdateOne
from pymongo.collection import Collection as MongoCollection
from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000
#: Write errors that say "not now" rather than "never": the batch is retried.
TRANSIENT_CODES = {6, 7, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}

Decode = Callable[[bytes], dict[str, Any]]


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
    mongo: MongoCollection, collection: Collection, decode: Decode, entries: Sequence[Entry]
) -> list[DeadLetter]:
    decoded, dead = _decode_all(decode, entries)
    if collection.write == "merge":
        dead += _merge(mongo, decoded, list(collection.merge_fields))
    else:
        dead += _insert(mongo, decoded)
    return dead


def _decode_all(
    decode: Decode, entries: Sequence[Entry]
) -> tuple[list[tuple[Entry, dict[str, Any]]], list[DeadLetter]]:
    decoded, dead = [], []
    for entry in entries:
        try:
            decoded.append((entry, decode(entry.payload)))
        except (ValidationError, ValueError) as error:
            dead.append(DeadLetter(entry, "the event does not decode", str(error)))
    return decoded, dead


Decoded = list[tuple[Entry, dict[str, Any]]]


def _insert(mongo: MongoCollection, decoded: Decoded) -> list[DeadLetter]:
    if not decoded:
        return []
    try:
        mongo.insert_many([doc for _, doc in decoded], ordered=False)
    except BulkWriteError as error:
        return _refused(error, decoded)
    return []


def _merge(
    mongo: MongoCollection, decoded: list[tuple[Entry, dict[str, Any]]], fields: list[str]
) -> list[DeadLetter]:
    pending: list[tuple[Entry, UpdateOne]] = [
        (entry, merge.change_update(change, merge.version(entry.entry_id), fields))
        for entry, change in decoded
    ]
    # Two upserts of one new log_id can race and one gets a duplicate key error; it
    # is applied again, now as an update. Merges are idempotent, so this is safe.
    for _ in range(3):
        if not pending:
            return []
        try:
            mongo.bulk_write([update for _, update in pending], ordered=False)
            return []
        except BulkWriteError as error:
            dead = _refused(error, pending)
            raced = {e["index"] for e in error.details["writeErrors"] if e["code"] == DUPLICATE_KEY}
            pending = [pending[i] for i in sorted(raced)]
            if not pending:
                return dead
    raise TransientWriteError("upserts kept racing on the same log_id")


def _refused(error: BulkWriteError, items: Sequence[tuple[Entry, Any]]) -> list[DeadLetter]:
    dead = []
    for write_error in error.details.get("writeErrors", []):
        code = write_error["code"]
        if code == DUPLICATE_KEY:
            continue  # already stored (insert) or raced (merge: applied again)
        if code in TRANSIENT_CODES:
            raise TransientWriteError(write_error.get("errmsg", str(code))) from error
        entry = items[write_error["index"]][0]
        details = write_error.get("errInfo") or {"code": code}
        dead.append(DeadLetter(entry, write_error.get("errmsg", "refused"), details))
    if error.details.get("writeConcernErrors"):
        raise TransientWriteError("write concern not satisfied") from error
    return dead
