"""Last-writer-wins merge of changes into one document per `log_id`.

Changes reach MongoDB in any order (several flushers, retries, claims of a dead
flusher's entries). Each change carries a version, its stream entry id, which Redis
assigns in the order it accepted the changes. Every field remembers the version that
set it (`_v.<field>`) and takes a new value only from a newer version, so applying the
same changes in any order, any number of times, gives the same document.

A purge (hard delete) removes every field set by an older version and leaves a
tombstone, so that a create still in the queue cannot bring the data back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne

NO_VERSION = ""


def version(entry_id: str) -> str:
    """A stream entry id as a string that sorts in the stream's order."""
    millis, _, seq = entry_id.partition("-")
    return f"{int(millis):015d}-{int(seq or 0):010d}"


def _newer(version_: str, field: str) -> dict[str, Any]:
    return {"$gt": [version_, {"$ifNull": [f"$_v.{field}", NO_VERSION]}]}


def _has_purge() -> dict[str, Any]:
    return {"$gt": [{"$ifNull": ["$_v.purge", NO_VERSION]}, NO_VERSION]}


def _purged(field: str) -> dict[str, Any]:
    return {"$lte": [{"$ifNull": [f"$_v.{field}", NO_VERSION]}, "$_v.purge"]}


def change_update(change: dict[str, Any], version_: str, data_fields: list[str]) -> UpdateOne:
    """The upsert that merges one change (as `UsageLogChange.decode` gives it)."""
    at: datetime = change["at"]
    merged: dict[str, Any] = {"log_id": change["log_id"], "update_dt": {"$max": [at, "$update_dt"]}}
    for field, value in change["fields"].items():
        merged[field] = {"$cond": [_newer(version_, field), {"$literal": value}, f"${field}"]}
        merged[f"_v.{field}"] = {"$max": [version_, f"$_v.{field}"]}
    if change["created"]:
        merged["create_dt"] = {"$min": [at, "$create_dt"]}
        merged["_v.create_dt"] = {"$max": [version_, "$_v.create_dt"]}
    if change["op"] == "purge":
        merged["_v.purge"] = {"$max": [version_, "$_v.purge"]}
    pipeline: list[dict[str, Any]] = [{"$set": merged}]
    purgeable = [*data_fields, "create_dt"]
    pipeline.append(
        {
            "$set": {
                field: {
                    "$cond": [
                        {"$and": [_has_purge(), _purged(field)]},
                        "$$REMOVE",
                        f"${field}",
                    ]
                }
                for field in purgeable
            }
        }
    )
    return UpdateOne({"log_id": change["log_id"]}, pipeline, upsert=True)
