"""Shared by the progress tests: events as the API takes them, and two independent
models of the rules (a fold into facts, and a replay in time order) to check against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from footfall.settings import ProgressSettings
from footfall.tutorials.completion import (
    Facts,
    Toggle,
    Visit,
    minute_of,
    minutes_in,
    minutes_needed,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

#: The shipped COMPLETION_THRESHOLD.
THRESHOLD: float = ProgressSettings.model_fields["completion_threshold"].default


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def text(moment: datetime) -> str:
    """As the API shows times (milliseconds, Z)."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Ev:
    """One progress event (`position_s` set) or toggle (`completed` set), for the models."""

    log_id: str
    at: datetime
    visit_id: str
    position_s: float | None = None
    duration_s: float = 600
    completed: bool | None = None
    tutorial_id: str = "t1"

    @property
    def is_toggle(self) -> bool:
        return self.completed is not None

    def body(self, username: str, course_id: str = "python", language: str = "English") -> dict:
        """The request body (or batch item fields) the API takes for it."""
        body: dict[str, Any] = {
            "log_id": self.log_id,
            "username": username,
            "course_id": course_id,
            "tutorial_id": self.tutorial_id,
            "language": language,
            "visit_id": self.visit_id,
            "at": self.at.isoformat(),
        }
        if self.is_toggle:
            body["completed"] = self.completed
        else:
            body |= {"position_s": self.position_s, "duration_s": self.duration_s}
        return body

    @property
    def kind(self) -> str:
        return "tutorial_completion" if self.is_toggle else "tutorial_progress"


def fold(events: list[Ev]) -> Facts:
    """The facts of events, folded in Python with the documented operators."""
    minutes: dict[int, datetime] = {}
    visits: dict[str, dict[str, Any]] = {}
    toggle: Ev | None = None
    duration: float | None = None
    for ev in events:
        if ev.is_toggle:
            if toggle is None or (ev.at, ev.log_id) > (toggle.at, toggle.log_id):
                toggle = ev
            continue
        assert ev.position_s is not None
        minute = minute_of(ev.position_s, ev.duration_s)
        duration = max(duration or 0, ev.duration_s)
        minutes[minute] = min(ev.at, minutes.get(minute, ev.at))
        visit = visits.setdefault(ev.visit_id, {"first": ev.at, "last": ev.at, "minutes": {}})
        visit["first"], visit["last"] = min(visit["first"], ev.at), max(visit["last"], ev.at)
        visit["minutes"][minute] = min(ev.at, visit["minutes"].get(minute, ev.at))
    return Facts(
        duration_s=duration,
        minutes=minutes,
        visits={k: Visit(v["first"], v["last"], v["minutes"]) for k, v in visits.items()},
        toggle=None
        if toggle is None
        else Toggle(toggle.at, toggle.log_id, bool(toggle.completed), toggle.visit_id),
    )


def replay(
    events: list[Ev], threshold: float = THRESHOLD
) -> tuple[bool, datetime | None, str | None]:
    """The rules as a player would live them: each event in time order, once.

    Independent of `derive`: it keeps a running state. Auto-completion is checked at the
    first report of each minute in each visit. Events at the same instant happen
    together: their minutes all count, then toggles apply (a toggle wins a tie). Only
    for events with one duration.
    """
    durations = {ev.duration_s for ev in events if not ev.is_toggle}
    assert len(durations) <= 1, "the replay model assumes one duration"
    needed = minutes_needed(minutes_in(durations.pop()), threshold) if durations else None
    once = {ev.log_id: ev for ev in events}.values()
    ordered = sorted(once, key=lambda ev: (ev.at, ev.is_toggle, ev.log_id))
    completed, completed_at, source = False, None, None
    watched: set[int] = set()
    reported: set[tuple[str, int]] = set()
    off_in_visit: str | None = None
    for ev in ordered:
        watched |= {
            minute_of(o.position_s, o.duration_s)
            for o in ordered
            if o.at == ev.at and o.position_s is not None
        }
        if ev.is_toggle:
            completed, source = bool(ev.completed), "manual"
            completed_at = ev.at if ev.completed else None
            off_in_visit = None if ev.completed else ev.visit_id
            continue
        assert ev.position_s is not None and needed is not None
        minute = minute_of(ev.position_s, ev.duration_s)
        watched.add(minute)
        first_report = (ev.visit_id, minute) not in reported
        reported.add((ev.visit_id, minute))
        allowed = ev.visit_id != off_in_visit
        if first_report and allowed and not completed and len(watched) >= needed:
            completed, completed_at, source = True, ev.at, "auto"
    return completed, completed_at, source
