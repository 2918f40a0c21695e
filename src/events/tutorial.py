"""Tutorial progress from a video player, and a learner's manual completion toggle.

Both kinds go into one stream, `tutorial_progress`, whose sink keeps every event
(append-only, in `progress_events`, with its kind) and merges it into the state of one
learner's tutorial in one language (see `footfall.store.tutorial_states`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from footfall.events.base import Event, Received


class ProgressKind(Event):
    """What both progress kinds share: whose tutorial, which visit, when."""

    #: A page's player sends these with a browser key, for the learner its token names.
    browser: ClassVar[bool] = True
    learner_field: ClassVar[str | None] = "username"

    @field_validator("at", check_fields=False)
    @classmethod
    def _millis(cls, value: datetime) -> datetime:
        """MongoDB keeps milliseconds; event order is decided on what it keeps, everywhere."""
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    def fill(self, received: Received) -> None:
        super().fill(received)
        self.received_at = received.at

    @classmethod
    def document(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The `progress_events` document: the event and its kind."""
        return {"kind": cls.kind, **super().document(data)}


class TutorialProgress(ProgressKind, schema=("TutorialProgress", "ReceivedAt")):
    """The player's position, sent whenever the playback minute changes."""

    kind: ClassVar[str] = "tutorial_progress"

    @field_validator("position_s")
    @classmethod
    def _within_the_video(cls, position: float, info: ValidationInfo) -> float:
        duration = info.data.get("duration_s")
        if duration is not None and position > duration:
            raise PydanticCustomError("past_the_end", "position_s is past duration_s")
        return position


class TutorialCompletion(ProgressKind, schema=("TutorialCompletion", "ReceivedAt")):
    """The learner marked the tutorial completed, or not completed, by hand."""

    kind: ClassVar[str] = "tutorial_completion"
