"""Dead letters: stream entries MongoDB refused for good, kept with its reason, to be
seen, replayed through the queue (after a validator change or a fix) or purged.

A dead letter's identity is its stream and the entry id its event was first queued
under (unique in `dead_letters`). A replay queues the payload again on its sink's
stream, naming that first id (`Streams.requeue`), so that:

- a replay that fails again updates the same dead letter with the new reason
  (`bury` upserts by that identity), and counts in `replays`;
- a replay that is stored removes it (`resolve`, by the flusher, before the ack);
- replaying twice stores once: `log_id` is unique in every collection, and a usage-log
  change keeps its first id as its merge version, so a replay never overrides a newer
  change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId, json_util
from bson.errors import InvalidId
from pymongo import DESCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from footfall.reads.values import iso
from footfall.sinks import BY_STREAM
from footfall.store.collections import DEAD_LETTERS
from footfall.store.streams import Entry, Streams
from footfall.store.writers import DUPLICATE_KEY, DeadLetter, TransientWriteError

__all__ = ["DeadLetters", "Filter", "bury", "resolve"]


# The flusher's side


def bury(db: Database, letters: Sequence[DeadLetter]) -> None:
    """Store dead letters, or update those their entries replay (new reason, new time).

    Upserts by identity, so burying the same entry again (a flusher that died before
    its ack) changes nothing but the time.
    """
    updates = [
        UpdateOne(
            {"collection": letter.entry.collection, "entry_id": letter.entry.first_id},
            {
                "$set": {
                    "reason": letter.reason,
                    "details": letter.details,
                    "failed_at": datetime.now(UTC),
                },
                "$setOnInsert": {
                    "payload": letter.entry.payload.decode(errors="replace"),
                    **({"username": letter.learner} if letter.learner else {}),
                },
            },
            upsert=True,
        )
        for letter in letters
    ]
    for _ in range(2):  # two flushers upserting one new letter: the loser applies again
        try:
            db[DEAD_LETTERS.name].bulk_write(updates, ordered=False)
            return
        except BulkWriteError as error:
            errors = error.details["writeErrors"]
            if any(e["code"] != DUPLICATE_KEY for e in errors):
                raise TransientWriteError("dead letters not stored") from error
            updates = [updates[e["index"]] for e in errors]
    raise TransientWriteError("dead letters kept racing")


def resolve(db: Database, stored: Sequence[Entry]) -> None:
    """Replayed entries MongoDB now holds: their dead letters go."""
    replays: dict[str, list[str]] = {}
    for entry in stored:
        if entry.origin_id is not None:
            replays.setdefault(entry.collection, []).append(entry.origin_id)
    if replays:
        db[DEAD_LETTERS.name].delete_many(
            {"$or": [{"collection": c, "entry_id": {"$in": ids}} for c, ids in replays.items()]}
        )


# The operator's side


class FilterError(ValueError):
    """A filter that cannot select anything as asked; `pointer` names the field."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(detail)
        self.pointer = pointer
        self.detail = detail


@dataclass(frozen=True)
class Filter:
    """Which dead letters: every given condition holds. `everything` must be said
    for an empty filter to select all (a replay or purge of all is never an accident)."""

    ids: tuple[str, ...] = ()
    collection: str | None = None
    #: A part of the reason, any case.
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    everything: bool = False

    @property
    def empty(self) -> bool:
        return not (self.ids or self.collection or self.reason or self.since or self.until)

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.ids:
            query["_id"] = {"$in": [_object_id(text) for text in self.ids]}
        if self.collection:
            query["collection"] = self.collection
        if self.reason:
            query["reason"] = {"$regex": re.escape(self.reason), "$options": "i"}
        if self.since or self.until:
            query["failed_at"] = {
                **({"$gte": self.since} if self.since else {}),
                **({"$lt": self.until} if self.until else {}),
            }
        return query

    def selection(self) -> dict[str, Any]:
        """The query of a replay or purge: refused when empty without `everything`."""
        if self.empty and not self.everything:
            raise FilterError("/all", "give ids or a filter, or all: true for every dead letter")
        return self.query()


@dataclass
class Replayed:
    replayed: int
    #: Dead letters that cannot be replayed (their stream has no sink any more).
    skipped: list[dict[str, str]]

    def json(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "skipped": self.skipped}


class DeadLetters:
    """List, show, replay and purge: the API's handlers and `footfall dead-letters`."""

    def __init__(self, db: Database, streams: Streams) -> None:
        self.collection = db[DEAD_LETTERS.name]
        self.streams = streams

    def page(self, where: Filter, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
        """Newest first, without payloads."""
        query = where.query()
        found = (
            self.collection.find(query, {"payload": 0, "details": 0})
            .sort([("failed_at", DESCENDING), ("_id", DESCENDING)])
            .skip((page - 1) * per_page)
            .limit(per_page)
        )
        items = [_record(doc) for doc in found]
        return items, self.collection.count_documents(query)

    def one(self, letter_id: str) -> dict[str, Any] | None:
        """With MongoDB's reason (`details`), the payload and the event it decodes to."""
        try:
            doc = self.collection.find_one({"_id": ObjectId(letter_id)})
        except InvalidId:
            return None
        return None if doc is None else _record(doc, full=True)

    def replay(self, where: Filter) -> Replayed:
        """Queue the selected letters' payloads again on their sinks' streams; each is
        stored (and its letter removed) or refused again (its letter updated) by a flusher."""
        query = where.selection()
        entries, skipped, ids = [], [], []
        for doc in self.collection.find(query, {"collection": 1, "entry_id": 1, "payload": 1}):
            if doc["collection"] not in BY_STREAM:
                skipped.append(
                    {"id": str(doc["_id"]), "detail": f"no sink for {doc['collection']!r}"}
                )
                continue
            entries.append(
                Entry(doc["collection"], doc["entry_id"], doc["payload"].encode(), doc["entry_id"])
            )
            ids.append(doc["_id"])
        for start in range(0, len(entries), 500):
            self.streams.requeue(entries[start : start + 500])
        if ids:
            self.collection.update_many(
                {"_id": {"$in": ids}},
                {"$set": {"replayed_at": datetime.now(UTC)}, "$inc": {"replays": 1}},
            )
        return Replayed(len(entries), skipped)

    def purge(self, where: Filter) -> int:
        return self.collection.delete_many(where.selection()).deleted_count


def _object_id(text: str) -> ObjectId:
    try:
        return ObjectId(text)
    except InvalidId:
        raise FilterError("/ids", f"{text!r} is not a dead letter id") from None


def _record(doc: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": str(doc["_id"]),
        "collection": doc["collection"],
        "entry_id": doc["entry_id"],
        "reason": doc["reason"],
        "failed_at": iso(doc["failed_at"]),
        "replays": doc.get("replays", 0),
        "replayed_at": iso(doc.get("replayed_at")),
    }
    if full:
        record["payload"] = doc["payload"]
        record["event"] = _event(doc["payload"])
        # errInfo holds BSON values (the refused document's ObjectId): as extended JSON.
        record["details"] = json.loads(json_util.dumps(doc.get("details")))
    return record


def _event(payload: str) -> dict[str, Any] | None:
    """The queued message as JSON (`{"kind": ..., ...}`), or None when it is not JSON."""
    try:
        event = json.loads(payload)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
