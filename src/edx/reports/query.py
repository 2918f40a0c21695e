"""What a report is asked: the course, the time window, and the few parameters some
reports read (the session gap, the learner, what "finished" means)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

#: A learner idle longer than this starts a new session (time spent, watch time).
DEFAULT_GAP_MINUTES = 30
#: Events that say a learner finished a course, unless a last block is given.
DEFAULT_COMPLETION_EVENTS = ("edx.course.grade.passed.first_time", "edx.certificate.created")


class QueryError(ValueError):
    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


def parse_bound(value: str | None, *, end: bool = False) -> datetime | None:
    """A date or an RFC 3339 time as a UTC bound. A date alone is that day's start, or as
    an end (`to`), the next day's start: `--to 2026-03-31` includes March 31."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        start = datetime.combine(day, time(), UTC)
        return start + timedelta(days=1) if end else start
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither a date nor an RFC 3339 time") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@dataclass(frozen=True)
class Query:
    course_id: str
    start: datetime | None = None
    #: Excluded.
    end: datetime | None = None
    gap_minutes: int = DEFAULT_GAP_MINUTES
    learner: str | None = None
    last_block: str | None = None
    completion_events: tuple[str, ...] = field(default=DEFAULT_COMPLETION_EVENTS)

    @classmethod
    def build(
        cls,
        course_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        gap_minutes: int | None = None,
        learner: str | None = None,
        last_block: str | None = None,
        completion_events: list[str] | None = None,
    ) -> Query:
        if start is not None and end is not None and start >= end:
            raise QueryError("to", "to must be after from")
        return cls(
            course_id,
            start,
            end,
            gap_minutes or DEFAULT_GAP_MINUTES,
            learner,
            last_block,
            tuple(completion_events) if completion_events else DEFAULT_COMPLETION_EVENTS,
        )

    def match(self, **conditions: Any) -> dict[str, Any]:
        """The `$match` of the course's events in the window, with more conditions."""
        match: dict[str, Any] = {"context.course_id": self.course_id}
        window: dict[str, Any] = {}
        if self.start is not None:
            window["$gte"] = self.start
        if self.end is not None:
            window["$lt"] = self.end
        if window:
            match["time"] = window
        return {"$match": {**match, **conditions}}

    def parameters(self) -> dict[str, Any]:
        """The parameters as the answer repeats them."""
        return {
            "gap_minutes": self.gap_minutes,
            "learner": self.learner,
            "last_block": self.last_block,
            "completion_events": list(self.completion_events),
        }
