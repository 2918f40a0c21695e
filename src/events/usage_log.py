"""Tool usage sessions, keyed by the tool's own `log_id`.

Creates, changes and deletes all travel through the queue as `UsageLogChange`
messages. Several flushers may store them in any order, so each change carries the
fields it sets and the flusher merges them field by field, last writer winning by
the change's position in the stream (see `footfall.store.merge`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from footfall import serializer
from footfall.events.base import Event, Received, SpecModel


def _after_start(end: datetime | None, info: ValidationInfo) -> datetime | None:
    """A field validator for `end_dt`, so the error points at it (start_dt comes first)."""
    start = info.data.get("start_dt")
    if start is not None and end is not None and end < start:
        raise PydanticCustomError("end_before_start", "end_dt is before start_dt")
    return end


class UsageFields(SpecModel, schema="UsageLogFields"):
    """The fields of a stored session that a change can set; unset ones are left alone."""


class UsageLogChange(BaseModel):
    """The one kind of message of the `usage_logs` stream: a create, a PATCH or a DELETE."""

    kind: ClassVar[str] = "usage_log_change"

    op: Literal["set", "purge"]
    log_id: str
    at: datetime
    created: bool = False
    fields: UsageFields = UsageFields()

    @classmethod
    def document(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The change as `footfall.store.merge.change_update` reads it."""
        change = cls.model_validate(data)
        return {
            "op": change.op,
            "log_id": change.log_id,
            "at": change.at,
            "created": change.created,
            "fields": change.fields.model_dump(exclude_unset=True),
        }

    def message(self) -> bytes:
        return serializer.dumps(self.kind, self.model_dump(mode="json", exclude_unset=True))


class UsageLog(Event, schema="UsageLog"):
    """A new session as a tool reports it (`POST /usage-logs`, batch kind `usage_log`)."""

    kind: ClassVar[str] = "usage_log"

    _received_at: datetime | None = PrivateAttr(default=None)

    _end_after_start = field_validator("end_dt")(_after_start)

    def fill(self, received: Received) -> None:
        super().fill(received)
        self._received_at = received.at

    def change(self) -> UsageLogChange:
        """The change that creates the session (what the stream carries)."""
        fields = UsageFields(
            tool_id=self.tool_id,
            user_id=self.user_id,
            start_dt=self.start_dt,
            is_delete=False,
            delete_dt=None,
        )
        if self.end_dt is not None:
            fields.end_dt = self.end_dt
        return UsageLogChange(
            op="set", log_id=self.log_id, at=self._received_at, created=True, fields=fields
        )

    def message(self) -> bytes:
        return self.change().message()


class UsageLogPatch(SpecModel, schema="UsageLogPatch"):
    """`PATCH /usage-logs/{log_id}`: set some fields; `is_delete: false` undeletes."""

    _end_after_start = field_validator("end_dt")(_after_start)

    @model_validator(mode="after")
    def _meaningful(self) -> Self:
        if not self.model_fields_set:
            raise PydanticCustomError("empty_patch", "the patch sets no field")
        for name in ("tool_id", "user_id", "start_dt", "is_delete"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError("null_field", "{name} cannot be null", {"name": name})
        return self

    def change(self, log_id: str, received: Received) -> UsageLogChange:
        fields = UsageFields(**self.model_dump(exclude_unset=True))
        if self.is_delete is not None:
            fields.delete_dt = received.at if self.is_delete else None
        return UsageLogChange(op="set", log_id=log_id, at=received.at, fields=fields)


def deletion(log_id: str, received: Received, *, hard: bool) -> UsageLogChange:
    """The change that soft-deletes a session, or purges it (`hard`)."""
    if hard:
        return UsageLogChange(op="purge", log_id=log_id, at=received.at)
    fields = UsageFields(is_delete=True, delete_dt=received.at)
    return UsageLogChange(op="set", log_id=log_id, at=received.at, fields=fields)
