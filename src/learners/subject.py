"""Whom a request for a learner's data is about: their username, and their user ids in
tools (usage logs name users by the tool's own id, which only the caller can map)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from footfall.store.collections import ALL, Collection


@dataclass(frozen=True)
class Subject:
    username: str
    user_ids: tuple[str, ...] = ()

    def names(self, collection: Collection) -> list[str]:
        """The values the collection's learner field holds for this learner."""
        if collection.learner is None:
            return []
        if collection.learner.identity == "user_id":
            return list(self.user_ids)
        return [self.username]

    def filter(self, collection: Collection) -> dict[str, Any] | None:
        """The query for this learner's documents (an index starts with the field); None
        when the collection holds nothing the learner could be named by."""
        names = self.names(collection)
        if not names or collection.learner is None:
            return None
        field = collection.learner.field
        return {field: names[0]} if len(names) == 1 else {field: {"$in": names}}

    def record_names(self) -> list[str]:
        """The learner's names as the queue's erasure records hold them."""
        return [
            record_name("username", self.username),
            *(record_name("user_id", uid) for uid in self.user_ids),
        ]


def record_name(identity: str, value: str) -> str:
    """A learner's name in the erasure records (footfall.learners.queue): `username:asha`."""
    return f"{identity}:{value}"


def about_learners() -> list[Collection]:
    """Every collection whose documents name a learner (its definition says by which field)."""
    return [collection for collection in ALL if collection.learner is not None]
