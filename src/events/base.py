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
    #: The request's `Sec-CH-UA*` headers (footfall.events.clienthints), if any.
    client_hints: dict[str, str] | None = None
    do_not_track: bool = False
    future_tolerance: timedelta = timedelta(minutes=5)
    max_object_depth: int = 8
    max_object_keys: int = 200


def _utc(value: datetime, info: ValidationInfo) -> datetime:
    """Store every time as UTC and refuse times from the future (beyond clock skew).

    The check needs the request's clock, so it runs only at the API (with context);
    the flusher decoding an accepted event later must never refuse it.
    """
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+00:03 is before year 1 in UTC
        raise PydanticCustomError("time_range", "time is out of range") from None
    received: Received | None = (info.context or {}).get("received")
    if received is not None and value > received.at + received.future_tolerance:
        raise PydanticCustomError(
            "future_time",
            "time is more than {seconds} s in the future",
            {"seconds": int(received.future_tolerance.total_seconds())},
        )
    return value


UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]


def _refuse_unsafe_keys(value: Any, pointer: str = "", limits: _Limits | None = None) -> None:
    """MongoDB reads `$name` as an operator and `a.b` as a path: such keys are refused.

    Escaping them would store keys that no client ever sent; refusing says what is
    wrong and lets the sender fix it (the decision is documented in the README).
    The same walk enforces MAX_OBJECT_DEPTH and MAX_OBJECT_KEYS (`limits`): a free-form
    field is stored and later read back whole, so its shape is bounded, not just its bytes.
    """
    limits = limits or _Limits()
    if isinstance(value, dict | list):
        limits.enter(pointer)
    if isinstance(value, dict):
        for key, item in value.items():
            escaped = key.replace("~", "~0").replace("/", "~1")
            if key.startswith("$") or "." in key or "\x00" in key:
                raise PydanticCustomError(
                    "unsafe_key",
                    "key {key!r} starts with '$' or contains '.', which MongoDB reserves",
                    {"key": key, "pointer": f"{pointer}/{escaped}"},
                )
            limits.count_key()
            _refuse_unsafe_keys(item, f"{pointer}/{escaped}", limits)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_unsafe_keys(item, f"{pointer}/{index}", limits)
    if isinstance(value, dict | list):
        limits.depth -= 1


class _Limits:
    """The depth and key budget of one free-form field (unbounded without a request)."""

    def __init__(self, max_depth: int | None = None, max_keys: int | None = None) -> None:
        self.max_depth, self.max_keys = max_depth, max_keys
        self.depth = self.keys = 0

    def enter(self, pointer: str) -> None:
        self.depth += 1
        if self.max_depth is not None and self.depth > self.max_depth:
            raise PydanticCustomError(
                "too_deep",
                "nested deeper than {limit} levels",
                {"limit": self.max_depth, "pointer": pointer},
            )

    def count_key(self) -> None:
        self.keys += 1
        if self.max_keys is not None and self.keys > self.max_keys:
            raise PydanticCustomError(
                "too_many_keys", "more than {limit} keys in all", {"limit": self.max_keys}
            )


def _safe(value: Any, info: ValidationInfo) -> Any:
    received: Received | None = (info.context or {}).get("received")
    if received is None:  # decoding an accepted event: it was judged at the API
        _refuse_unsafe_keys(value)
    else:
        limits = _Limits(received.max_object_depth, received.max_object_keys)
        _refuse_unsafe_keys(value, limits=limits)
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
    #: A browser key may send this kind (what a page sends); see footfall.security.identity.
    browser: ClassVar[bool] = False
    #: The field naming the learner: from a browser, only a learner token may set it.
    learner_field: ClassVar[str | None] = None

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
