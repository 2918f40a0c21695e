"""`$jsonSchema` validators: the last line of defence, in the database itself.

The API validates first (with the spec and the event models); these make sure that no
other writer, nor a bug in the flusher, can store a document of the wrong shape. A
document they refuse goes to `dead_letters` with MongoDB's reason.
"""

from __future__ import annotations

from typing import Any

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]


def _string(max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"bsonType": "string", **extra}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


DATE = {"bsonType": "date"}
BOOL = {"bsonType": "bool"}
OBJECT = {"bsonType": "object"}
NUMBER = {"bsonType": ["double", "int", "long", "decimal"]}
LOG_ID = _string(128, minLength=1)


def _schema(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$jsonSchema": {
            "bsonType": "object",
            "required": required,
            "properties": {"_id": {}, **properties},
            "additionalProperties": False,
        }
    }


_CLIENT = {
    "log_id": LOG_ID,
    "username": _string(150),
    "ip": _string(45),
    "user_agent": _string(1024),
    "received_at": DATE,
    "do_not_track": BOOL,
}

PAGEVIEW = _schema(
    ["log_id", "source", "path", "method", "visited_at", "received_at"],
    {
        **_CLIENT,
        "source": {"enum": ["server", "browser"]},
        "path": _string(2048, pattern="^/"),
        "method": {"enum": METHODS},
        "visited_at": DATE,
        "referrer": _string(2048),
        "page_title": _string(512),
        "first_visit": BOOL,
        "visitor_id": _string(128),
        "view_args": {"bsonType": "array"},
        "view_kwargs": OBJECT,
        "request_data": OBJECT,
        "event_name": _string(128),
        "latitude": {**NUMBER, "minimum": -90, "maximum": 90},
        "longitude": {**NUMBER, "minimum": -180, "maximum": 180},
    },
)

EXIT_LINK = _schema(
    ["log_id", "url", "page", "clicked_at", "received_at"],
    {
        **_CLIENT,
        "url": _string(2048, pattern="^[hH][tT][tT][pP][sS]?://"),
        "page": _string(2048),
        "page_title": _string(512),
        "clicked_at": DATE,
    },
)

# A session may exist before its create arrives (a change can overtake it in the
# queue), so only the key and the merge bookkeeping are required.
USAGE_LOG = _schema(
    ["log_id", "_v", "update_dt"],
    {
        "log_id": LOG_ID,
        "tool_id": _string(128),
        "user_id": _string(128),
        "start_dt": DATE,
        "end_dt": {"bsonType": ["date", "null"]},
        "create_dt": DATE,
        "update_dt": DATE,
        "is_delete": BOOL,
        "delete_dt": {"bsonType": ["date", "null"]},
        "_v": OBJECT,
    },
)

DEAD_LETTER = _schema(
    ["collection", "entry_id", "payload", "reason", "failed_at"],
    {
        "collection": _string(),
        "entry_id": _string(),
        "payload": _string(),
        "reason": _string(),
        "details": {},
        "failed_at": DATE,
    },
)
