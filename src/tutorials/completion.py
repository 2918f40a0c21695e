"""The completion rules, as one pure function from a tutorial state's facts.

The flusher merges facts with commutative, idempotent operators, so the facts do not
depend on the order or the number of times events arrive; everything a learner sees
(`completed`, `completed_at`, `completion_source`, percent watched, visits) is derived
from them here, and so does not depend on it either.

The rules (README, "Tutorial progress"):

- A tutorial has `ceil(duration_s / 60)` minutes. An event counts the one minute its
  position is in: skipping ahead counts only the minute skipped to, so a skip to the end
  does not complete anything. Rewatching a minute adds nothing.
- Auto-completion happens when the minutes watched reach `threshold` (80%) of the
  tutorial's minutes; it is checked at the first report of each minute in each visit,
  and happens at the time the learner watched the minute that reached it.
- A manual toggle wins over auto-completion by event time: the latest toggle (by `at`,
  ties by `log_id`) is the last writer; an auto-completion at the same instant as a
  toggle does not override it.
- After a manual "not completed", auto-completion stays off for the rest of that visit;
  the first minute reported in another visit, after the toggle and once the threshold is
  reached, completes the tutorial again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

MINUTE_S = 60

Source = Literal["auto", "manual"]


def minutes_in(duration_s: float) -> int:
    """A tutorial's minutes: a started minute counts (a 10:30 video has 11)."""
    return max(1, math.ceil(duration_s / MINUTE_S))


def minute_of(position_s: float, duration_s: float) -> int:
    """The minute a position is in; the very end belongs to the last minute."""
    return min(int(position_s // MINUTE_S), minutes_in(duration_s) - 1)


def minutes_needed(total: int, threshold: float) -> int:
    """Fewest watched minutes that reach `threshold` of `total` (at least one).

    Rounded before the ceiling so that 0.7 x 10 needs 7 minutes, not 8 (float error).
    """
    return max(1, math.ceil(round(total * threshold, 9)))


@dataclass(frozen=True)
class Toggle:
    """The latest manual toggle (last writer by `at`, then `log_id`)."""

    at: datetime
    log_id: str
    completed: bool
    visit_id: str


@dataclass(frozen=True)
class Visit:
    first: datetime
    last: datetime
    #: Minute -> when this visit first reported it (its "evaluation points").
    minutes: Mapping[int, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What the flusher merged: nothing here depends on the order events came in."""

    duration_s: float | None = None
    #: Minute -> when it was first watched, in any visit.
    minutes: Mapping[int, datetime] = field(default_factory=dict)
    visits: Mapping[str, Visit] = field(default_factory=dict)
    toggle: Toggle | None = None

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Facts:
        """The facts of a stored `tutorial_progress` document."""
        toggle = doc.get("toggle")
        return cls(
            duration_s=doc.get("duration_s"),
            minutes=_minutes(doc.get("minutes")),
            visits={
                visit_id: Visit(v["first"], v["last"], _minutes(v.get("minutes")))
                for visit_id, v in (doc.get("visits") or {}).items()
            },
            toggle=None
            if toggle is None
            else Toggle(toggle["at"], toggle["log_id"], toggle["completed"], toggle["visit_id"]),
        )


@dataclass(frozen=True)
class Derived:
    """What a learner sees; stored beside the facts by the flusher."""

    completed: bool
    completed_at: datetime | None
    completion_source: Source | None
    watched_minutes: int
    total_minutes: int | None
    percent_watched: float
    visit_count: int

    def document(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DERIVED_FIELDS}


#: The fields `derive` gives, as stored beside the facts.
DERIVED_FIELDS = (
    "completed",
    "completed_at",
    "completion_source",
    "watched_minutes",
    "total_minutes",
    "percent_watched",
    "visit_count",
)


def derive(facts: Facts, threshold: float) -> Derived:
    """Everything a learner sees, from the facts alone."""
    total = None if facts.duration_s is None else minutes_in(facts.duration_s)
    watched = len(facts.minutes)
    completed, at, source = _completion(facts, total, threshold)
    return Derived(
        completed=completed,
        completed_at=at,
        completion_source=source,
        watched_minutes=watched,
        total_minutes=total,
        percent_watched=0.0 if not total else round(min(100.0, 100 * watched / total), 1),
        visit_count=len(facts.visits),
    )


def _completion(
    facts: Facts, total: int | None, threshold: float
) -> tuple[bool, datetime | None, Source | None]:
    reached_at = _threshold_reached_at(facts, total, threshold)
    toggle = facts.toggle
    if toggle is None:
        return (True, reached_at, "auto") if reached_at is not None else (False, None, None)
    if toggle.completed:
        return True, toggle.at, "manual"
    again = _auto_after(facts, toggle, reached_at)
    return (True, again, "auto") if again is not None else (False, None, "manual")


def _threshold_reached_at(facts: Facts, total: int | None, threshold: float) -> datetime | None:
    """When the minute that reached the threshold was watched; None while it is not."""
    if total is None:
        return None
    needed = minutes_needed(total, threshold)
    firsts = sorted(facts.minutes.values())
    return firsts[needed - 1] if len(firsts) >= needed else None


def _auto_after(facts: Facts, toggle: Toggle, reached_at: datetime | None) -> datetime | None:
    """The first minute reported after a manual "not completed", in another visit, once
    the threshold is reached: auto-completion comes back there."""
    if reached_at is None:
        return None
    points = [
        at
        for visit_id, visit in facts.visits.items()
        if visit_id != toggle.visit_id
        for at in visit.minutes.values()
        if at > toggle.at and at >= reached_at
    ]
    return min(points, default=None)


def _minutes(raw: Mapping[str, datetime] | None) -> dict[int, datetime]:
    return {int(minute): at for minute, at in (raw or {}).items()}
