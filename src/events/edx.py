"""An Open edX event sent live (batch kind `edx_event`, `POST /edx-events`).

Thin on purpose: what an edX event is, in either shape (a tracking-log line, or
event-tracking's `name`/`timestamp`/`context`/`data`), is decided by
`footfall.edx.mapping`, the same code that imports tracking logs; this model only
carries the event through the queue. The stream message is the event as sent, and the
flusher maps it again into the stored document (then `footfall.edx.privacy` reduces
the IP in the collection's prepare step).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import ConfigDict, PrivateAttr, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from footfall import serializer
from footfall.edx.mapping import LineError, event_id, to_document
from footfall.events.base import Event, Limits, Received


class EdxEvent(Event):
    """Its schema in the spec (`EdxEvent`) documents edX's known fields and takes any
    other (`additionalProperties: true`): the model declares none of them, since every
    field but `log_id` is edX's, judged by the mapping."""

    kind: ClassVar[str] = "edx_event"
    __spec_schema__: ClassVar[str] = "EdxEvent"

    model_config = ConfigDict(extra="allow")

    _received_at: datetime | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _maps_to_a_stored_event(self, info: ValidationInfo) -> Self:
        body = self.body()
        try:
            document = to_document(body, "")
        except LineError as error:
            raise PydanticCustomError(
                "edx_event", "{reason}", {"reason": error.reason, "pointer": error.pointer}
            ) from None
        received: Received | None = (info.context or {}).get("received")
        limits: Limits | None = (info.context or {}).get("limits")
        if received and limits and document["time"] > received.at + limits.future_tolerance:
            seconds = int(limits.future_tolerance.total_seconds())
            raise PydanticCustomError(
                "future_time",
                "time is more than {seconds} s in the future",
                {"seconds": seconds, "pointer": "/time" if "time" in body else "/timestamp"},
            )
        if self.log_id is None:
            # The event's own hash: a platform resending it is stored once.
            self.log_id = event_id(body)
        return self

    def body(self) -> dict[str, Any]:
        """The edX event as sent, without Footfall's `log_id`."""
        return dict(self.model_extra or {})

    def fill(self, received: Received) -> None:
        super().fill(received)
        self._received_at = received.at

    def message(self) -> bytes:
        """The event as sent: the flusher maps it again (`document`)."""
        data = {"log_id": self.log_id, "received_at": self._received_at, "event": self.body()}
        return serializer.dumps(self.kind, data)

    @classmethod
    def document(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The `edx_events` document of a queued event."""
        try:
            document = to_document(data["event"], data["log_id"])
        except LineError as error:
            raise ValueError(error.reason) from None
        document["received_at"] = datetime.fromisoformat(data["received_at"])
        return document
