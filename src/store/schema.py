"""Create or update the collections, their validators and their indexes (`footfall init-db`)."""

from __future__ import annotations

import logging

from footfall.store.collections import ALL, Collection
from pymongo.database import Database

log = logging.getLogger(__name__)


def init_db(db: Database) -> None:
    """Make the database match the definitions; safe to run any number of times."""
    existing = set(db.list_collection_names())
    for collection in ALL:
        _apply(db, collection, exists=collection.name in existing)


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
    if collection.indexes:
        db[collection.name].create_indexes(collection.indexes)
    log.info("collection %s ready", collection.name)
