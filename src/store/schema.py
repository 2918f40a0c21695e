"""Create or update the collections, their validators and their indexes (`footfall init-db`)."""

from __future__ import annotations

import logging

from pymongo import IndexModel
from pymongo.collection import Collection as MongoCollection
from pymongo.database import Database

from footfall.settings import RetentionSettings
from footfall.store import retention as retention_rules
from footfall.store.collections import ALL, Collection

log = logging.getLogger(__name__)


def init_db(db: Database, retention: RetentionSettings | None = None) -> None:
    """Make the database match the definitions and the retention settings (read from the
    environment when not given); safe to run any number of times."""
    retention = retention or RetentionSettings()
    existing = set(db.list_collection_names())
    for collection in ALL:
        _apply(db, collection, exists=collection.name in existing)
        retention_rules.apply(db, collection, retention)


def _apply(db: Database, collection: Collection, *, exists: bool) -> None:
    options = {
        "validator": collection.validator,
        "validationLevel": "strict",
        "validationAction": "error",
    }
    if exists:
        db.command("collMod", collection.name, **options)
    else:
        db.create_collection(collection.name, **options)
    _indexes(db[collection.name], collection.indexes)
    log.info("collection %s ready", collection.name)


def _indexes(mongo: MongoCollection, wanted: list[IndexModel]) -> None:
    """Create missing indexes; replace one whose keys changed under the same name; drop
    one the definitions no longer list (every index costs each write), `_id_` excepted.

    An index that exists with the same name and keys is left alone: servers add their
    own options (e.g. `2dsphereIndexVersion`), so re-requesting it can be refused.
    """
    existing = {index["name"]: dict(index["key"]) for index in mongo.list_indexes()}
    listed = {index.document["name"] for index in wanted}
    for name in sorted(set(existing) - listed - {"_id_"}):
        log.warning("index %s.%s is no longer defined: dropping it", mongo.name, name)
        mongo.drop_index(name)
    missing = []
    for index in wanted:
        name, keys = index.document["name"], dict(index.document["key"])
        if existing.get(name) == keys:
            continue
        if name in existing:
            log.warning("index %s.%s changed its keys: rebuilding it", mongo.name, name)
            mongo.drop_index(name)
        missing.append(index)
    if missing:
        mongo.create_indexes(missing)
