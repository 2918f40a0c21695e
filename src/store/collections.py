"""The MongoDB collections: their `$jsonSchema` validators, indexes and how they are written.

`footfall init-db` (and every service start) applies these definitions; re-running it
updates validators in place with `collMod`, so a new version needs no migration step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from footfall.events.usage_log import UsageFields
from footfall.store import validators
from pymongo import ASCENDING, DESCENDING, IndexModel

WriteMode = Literal["insert", "merge"]


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

#: Collections fed by a stream, by name.
STREAMED: dict[str, Collection] = {c.name: c for c in (PAGEVIEWS, EXIT_LINKS, USAGE_LOGS)}

ALL: list[Collection] = [*STREAMED.values(), DEAD_LETTERS]
