"""From request bodies to queued events: judge, normalise, enqueue, receipt. No HTTP here.

The core takes decoded bodies and the caller (always said, never defaulted), returns
receipts, and raises domain errors (`Refused`, `QueueUnavailable`, `QueueFull`); the
handlers turn those into HTTP answers (`footfall.handlers.ingest_errors`). Every write
goes through `_prepare` (the caller's rights, the model, the size of the message)
whichever door it came in by: one event, a batch item, a usage-log change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from footfall.events import Event, Limits, Received
from footfall.events.usage_log import UsageLog, UsageLogChange, UsageLogPatch, deletion
from footfall.metrics import tally
from footfall.pointers import FieldError, from_pydantic
from footfall.security.callers import Caller, Denied
from footfall.settings import ApiSettings
from footfall.sinks import BY_KIND
from footfall.store.streams import Message, QueueFull, Streams

Status = Literal["accepted", "duplicate", "rejected"]

__all__ = ["Ingest", "QueueFull", "QueueUnavailable", "Receipt", "Refused"]


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


class Refused(Exception):
    """The event cannot be accepted: `invalid` (the model refuses it), `denied` (this
    caller may not send it) or `too_large` (its message is over MAX_EVENT_BYTES)."""

    def __init__(
        self,
        reason: Literal["invalid", "denied", "too_large"],
        errors: list[FieldError],
        size: int | None = None,
    ) -> None:
        super().__init__(reason, errors)
        self.reason = reason
        self.errors = errors
        self.size = size


class QueueUnavailable(Exception):
    """Redis cannot be reached: nothing was queued."""


class Ingest:
    """The API's side of the queue, built once per worker."""

    def __init__(self, streams: Streams, settings: ApiSettings) -> None:
        self.streams = streams
        self.max_event_bytes = settings.max_event_bytes
        self.limits = Limits(
            future_tolerance=timedelta(seconds=settings.future_tolerance_s),
            max_object_depth=settings.max_object_depth,
            max_object_keys=settings.max_object_keys,
        )

    def one(self, kind: type[Event], body: Any, received: Received, caller: Caller) -> Receipt:
        """A single event: its receipt once Redis holds it; `Refused` when it is not taken."""
        with _counted([kind.kind]):
            event, message = self._prepare(kind, body, received, caller)
            [new] = self._enqueue([message], caller)
        receipt = Receipt("accepted" if new else "duplicate", event.log_id)
        tally.record(kind.kind, receipt.status)
        return receipt

    def many(
        self, items: list[dict[str, Any]], received: Received, caller: Caller
    ) -> list[Receipt]:
        """A batch: each item judged alone; repeats within the batch are duplicates.

        An item a browser key may not send (another kind, another learner) is rejected in
        its receipt like any other bad item: the rest of the batch still counts.
        """
        receipts: list[Receipt] = []
        judged: list[tuple[str, Receipt]] = []  # the receipts not rejected, by kind
        queued: list[tuple[Receipt, Message]] = []
        seen: set[tuple[str, str]] = set()
        for index, item in enumerate(items):
            at = f"/items/{index}"
            sink = BY_KIND.get(str(item.get("kind")))
            if sink is None:
                detail = f"unknown kind; one of {sorted(BY_KIND)}"
                receipts.append(
                    Receipt("rejected", errors=[{"pointer": f"{at}/kind", "detail": detail}])
                )
                tally.record("unknown", "rejected", "schema")  # not a label a client picks
                continue
            kind = next(k for k in sink.kinds if k.kind == item["kind"])
            body = {name: value for name, value in item.items() if name != "kind"}
            try:
                event, message = self._prepare(kind, body, received, caller, at)
            except Refused as refused:
                log_id = body.get("log_id") if isinstance(body.get("log_id"), str) else None
                receipts.append(Receipt("rejected", log_id, refused.errors))
                tally.record(kind.kind, "rejected", _REASONS[refused.reason])
                continue
            receipt = Receipt("accepted", event.log_id)
            judged.append((kind.kind, receipt))
            receipts.append(receipt)
            key = (message.collection, event.log_id or "")
            if key in seen:
                receipt.status = "duplicate"
                continue
            seen.add(key)
            queued.append((receipt, message))
        # Even with nothing to queue: the caller's rate-limit draw is made there.
        with _counted([kind_name for kind_name, _ in judged]):
            news = self._enqueue([message for _, message in queued], caller)
        for (receipt, _), new in zip(queued, news, strict=True):
            if not new:
                receipt.status = "duplicate"
        for kind_name, receipt in judged:
            tally.record(kind_name, receipt.status)
        return receipts

    def patch_usage_log(
        self, log_id: str, body: Any, received: Received, caller: Caller
    ) -> Receipt:
        """`PATCH /usage-logs/{log_id}`: the change, judged and queued like any event."""
        with _counted([UsageLog.kind]):
            patch = self._model(UsageLogPatch, caller.admit(UsageLog, body), received)
        return self._change(patch.change(log_id, received), caller)

    def delete_usage_log(
        self, log_id: str, received: Received, caller: Caller, *, hard: bool
    ) -> Receipt:
        caller.admit(UsageLog, {})
        return self._change(deletion(log_id, received, hard=hard), caller)

    def _change(self, change: UsageLogChange, caller: Caller) -> Receipt:
        with _counted([UsageLog.kind]):
            message = self._message(UsageLog, change.message(), None)
            self._enqueue([message], caller)
        tally.record(UsageLog.kind, "accepted")
        return Receipt("accepted", change.log_id)

    def _prepare(
        self, kind: type[Event], body: Any, received: Received, caller: Caller, at: str = ""
    ) -> tuple[Event, Message]:
        try:
            body = caller.admit(kind, body, at)
        except Denied as denied:
            raise Refused("denied", denied.errors) from None
        event = self._model(kind, body, received, at, accept=kind.accept)
        once_id = event.log_id if event.client_keyed else None
        return event, self._message(kind, event.message(), once_id, at)

    def _model(
        self,
        model: type[BaseModel],
        body: Any,
        received: Received,
        at: str = "",
        accept: Callable[..., Any] | None = None,
    ) -> Any:
        try:
            if accept is not None:
                return accept(body, received, self.limits)
            return model.model_validate(body, context={"received": received, "limits": self.limits})
        except ValidationError as error:
            raise Refused("invalid", from_pydantic(error, at)) from None

    def _message(
        self, kind: type[Event], payload: bytes, once_id: str | None, at: str = ""
    ) -> Message:
        if len(payload) > self.max_event_bytes:
            detail = f"the event is {len(payload)} bytes; the limit is {self.max_event_bytes}"
            raise Refused("too_large", [{"pointer": at, "detail": detail}], size=len(payload))
        return Message(BY_KIND[kind.kind].stream, payload, once_id)

    def _enqueue(self, messages: list[Message], caller: Caller) -> list[bool]:
        """Queue messages; True for each new one (False: its log_id was queued already).

        The caller's rate-limit draw is made with them (`RateLimited`: nothing queued).
        """
        try:
            return self.streams.enqueue(messages, caller.draw)
        except (RedisConnectionError, RedisTimeoutError) as error:
            raise QueueUnavailable(str(error)) from None


_REASONS: dict[str, tally.Reason] = {"invalid": "schema", "denied": "auth", "too_large": "size"}


@contextmanager
def _counted(kinds: list[str]) -> Iterator[None]:
    """Count the events of `kinds` as rejected, and why, when the block refuses them."""
    try:
        yield
    except Refused as refused:
        for kind in kinds:
            tally.record(kind, "rejected", _REASONS[refused.reason])
        raise
    except (QueueFull, QueueUnavailable) as error:
        reason: tally.Reason = "queue_full" if isinstance(error, QueueFull) else "unavailable"
        for kind in kinds:
            tally.record(kind, "rejected", reason)
        raise
