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


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "bsonType": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


# What the flusher's enrichment adds to a page view (footfall.enrich).
_VERSIONED = _object({"family": _string(256), "version": _string(64)}, ["family"])
_NAMED = _object({"iso_code": _string(16), "name": _string(256)})
_ENRICHED = {
    "browser": _VERSIONED,
    "os": _VERSIONED,
    "device": _object(
        {
            "family": _string(256),
            "brand": _string(256),
            "model": _string(256),
            "type": {"enum": ["desktop", "mobile", "tablet", "bot", "other"]},
        },
        ["type"],
    ),
    "is_bot": BOOL,
    "bot_reason": _string(64),
    "country": _NAMED,
    "region": _NAMED,
    "city": _string(256),
    # GeoJSON, as the 2dsphere index reads it: [longitude, latitude].
    "location": _object(
        {
            "type": {"enum": ["Point"]},
            "coordinates": {"bsonType": "array", "minItems": 2, "maxItems": 2, "items": NUMBER},
        },
        ["type", "coordinates"],
    ),
    "location_accuracy_km": {**NUMBER, "minimum": 0},
    "location_source": {"enum": ["browser", "ip"]},
    "enrich_errors": {"bsonType": "array", "items": _string(512)},
}

# What the statistics need of a view (footfall.stats): the course, tutorial and language
# of its URL, the visitor hash, and the visit it belongs to (footfall.stats.visits).
_STATS = {
    "course": _string(256),
    "tutorial": _string(256),
    "language": _string(256),
    "visitor": _string(32, minLength=32),
    "visit": _object(
        {
            "start": DATE,
            "seq": {"bsonType": ["int", "long"], "minimum": 1},
            "gap_s": {**NUMBER, "minimum": 0},
            "trail": {"bsonType": "array", "maxItems": 3, "items": _string(2048)},
            "entry_event": _string(128),
            "entry_course": _string(256),
            "prev_path": _string(2048),
            "prev_event": _string(128),
            "prev_course": _string(256),
        },
        ["start", "seq", "gap_s", "trail"],
    ),
}
#: The rollup token of the attempt that stored the document (footfall.stats.rollup).
_ROLLUP_TOKEN = _string(32, minLength=32)

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
        **_ENRICHED,
        **_STATS,
        "rt": _ROLLUP_TOKEN,
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
        "rt": _ROLLUP_TOKEN,
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

# Tutorial progress (footfall.events.progress, footfall.store.progress).
_PROGRESS_KEY = {
    "username": _string(150, minLength=1),
    "course_id": _string(128, minLength=1),
    "tutorial_id": _string(128, minLength=1),
    "language": _string(128, minLength=1),
}
_VISIT_ID = _string(64, pattern="^[A-Za-z0-9_-]+$")
_SECONDS = {**NUMBER, "minimum": 0, "maximum": 86_400}
#: Minute number -> the earliest time it was watched.
_MINUTES = {
    "bsonType": "object",
    "patternProperties": {"^[0-9]{1,4}$": DATE},
    "additionalProperties": False,
}
_COUNT = {"bsonType": ["int", "long"], "minimum": 0}

PROGRESS_EVENT = _schema(
    ["log_id", "kind", *_PROGRESS_KEY, "visit_id", "at", "received_at"],
    {
        **_PROGRESS_KEY,
        "log_id": LOG_ID,
        "kind": {"enum": ["tutorial_progress", "tutorial_completion"]},
        "visit_id": _VISIT_ID,
        "at": DATE,
        "received_at": DATE,
        "position_s": _SECONDS,
        "duration_s": _SECONDS,
        "completed": BOOL,
    },
)

# A state may hold only a toggle (no progress yet), so only its key and `rev` are required.
TUTORIAL_PROGRESS = _schema(
    [*_PROGRESS_KEY, "rev"],
    {
        **_PROGRESS_KEY,
        "rev": {"bsonType": ["int", "long"], "minimum": 1},
        "duration_s": _SECONDS,
        "minutes": _MINUTES,
        "visits": {
            "bsonType": "object",
            "patternProperties": {
                "^[A-Za-z0-9_-]{1,64}$": _object(
                    {"first": DATE, "last": DATE, "minutes": _MINUTES}, ["first", "last"]
                )
            },
            "additionalProperties": False,
        },
        "first_at": DATE,
        "last_at": DATE,
        "resume": _object(
            {"at": DATE, "log_id": LOG_ID, "position_s": _SECONDS, "visit_id": _VISIT_ID},
            ["at", "log_id", "position_s", "visit_id"],
        ),
        "toggle": _object(
            {"at": DATE, "log_id": LOG_ID, "completed": BOOL, "visit_id": _VISIT_ID},
            ["at", "log_id", "completed", "visit_id"],
        ),
        "completed": BOOL,
        "completed_at": {"bsonType": ["date", "null"]},
        "completion_source": {"enum": ["auto", "manual", None]},
        "watched_minutes": _COUNT,
        "total_minutes": {"bsonType": ["int", "long", "null"], "minimum": 1},
        "percent_watched": {**NUMBER, "minimum": 0, "maximum": 100},
        "visit_count": _COUNT,
    },
)

COURSE = _schema(
    ["course_id", "tutorials", "updated_at"],
    {
        "course_id": _string(128, minLength=1),
        "title": _string(512),
        "tutorials": {
            "bsonType": "array",
            "maxItems": 1000,
            "items": _object(
                {
                    "tutorial_id": _string(128, minLength=1),
                    "title": _string(512),
                    "duration_s": _SECONDS,
                    "languages": {"bsonType": "array", "items": _string(128, minLength=1)},
                },
                ["tutorial_id"],
            ),
        },
        "updated_at": DATE,
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

# API keys (footfall.security.keys): the secret itself is never stored, only its SHA-256.
API_KEY = _schema(
    ["key_id", "name", "scopes", "digest", "created_at"],
    {
        "key_id": _string(32, minLength=1),
        "name": _string(128, minLength=1),
        "scopes": {
            "bsonType": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": ["ingest", "browser", "read", "admin"]},
        },
        "origins": {"bsonType": "array", "items": _string(256, pattern="^https?://[^/]+$")},
        "digest": _string(64, minLength=64),
        "token_secret": _string(128, minLength=32),
        "rate": _object(
            {"per_s": {**NUMBER, "minimum": 0}, "burst": {**NUMBER, "minimum": 1}},
            ["per_s", "burst"],
        ),
        "created_at": DATE,
        "revoked_at": {"bsonType": ["date", "null"]},
    },
)

# Rollups (footfall.stats.rollup): their cells are named by the data, so only the
# bookkeeping fields are fixed.
ROLLUP = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["l", "s"],
        "properties": {
            "l": {"enum": ["q", "qd", "h", "d", "m"]},
            "s": DATE,
            "c": OBJECT,
            "u": OBJECT,
            "k": {"bsonType": "binData"},
            "r": OBJECT,
            "g": {"bsonType": "binData"},
            "tok": _string(32, minLength=32),
            "folded": OBJECT,
            "rev": {"bsonType": ["int", "long"]},
            "dirty": BOOL,
            "dv": {"bsonType": ["int", "long"]},
        },
    }
}

ROLLUP_TOKEN = _schema(
    ["_id", "state", "at"],
    {
        "state": {"enum": ["open", "done", "abandoned"]},
        "at": DATE,
        "deltas": {"bsonType": "array"},
    },
)
