"""The MongoDB collections: their `$jsonSchema` validators, indexes and how they are written.

`footfall init-db` (and every service start) applies these definitions; re-running it
updates validators in place with `collMod`, so a new version needs no migration step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, GEOSPHERE, IndexModel

from footfall.events.usage_log import UsageFields
from footfall.store import validators

WriteMode = Literal["insert", "merge", "progress"]


@dataclass(frozen=True)
class Collection:
    name: str
    validator: dict[str, Any]
    indexes: list[IndexModel] = field(default_factory=list)
    #: "insert": append-only, duplicates by log_id are already stored.
    #: "merge": changes merged field by field (see `footfall.store.merge`).
    write: WriteMode = "insert"
    #: With "merge": the fields a change may set (a purge removes them).
    merge_fields: tuple[str, ...] = ()
    #: "progress": every event kept in `raw_collection`, then merged into one state per
    #: learner's tutorial and language (see `footfall.store.progress`).
    raw_collection: str = ""


def _log_id_unique() -> IndexModel:
    return IndexModel([("log_id", ASCENDING)], unique=True, name="log_id_unique")


PAGEVIEWS = Collection(
    name="pageviews",
    validator=validators.PAGEVIEW,
    indexes=[
        _log_id_unique(),
        IndexModel([("visited_at", DESCENDING)], name="visited_at"),
        IndexModel([("username", ASCENDING), ("visited_at", DESCENDING)], name="username_time"),
        IndexModel([("path", ASCENDING)], name="path"),
        # Enrichment: maps and "near" queries; `footfall events unmapped`.
        IndexModel([("location", GEOSPHERE)], name="location_2dsphere"),
        IndexModel([("event_name", ASCENDING), ("visited_at", DESCENDING)], name="event_time"),
    ],
)

EXIT_LINKS = Collection(
    name="exit_links",
    validator=validators.EXIT_LINK,
    indexes=[
        _log_id_unique(),
        IndexModel([("clicked_at", DESCENDING)], name="clicked_at"),
    ],
)

USAGE_LOGS = Collection(
    name="usage_logs",
    validator=validators.USAGE_LOG,
    indexes=[
        _log_id_unique(),
        IndexModel([("start_dt", DESCENDING)], name="start_dt"),
        IndexModel([("user_id", ASCENDING), ("tool_id", ASCENDING)], name="user_tool"),
        IndexModel([("tool_id", ASCENDING)], name="tool_id"),
    ],
    write="merge",
    merge_fields=tuple(UsageFields.model_fields),
)

DEAD_LETTERS = Collection(
    name="dead_letters",
    validator=validators.DEAD_LETTER,
    indexes=[
        IndexModel(
            [("collection", ASCENDING), ("entry_id", ASCENDING)], unique=True, name="entry_unique"
        ),
        IndexModel([("failed_at", DESCENDING)], name="failed_at"),
    ],
)

#: API keys (footfall.security.keys): looked up by their public id, never by the secret.
API_KEYS = Collection(
    name="api_keys",
    validator=validators.API_KEY,
    indexes=[IndexModel([("key_id", ASCENDING)], unique=True, name="key_id_unique")],
)

#: Tutorial progress events and completion toggles, as sent (append-only, for analytics).
PROGRESS_EVENTS = Collection(
    name="progress_events",
    validator=validators.PROGRESS_EVENT,
    indexes=[
        _log_id_unique(),
        IndexModel(
            [("course_id", ASCENDING), ("tutorial_id", ASCENDING), ("at", DESCENDING)],
            name="course_tutorial_at",
        ),
        IndexModel([("username", ASCENDING), ("at", DESCENDING)], name="username_at"),
    ],
)

#: One state per learner's tutorial in one language: merged facts and what they derive.
TUTORIAL_PROGRESS = Collection(
    name="tutorial_progress",
    validator=validators.TUTORIAL_PROGRESS,
    indexes=[
        IndexModel(
            [
                ("username", ASCENDING),
                ("course_id", ASCENDING),
                ("tutorial_id", ASCENDING),
                ("language", ASCENDING),
            ],
            unique=True,
            name="learner_tutorial_unique",
        ),
        IndexModel(
            [("course_id", ASCENDING), ("tutorial_id", ASCENDING), ("language", ASCENDING)],
            name="course_tutorial",
        ),
    ],
    write="progress",
    raw_collection=PROGRESS_EVENTS.name,
)

#: The course catalogue: each course's tutorials, registered through the API.
COURSES = Collection(
    name="courses",
    validator=validators.COURSE,
    indexes=[IndexModel([("course_id", ASCENDING)], unique=True, name="course_id_unique")],
)

#: Statistics (footfall.stats.rollup): counters per 15-minute, hour, day and month period,
#: and the deltas of 15-minute periods that are not folded yet.
ROLLUPS = Collection(
    name="rollups",
    validator=validators.ROLLUP,
    indexes=[
        IndexModel([("l", ASCENDING), ("dirty", ASCENDING)], name="level_dirty"),
        # A 15-minute period's deltas (footfall.stats.rollup.DELTA), and those to fold.
        IndexModel([("l", ASCENDING), ("s", ASCENDING)], name="level_start"),
    ],
)

#: One record per flusher attempt that counted documents: its deltas until it is done.
ROLLUP_TOKENS = Collection(
    name="rollup_tokens",
    validator=validators.ROLLUP_TOKEN,
    indexes=[IndexModel([("state", ASCENDING), ("at", ASCENDING)], name="state_at")],
)

#: Collections fed by a stream, by name.
STREAMED: dict[str, Collection] = {
    c.name: c for c in (PAGEVIEWS, EXIT_LINKS, USAGE_LOGS, TUTORIAL_PROGRESS)
}

ALL: list[Collection] = [
    *STREAMED.values(),
    PROGRESS_EVENTS,
    COURSES,
    DEAD_LETTERS,
    API_KEYS,
    ROLLUPS,
    ROLLUP_TOKENS,
]
