"""The MongoDB collections: the schema each document follows, and each index with the read
it serves.

A collection's `$jsonSchema` validator is derived from its stored-document schema in the
spec (`footfall.spec`). `footfall init-db` (and every service start) applies these
definitions; re-running it updates validators in place with `collMod` and drops an index
the definitions no longer list, so a new version needs no migration step.

Every index costs each insert: on an event collection each one is there for a read the
product makes, named beside it, or it is not there (`bench/ingest.py` prints what each
costs). The statistics are read from rollups counted as documents are stored
(`footfall.stats`), never from scans of raw events, so they need no index here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING, IndexModel

from footfall import spec


@dataclass(frozen=True)
class Learner:
    """The field naming the learner a document is about: a learner's export and erasure
    find their documents by it, through an index that starts with it."""

    field: str
    #: Which of a learner's names it holds: the username, or their user id in a tool.
    identity: Literal["username", "user_id"] = "username"
    #: Erased to a tombstone (the `log_id` alone, as a hard delete leaves it) rather than
    #: deleted: a merged collection, where a change still queued would otherwise bring
    #: back part of a document (footfall.store.merge).
    tombstone: bool = False


@dataclass(frozen=True)
class Retention:
    """How long a document is kept: a TTL index on `time` (its event time, a date) for
    the days of the `RetentionSettings` field `setting` (0: forever); raw exports select
    by `time` too (footfall.store.retention, footfall.export)."""

    time: str
    setting: str


@dataclass(frozen=True)
class Redacted:
    """The fields that may carry secrets: free-form objects and URLs with query strings
    (REDACT_KEYS, at the flusher and by `footfall redact`)."""

    free_form: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Collection:
    name: str
    #: The component schema in the spec that its documents follow.
    schema: str
    indexes: list[IndexModel] = field(default_factory=list)
    learner: Learner | None = None
    retention: Retention | None = None
    redacted: Redacted | None = None

    @property
    def validator(self) -> dict[str, Any]:
        return spec.load().mongo_validator(self.schema)


def _log_id_unique() -> IndexModel:
    """Replays are harmless (the flusher's insert of a stored log_id is a duplicate key);
    also the rollups' read-back of a batch's documents by log_id (footfall.stats.rollup)."""
    return IndexModel([("log_id", ASCENDING)], unique=True, name="log_id_unique")


PAGEVIEWS = Collection(
    name="pageviews",
    schema="StoredPageView",
    indexes=[
        _log_id_unique(),
        # `footfall export pageviews --from --to` (a time range, in time order) and the
        # retention TTL (footfall.store.retention).
        IndexModel([("visited_at", DESCENDING)], name="visited_at"),
        # A learner's export and erasure (footfall.learners), by username.
        IndexModel([("username", ASCENDING), ("visited_at", DESCENDING)], name="username_time"),
        # `footfall events unmapped` (footfall.enrich.unmapped): views with the default
        # event name since a time.
        IndexModel([("event_name", ASCENDING), ("visited_at", DESCENDING)], name="event_time"),
        # No read by path or by location: their indexes (`path`, the `2dsphere`
        # `location_2dsphere`, which alone cost an insert 3x its time) are gone.
    ],
    learner=Learner("username"),
    retention=Retention("visited_at", "retention_days_pageviews"),
    redacted=Redacted(
        free_form=("request_data", "view_kwargs", "view_args"), urls=("path", "referrer")
    ),
)

EXIT_LINKS = Collection(
    name="exit_links",
    schema="StoredExitLink",
    indexes=[
        _log_id_unique(),
        # `footfall export exit_links --from --to` and the retention TTL.
        IndexModel([("clicked_at", DESCENDING)], name="clicked_at"),
        # A learner's export and erasure, by username.
        IndexModel([("username", ASCENDING)], name="username"),
    ],
    learner=Learner("username"),
    retention=Retention("clicked_at", "retention_days_exit_links"),
    redacted=Redacted(urls=("url", "page")),
)

VISIT_DURATIONS = Collection(
    name="visit_durations",
    schema="StoredVisitDuration",
    indexes=[
        _log_id_unique(),
        # `footfall export visit_durations --from --to` and the retention TTL.
        IndexModel([("at", DESCENDING)], name="at"),
        # A learner's export and erasure, by username.
        IndexModel([("username", ASCENDING)], name="username"),
        # No read by `pageview_log_id`: its index is gone.
    ],
    learner=Learner("username"),
    retention=Retention("at", "retention_days_visit_durations"),
    redacted=Redacted(urls=("path",)),
)

USAGE_LOGS = Collection(
    name="usage_logs",
    schema="StoredUsageLog",
    indexes=[
        # Also GET /usage-logs/{log_id} and the flusher's merge upsert, by log_id.
        _log_id_unique(),
        # GET /usage-logs, newest first (footfall.reads.usage.search); `footfall export
        # usage_logs --from --to`; the retention TTL.
        IndexModel([("start_dt", DESCENDING)], name="start_dt"),
        # GET /usage-logs?user_id= and /users/{user_id}/usage, by user (and tool); a
        # learner's export and erasure by user_id.
        IndexModel([("user_id", ASCENDING), ("tool_id", ASCENDING)], name="user_tool"),
        # GET /usage-logs?tool_id= without a user.
        IndexModel([("tool_id", ASCENDING)], name="tool_id"),
    ],
    learner=Learner("user_id", identity="user_id", tombstone=True),
    retention=Retention("start_dt", "retention_days_usage_logs"),
)

DEAD_LETTERS = Collection(
    name="dead_letters",
    schema="DeadLetter",
    indexes=[
        IndexModel(
            [("collection", ASCENDING), ("entry_id", ASCENDING)], unique=True, name="entry_unique"
        ),
        IndexModel([("failed_at", DESCENDING)], name="failed_at"),
        IndexModel([("username", ASCENDING)], name="username", sparse=True),
    ],
    learner=Learner("username"),
    retention=Retention("failed_at", "retention_days_dead_letters"),
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
        # A learner's export and erasure, by username.
        IndexModel([("username", ASCENDING), ("at", DESCENDING)], name="username_at"),
        # `footfall export progress_events --from --to` and the retention TTL.
        IndexModel([("at", DESCENDING)], name="at"),
        # No read by course and tutorial (the product reads the states in
        # `tutorial_progress`): `course_tutorial_at` is gone.
    ],
    learner=Learner("username"),
    retention=Retention("at", "retention_days_progress_events"),
)

#: One state per learner's tutorial in one language: merged facts and what they derive.
TUTORIAL_PROGRESS = Collection(
    name="tutorial_progress",
    schema="TutorialState",
    indexes=[
        # One state per learner's tutorial and language (the flusher's merge upsert);
        # GET /learners/{username}/... (footfall.reads.learner_progress), a learner's
        # export and erasure, by its prefix.
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
        # GET /courses/{course_id}/figures (footfall.reads.course_figures) and the
        # tutorials learners sent progress for (footfall.tutorials.catalogue).
        IndexModel(
            [("course_id", ASCENDING), ("tutorial_id", ASCENDING), ("language", ASCENDING)],
            name="course_tutorial",
        ),
        # `footfall export tutorial_progress --from --to` and the retention TTL.
        IndexModel([("last_at", DESCENDING)], name="last_at"),
    ],
    learner=Learner("username"),
    retention=Retention("last_at", "retention_days_tutorial_states"),
)

#: The course catalogue: each course's tutorials, registered through the API.
COURSES = Collection(
    name="courses",
    schema="StoredCourse",
    indexes=[IndexModel([("course_id", ASCENDING)], unique=True, name="course_id_unique")],
)

#: Open edX events (footfall.edx): imported tracking logs and live events, append-only.
#: Reports filter by course and time, by learner, by event type.
EDX_EVENTS = Collection(
    name="edx_events",
    schema="StoredEdxEvent",
    indexes=[
        _log_id_unique(),
        # `footfall export edx_events --from --to` and the retention TTL.
        IndexModel([("time", ASCENDING)], name="time"),
        # Every report: one course's events in a time window (footfall.edx.reports).
        IndexModel([("context.course_id", ASCENDING), ("time", ASCENDING)], name="course_time"),
        # The path report of one learner; a learner's export and erasure.
        IndexModel([("username", ASCENDING), ("time", ASCENDING)], name="username_time"),
        # Reports of rare event types in a course (enrolment, problem checks, video),
        # where the type is more selective than the course.
        IndexModel([("event_type", ASCENDING), ("time", ASCENDING)], name="event_type_time"),
    ],
    learner=Learner("username"),
    retention=Retention("time", "retention_days_edx_events"),
)

#: Where each imported tracking log got to (footfall.edx.checkpoints), by source.
EDX_IMPORTS = Collection(name="edx_imports", schema="StoredEdxImport")

#: Statistics (footfall.stats.rollup): counters per 15-minute, hour, day and month period,
#: and the deltas of 15-minute periods that are not folded yet.
ROLLUPS = Collection(
    name="rollups",
    schema="StoredRollup",
    indexes=[
        IndexModel([("l", ASCENDING), ("dirty", ASCENDING)], name="level_dirty"),
        # A 15-minute period's deltas (footfall.stats.rollup.DELTA), and those to fold.
        IndexModel([("l", ASCENDING), ("s", ASCENDING)], name="level_start"),
    ],
)

#: One record per flusher attempt that counted documents: its deltas until it is done.
ROLLUP_TOKENS = Collection(
    name="rollup_tokens",
    schema="StoredRollupToken",
    indexes=[IndexModel([("state", ASCENDING), ("at", ASCENDING)], name="state_at")],
)

#: The audit of learner erasures (footfall.learners.erasure): who, when, how many
#: documents; never a learner's name nor data. Kept forever.
ERASURES = Collection(
    name="erasures",
    schema="StoredErasure",
    indexes=[IndexModel([("erased_at", DESCENDING)], name="erased_at")],
)

#: Where a resumable pass over stored documents (footfall.reapply) left off.
CHECKPOINTS = Collection(name="checkpoints", schema="StoredCheckpoint")

#: Every collection `init-db` makes: each one defined above, in order (a new definition
#: needs no other line).
ALL: list[Collection] = [
    value for value in list(globals().values()) if isinstance(value, Collection)
]
