"""Retention: each collection keeps a document for the days its setting says, after the
document's event time, by a TTL index (0 days: forever).

The TTL index is the collection's own single-field index on that time (the one its
range reads use), so retention costs no extra index. MongoDB's TTL monitor (every 60 s;
SecantusDB runs one too) removes what has expired. `init-db` makes the indexes match the
settings, every time it runs: `collMod` sets or changes `expireAfterSeconds` in place;
turning retention off (0) rebuilds the index without it, since MongoDB cannot remove
the option from an index.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo import IndexModel
from pymongo.database import Database

from footfall.settings import RetentionSettings
from footfall.store.collections import Collection

log = logging.getLogger(__name__)
DAY_S = 86_400


def days(collection: Collection, settings: RetentionSettings) -> int:
    """The days the collection keeps a document; 0: forever (or no retention rule)."""
    if collection.retention is None:
        return 0
    return int(getattr(settings, collection.retention.setting))


def apply(db: Database, collection: Collection, settings: RetentionSettings) -> None:
    """Make the collection's TTL index say its retention (idempotent)."""
    if collection.retention is None:
        return
    field = collection.retention.time
    index = _time_index(db, collection, field)
    wanted = days(collection, settings) * DAY_S or None
    current = index.get("expireAfterSeconds")
    if current == wanted:
        return
    name = index["name"]
    if wanted is not None:
        db.command("collMod", collection.name, index={"name": name, "expireAfterSeconds": wanted})
        log.info("%s keeps documents %d days after %s", collection.name, wanted // DAY_S, field)
        return
    # MongoDB cannot take the option off an index: rebuild it without.
    mongo = db[collection.name]
    model = next(i for i in collection.indexes if i.document["name"] == name)
    mongo.drop_index(name)
    mongo.create_indexes([IndexModel(list(model.document["key"].items()), name=name)])
    log.info("%s keeps documents forever (TTL removed from %s)", collection.name, name)


def _time_index(db: Database, collection: Collection, field: str) -> dict[str, Any]:
    """The collection's single-field index on `field` (its definition must declare one)."""
    for index in db[collection.name].list_indexes():
        if list(index["key"]) == [field]:
            return dict(index)
    raise LookupError(f"{collection.name} declares retention on {field!r} but no index on it")
