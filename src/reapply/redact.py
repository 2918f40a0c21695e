"""Apply the current REDACT_KEYS to stored documents (`footfall redact`).

The flusher redacts every new document; a key added to REDACT_KEYS later must reach
what is already stored. Each collection says which of its fields may carry secrets
(`Collection.redacted`), and the same rules the flusher runs (`Privacy`) rewrite them;
a document whose fields come out the same is not written. Redaction only hides more,
so applying it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from footfall.enrich.privacy import Privacy
from footfall.reapply.checkpoint import Doc, Pass
from footfall.settings import PrivacySettings
from footfall.store.collections import ALL, Collection


def redactable() -> list[Collection]:
    return [collection for collection in ALL if collection.redacted is not None]


def scope(collection: Collection, settings: PrivacySettings) -> Pass:
    rules = "redact_keys=" + ",".join(sorted(settings.redact_keys))
    return Pass(f"redact:{collection.name}", rules, collection.name, {})


class Redact:
    def __init__(self, db: Database, collection: Collection, settings: PrivacySettings) -> None:
        self.mongo = db[collection.name]
        self.privacy = Privacy.of(collection, settings, cache_size=1)
        redacted = collection.redacted
        assert redacted is not None
        self.fields = (*redacted.free_form, *redacted.urls)

    def __call__(self, docs: list[Doc]) -> int:
        updates = [u for u in map(self._update, docs) if u is not None]
        if not updates:
            return 0
        return self.mongo.bulk_write(updates, ordered=False).modified_count

    def _update(self, doc: Doc) -> UpdateOne | None:
        before = {field: doc[field] for field in self.fields if field in doc}
        after = dict(before)
        try:
            self.privacy.redact(after)
        except Exception:  # fails closed, as at the flusher: the field goes
            self.privacy.drop_unredacted(after)
        changes: dict[str, Any] = {}
        if sets := {k: v for k, v in after.items() if before.get(k) != v}:
            changes["$set"] = sets
        if unsets := {k: "" for k in before if k not in after}:
            changes["$unset"] = unsets
        return UpdateOne({"_id": doc["_id"]}, changes) if changes else None
