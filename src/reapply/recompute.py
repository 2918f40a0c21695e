"""Re-derive stored tutorial states under the current rules (`footfall progress recompute`).

A state's derived fields (completed, when, source, percent watched, visits) are
`footfall.tutorials.completion.derive` of its facts and COMPLETION_THRESHOLD; the facts
do not change. The flusher applies a new threshold to a state at its next event; this
applies it to every state now. A course's tutorial list is not part of a state: the
course percentage is computed from the catalogue at read time, so a catalogue change is
seen at once; `--course` scopes a pass to one course.

Each write names the `rev` it read, as the flusher's do: a state a flusher changed in
between is read and derived again, so no derivation of stale facts is stored.
"""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database

from footfall.reapply.checkpoint import Doc, Pass
from footfall.store.collections import TUTORIAL_PROGRESS
from footfall.tutorials.completion import DERIVED_FIELDS, Facts, derive

ATTEMPTS = 5


def scope(threshold: float, course_id: str | None = None, username: str | None = None) -> Pass:
    """The states of every learner, of one course, or of one learner (and course)."""
    query: dict[str, Any] = {}
    if course_id is not None:
        query["course_id"] = course_id
    if username is not None:
        query["username"] = username
    job = f"recompute:{course_id or '*'}:{username or '*'}"
    return Pass(job, f"threshold={threshold!r}", TUTORIAL_PROGRESS.name, query)


class Recompute:
    """The pass's step: derive each state again; write only what changed."""

    def __init__(self, db: Database, threshold: float) -> None:
        self.mongo = db[TUTORIAL_PROGRESS.name]
        self.threshold = threshold

    def __call__(self, states: list[Doc]) -> int:
        changed = 0
        for _ in range(ATTEMPTS):
            stale = [(s, derived) for s in states if (derived := self._derived(s)) is not None]
            if not stale:
                return changed
            updates = [
                UpdateOne({"_id": state["_id"], "rev": state["rev"]}, {"$set": derived})
                for state, derived in stale
            ]
            result = self.mongo.bulk_write(updates, ordered=False)
            changed += result.modified_count
            if result.matched_count == len(updates):
                return changed
            # Some states moved on under a flusher: read those again and derive again.
            states = list(self.mongo.find({"_id": {"$in": [state["_id"] for state, _ in stale]}}))
        raise RuntimeError("tutorial states kept changing under the recompute; run it again")

    def _derived(self, state: Doc) -> Doc | None:
        """The state's derived fields under the current rules; None when they are stored."""
        derived = derive(Facts.from_document(state), self.threshold).document()
        if all(state.get(name) == derived[name] for name in DERIVED_FIELDS):
            return None
        return derived
