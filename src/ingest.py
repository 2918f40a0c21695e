"""From request bodies to queued events: validate, normalise, enqueue, answer.

Handlers stay thin by calling `one` (a single event: 202 or a problem) or `many` (a
batch: a receipt per item). Both go through `_prepare`, so an event is judged the same
way whichever door it came in by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from footfall.events import KINDS, Event, Received
from footfall.security.identity import SERVER, Caller, Denied
from footfall.store.streams import Message, QueueFull, Streams
from footfall.web.problems import (
    FieldError,
    Forbidden,
    Invalid,
    Overloaded,
    TooLarge,
    from_pydantic,
    unavailable_on,
)
from footfall.web.responses import Answer, answer

Status = Literal["accepted", "duplicate", "rejected"]


@dataclass
class Receipt:
    status: Status
    log_id: str | None = None
    errors: list[FieldError] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status}
        if self.log_id is not None:
            body["log_id"] = self.log_id
        if self.errors:
            body["errors"] = self.errors
        return body


class _Refused(Exception):
    def __init__(
        self, errors: list[FieldError], *, size: int | None = None, denied: bool = False
    ) -> None:
        self.errors = errors
        self.size = size  # set when the event was refused for its size
        self.denied = denied


def _prepare(
    kind: type[Event],
    body: Any,
    received: Received,
    max_bytes: int,
    at: str = "",
    caller: Caller = SERVER,
) -> tuple[Event, Message]:
    try:
        body = caller.admit(kind, body, at)
    except Denied as denied:
        raise _Refused(denied.errors, denied=True) from None
    try:
        event = kind.accept(body, received)
    except ValidationError as error:
        raise _Refused(from_pydantic(error, at)) from None
    payload = event.message()
    if len(payload) > max_bytes:
        raise _Refused(
            [
                {
                    "pointer": at,
                    "detail": f"the event is {len(payload)} bytes; the limit is {max_bytes}",
                }
            ],
            size=len(payload),
        )
    return event, Message(kind.collection, payload, event.log_id if event.client_keyed else None)


def enqueue(streams: Streams, messages: list[Message], retry_after_s: int) -> list[bool]:
    """Queue messages; True for each new one. 503 when Redis cannot take them, or when
    a queue is full (MAX_STREAM_LENGTH)."""
    with unavailable_on((RedisConnectionError, RedisTimeoutError), "Redis", retry_after_s):
        try:
            return streams.enqueue(messages)
        except QueueFull as full:
            raise Overloaded(full.collection, retry_after_s) from None


def one(
    kind: type[Event],
    body: Any,
    received: Received,
    streams: Streams,
    max_event_bytes: int,
    retry_after_s: int,
    caller: Caller = SERVER,
) -> Answer:
    """A single event: 202 with its receipt once Redis holds it."""
    try:
        event, message = _prepare(kind, body, received, max_event_bytes, caller=caller)
    except _Refused as refused:
        if refused.denied:
            raise Forbidden(refused.errors[0]["detail"], refused.errors) from None
        if refused.size is not None:
            raise TooLarge("the event", refused.size, max_event_bytes) from None
        raise Invalid(refused.errors) from None
    [new] = enqueue(streams, [message], retry_after_s)
    return answer(Receipt("accepted" if new else "duplicate", event.log_id).json(), 202)


def many(
    items: list[dict[str, Any]],
    received: Received,
    streams: Streams,
    max_event_bytes: int,
    retry_after_s: int,
    caller: Caller = SERVER,
) -> list[Receipt]:
    """A batch: each item judged alone; repeats within the batch are duplicates.

    An item a browser key may not send (another kind, another learner) is rejected in
    its receipt like any other bad item: the rest of the batch still counts.
    """
    receipts: list[Receipt] = []
    queued: list[tuple[Receipt, Message]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        at = f"/items/{index}"
        kind = KINDS.get(str(item.get("kind")))
        if kind is None:
            receipts.append(
                Receipt(
                    "rejected",
                    errors=[
                        {"pointer": f"{at}/kind", "detail": f"unknown kind; one of {sorted(KINDS)}"}
                    ],
                )
            )
            continue
        body = {name: value for name, value in item.items() if name != "kind"}
        try:
            event, message = _prepare(kind, body, received, max_event_bytes, at, caller)
        except _Refused as refused:
            receipts.append(
                Receipt(
                    "rejected",
                    body.get("log_id") if isinstance(body.get("log_id"), str) else None,
                    refused.errors,
                )
            )
            continue
        receipt = Receipt("accepted", event.log_id)
        receipts.append(receipt)
        key = (kind.collection, event.log_id or "")
        if key in seen:
            receipt.status = "duplicate"
            continue
        seen.add(key)
        queued.append((receipt, message))
    news = enqueue(streams, [message for _, message in queued], retry_after_s) if queued else []
    for (receipt, _), new in zip(queued, news, strict=True):
        if not new:
            receipt.status = "duplicate"
    return receipts
