"""The MongoDB collections: the schema each document follows, and each index with the read
it serves.

A collection's `$jsonSchema` validator is derived from its stored-document schema in the
spec (`footfall.spec`). `footfall init-db` (and every service start) applies these
definitions; re-running it updates validators in place with `collMod`, so a new version
needs no migration step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, DESCENDING, GEOSPHERE, IndexModel

from footfall import spec


@dataclass(frozen=True)
class Collection:
    name: str
    #: The component schema in the spec that its documents follow.
    schema: str
    indexes: list[IndexModel] = field(default_factory=list)

    @property
    def validator(self) -> dict[str, Any]:
        return spec.load().mongo_validator(self.schema)


def _log_id_unique() -> IndexModel:
    return IndexModel([("log_id", ASCENDING)], unique=True, name="log_id_unique")


PAGEVIEWS = Collection(
    name="pageviews",
    schema="StoredPageView",
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
    schema="StoredExitLink",
    indexes=[
        _log_id_unique(),
        IndexModel([("clicked_at", DESCENDING)], name="clicked_at"),
    ],
)

VISIT_DURATIONS = Collection(
    name="visit_durations",
    schema="StoredVisitDuration",
    indexes=[
        _log_id_unique(),
        IndexModel([("pageview_log_id", ASCENDING)], name="pageview_log_id"),
        IndexModel([("at", DESCENDING)], name="at"),
    ],
)

USAGE_LOGS = Collection(
    name="usage_logs",
    schema="StoredUsageLog",
    indexes=[
        _log_id_unique(),
        IndexModel([("start_dt", DESCENDING)], name="start_dt"),
        IndexModel([("user_id", ASCENDING), ("tool_id", ASCENDING)], name="user_tool"),
        IndexModel([("tool_id", ASCENDING)], name="tool_id"),
    ],
)

DEAD_LETTERS = Collection(
    name="dead_letters",
    schema="DeadLetter",
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
    schema="StoredApiKey",
    indexes=[IndexModel([("key_id", ASCENDING)], unique=True, name="key_id_unique")],
)

#: Tutorial progress events and completion toggles, as sent (append-only, for analytics).
PROGRESS_EVENTS = Collection(
    name="progress_events",
    schema="StoredProgressEvent",
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
    schema="TutorialState",
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
)

#: The course catalogue: each course's tutorials, registered through the API.
COURSES = Collection(
    name="courses",
    schema="StoredCourse",
    indexes=[IndexModel([("course_id", ASCENDING)], unique=True, name="course_id_unique")],
)

#: Every collection `init-db` makes: each one defined above, in order (a new definition
#: needs no other line).
ALL: list[Collection] = [
    value for value in list(globals().values()) if isinstance(value, Collection)
]
