"""What every ingested event shares: validation rules, request context, stream encoding.

An event is validated once, at the API, by its pydantic model; the flusher decodes the
same model from the stream, so the stored document is exactly what was accepted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

LogId = Annotated[str, Field(min_length=1, max_length=128)]
ShortText = Annotated[str, Field(max_length=512)]
LongText = Annotated[str, Field(max_length=2048)]
Identifier = Annotated[str, Field(min_length=1, max_length=128)]


@dataclass(frozen=True)
class Received:
    """What the API knows about the request an event came in: used to fill defaults."""

    at: datetime
    ip: str | None = None
    user_agent: str | None = None
    do_not_track: bool = False
    future_tolerance: timedelta = timedelta(minutes=5)


def _utc(value: datetime, info: ValidationInfo) -> datetime:
    """Store every time as UTC and refuse times from the future (beyond clock skew).

    The check needs the request's clock, so it runs only at the API (with context);
    the flusher decoding an accepted event later must never refuse it.
    """
    value = value.astimezone(UTC)
    received: Received | None = (info.context or {}).get("received")
    if received is not None and value > received.at + received.future_tolerance:
        raise PydanticCustomError(
            "future_time",
            "time is more than {seconds} s in the future",
            {"seconds": int(received.future_tolerance.total_seconds())},
        )
    return value


UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]


def _refuse_unsafe_keys(value: Any, pointer: str = "") -> None:
    """MongoDB reads `$name` as an operator and `a.b` as a path: such keys are refused.

    Escaping them would store keys that no client ever sent; refusing says what is
    wrong and lets the sender fix it (the decision is documented in the README).
    """
    if isinstance(value, dict):
        for key, item in value.items():
            escaped = key.replace("~", "~0").replace("/", "~1")
            if key.startswith("$") or "." in key or "\x00" in key:
                raise PydanticCustomError(
                    "unsafe_key",
                    "key {key!r} starts with '$' or contains '.', which MongoDB reserves",
                    {"key": key, "pointer": f"{pointer}/{escaped}"},
                )
            _refuse_unsafe_keys(item, f"{pointer}/{escaped}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_unsafe_keys(item, f"{pointer}/{index}")


def _safe(value: Any) -> Any:
    _refuse_unsafe_keys(value)
    return value


FreeObject = Annotated[dict[str, Any], AfterValidator(_safe)]
FreeList = Annotated[list[Any], AfterValidator(_safe)]


class Event(BaseModel):
    """Base of every ingest kind: strict about unknown fields, UTC times, safe keys."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    #: The name of this kind in a batch (`{"kind": ...}`) and in receipts.
    kind: ClassVar[str]
    #: The MongoDB collection (and Redis stream) this kind is stored in.
    collection: ClassVar[str]

    log_id: LogId | None = None

    _client_keyed: bool = PrivateAttr(default=False)

    @classmethod
    def accept(cls, body: dict[str, Any], received: Received) -> Event:
        """Validate a request body and fill what the request itself tells."""
        event = cls.model_validate(body, context={"received": received})
        event._client_keyed = event.log_id is not None
        event.fill(received)
        return event

    def fill(self, received: Received) -> None:
        """Fill defaults from the request; kinds extend it."""
        if self.log_id is None:
            self.log_id = str(uuid.uuid4())

    @property
    def client_keyed(self) -> bool:
        """True when the client chose the log_id, so a repeat may be a duplicate."""
        return self._client_keyed

    def message(self) -> bytes:
        """The stream entry's payload: the accepted event as JSON."""
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def decode(cls, payload: bytes) -> dict[str, Any]:
        """The MongoDB document for a stream payload written by `message`."""
        return cls.model_validate_json(payload).model_dump(exclude_none=True)
