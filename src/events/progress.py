"""Tutorial progress from a video player, and a learner's manual completion toggle.

Both kinds go into one stream, `tutorial_progress`, whose flusher keeps every event
(append-only, in `progress_events`) and merges it into the state of one learner's
tutorial in one language (see `footfall.store.progress`). A stream message carries its
kind, so one decoder reads both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

import orjson
from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from footfall.events.base import Event, Identifier, Received, UtcTime

#: Longest tutorial accepted (it bounds the minutes a state keeps).
MAX_DURATION_S = 86_400


def _millis(value: datetime) -> datetime:
    """MongoDB keeps milliseconds; event order is decided on what it keeps, everywhere."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


EventTime = Annotated[UtcTime, AfterValidator(_millis)]
Username = Annotated[str, Field(min_length=1, max_length=150)]
#: Becomes a key of the stored state (`visits.<visit_id>`), hence the safe alphabet.
VisitId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ProgressKind(Event):
    """What both progress kinds share: whose tutorial, which visit, when."""

    collection: ClassVar[str] = "tutorial_progress"
    #: A page's player sends these with a browser key, for the learner its token names.
    browser: ClassVar[bool] = True
    learner_field: ClassVar[str | None] = "username"

    username: Username
    course_id: Identifier
    tutorial_id: Identifier
    language: Identifier
    visit_id: VisitId
    at: EventTime
    received_at: datetime | None = None

    def fill(self, received: Received) -> None:
        super().fill(received)
        self.received_at = received.at

    def message(self) -> bytes:
        return orjson.dumps({"kind": self.kind, **self.model_dump(exclude_none=True)})

    @classmethod
    def decode(cls, payload: bytes) -> dict[str, Any]:
        """The `progress_events` document of a message of either kind."""
        data = orjson.loads(payload)
        kind = data.pop("kind", None)
        model = _BY_KIND.get(kind)
        if model is None:
            raise ValueError(f"not a progress kind: {kind!r}")
        return {"kind": kind, **model.model_validate(data).model_dump(exclude_none=True)}


class TutorialProgress(ProgressKind):
    """The player's position, sent whenever the playback minute changes."""

    kind: ClassVar[str] = "tutorial_progress"

    duration_s: Annotated[float, Field(gt=0, le=MAX_DURATION_S)]
    position_s: Annotated[float, Field(ge=0, le=MAX_DURATION_S)]

    @field_validator("position_s")
    @classmethod
    def _within_the_video(cls, position: float, info: ValidationInfo) -> float:
        duration = info.data.get("duration_s")
        if duration is not None and position > duration:
            raise PydanticCustomError("past_the_end", "position_s is past duration_s")
        return position


class TutorialCompletion(ProgressKind):
    """The learner marked the tutorial completed, or not completed, by hand."""

    kind: ClassVar[str] = "tutorial_completion"

    completed: bool


_BY_KIND: dict[str, type[ProgressKind]] = {
    model.kind: model for model in (TutorialProgress, TutorialCompletion)
}
