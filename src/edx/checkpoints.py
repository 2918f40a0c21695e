"""Where the import of each tracking log got to, kept in MongoDB beside the events.

A checkpoint is the offset just past the last line whose batch MongoDB holds (in the
decompressed stream for a compressed file) and that line's number. It is written only
after the batch, so a resumed import starts at most one batch too early, and those
lines are already stored (their `log_id` says so). Kept in the same database as the
events: dropping the one drops the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.database import Database

from footfall.store.collections import EDX_IMPORTS


@dataclass(frozen=True)
class Checkpoint:
    offset: int = 0
    line: int = 0
    finished: bool = False


class Checkpoints:
    def __init__(self, db: Database) -> None:
        self.mongo = db[EDX_IMPORTS.name]

    def load(self, key: str) -> Checkpoint:
        found = self.mongo.find_one({"_id": key})
        if found is None:
            return Checkpoint()
        return Checkpoint(found["offset"], found["line"], found.get("finished_at") is not None)

    def save(self, key: str, name: str, offset: int, line: int, *, finished: bool = False) -> None:
        now = datetime.now(UTC)
        self.mongo.update_one(
            {"_id": key},
            {
                "$set": {
                    "name": name,
                    "offset": offset,
                    "line": line,
                    "updated_at": now,
                    "finished_at": now if finished else None,
                }
            },
            upsert=True,
        )

    def forget(self, key: str) -> None:
        self.mongo.delete_one({"_id": key})
