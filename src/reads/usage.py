"""Usage sessions as stored: one, a filtered page, and time used per tool."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from footfall.store.collections import USAGE_LOGS

_FIELDS = [
    "log_id",
    "tool_id",
    "user_id",
    "start_dt",
    "end_dt",
    "create_dt",
    "update_dt",
    "is_delete",
    "delete_dt",
]
_PROJECTION = {"_id": 0, **{name: 1 for name in _FIELDS}}


@dataclass(frozen=True)
class Filters:
    user_ids: list[str] = field(default_factory=list)
    tool_ids: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    online: bool | None = None
    include_deleted: bool = False

    def query(self) -> dict[str, Any]:
        # A session whose create has not been stored yet (a change overtook it) is not shown.
        query: dict[str, Any] = {"create_dt": {"$exists": True}}
        if self.user_ids:
            query["user_id"] = {"$in": self.user_ids}
        if self.tool_ids:
            query["tool_id"] = {"$in": self.tool_ids}
        started = {}
        if self.since is not None:
            started["$gte"] = self.since
        if self.until is not None:
            started["$lt"] = self.until
        if started:
            query["start_dt"] = started
        if self.online is not None:
            query["end_dt"] = None if self.online else {"$ne": None}
        if not self.include_deleted:
            query["is_delete"] = {"$ne": True}
        return query


def one(db: Database, log_id: str, *, include_deleted: bool) -> dict[str, Any] | None:
    query = Filters(include_deleted=include_deleted).query() | {"log_id": log_id}
    document = db[USAGE_LOGS.name].find_one(query, _PROJECTION)
    return None if document is None else _record(document)


def page(
    db: Database, filters: Filters, *, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    query = filters.query()
    collection = db[USAGE_LOGS.name]
    total = collection.count_documents(query)
    cursor = (
        collection.find(query, _PROJECTION)
        .sort([("start_dt", DESCENDING), ("log_id", DESCENDING)])
        .skip((page - 1) * per_page)
        .limit(per_page)
    )
    return [_record(document) for document in cursor], total


def per_tool(
    db: Database,
    user_id: str,
    *,
    tool_ids: list[str],
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    query = Filters(user_ids=[user_id], tool_ids=tool_ids, since=since, until=until).query()
    pipeline = [
        {"$match": query},
        {
            "$group": {
                "_id": "$tool_id",
                "sessions": {"$sum": 1},
                "open_sessions": {
                    "$sum": {"$cond": [{"$eq": [{"$ifNull": ["$end_dt", None]}, None]}, 1, 0]}
                },
                "millis": {
                    "$sum": {
                        "$cond": [
                            {"$eq": [{"$ifNull": ["$end_dt", None]}, None]},
                            0,
                            {"$subtract": ["$end_dt", "$start_dt"]},
                        ]
                    }
                },
            }
        },
        {"$sort": {"millis": -1, "_id": 1}},
    ]
    tools = [
        {
            "tool_id": row["_id"],
            "sessions": row["sessions"],
            "seconds": row["millis"] / 1000,
            "open_sessions": row["open_sessions"],
        }
        for row in db[USAGE_LOGS.name].aggregate(pipeline)
    ]
    return {
        "user_id": user_id,
        "sessions": sum(tool["sessions"] for tool in tools),
        "total_seconds": sum(tool["seconds"] for tool in tools),
        "tools": tools,
    }


def _record(document: dict[str, Any]) -> dict[str, Any]:
    record = {name: _json(document.get(name)) for name in _FIELDS}
    record["is_delete"] = bool(document.get("is_delete"))
    record["online"] = document.get("end_dt") is None
    return record


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value
