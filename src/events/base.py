"""What every ingested event shares: fields from the spec, request context, stream message.

An event's fields, types and limits are those of its schema in the spec
(`class PageView(Event, schema="PageView")`, see `footfall.spec`). Two rules that JSON
Schema cannot say are added here, by field type, to every kind:
- a time is stored as UTC and may not be more than FUTURE_TOLERANCE_S ahead (`_utc`);
- a free-form object or list may not hold keys MongoDB reserves, nor be deeper or
  larger than MAX_OBJECT_DEPTH / MAX_OBJECT_KEYS (`_safe`).
Rules of one kind (an end after its start, a position within the video) are validators
on that kind's model.

An event is judged at the API (`accept`, with the request's `Received` and the API's
`Limits`); the flusher decodes the same model from the stream (`document`), so the
stored document is exactly what was accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, get_args, get_origin

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, PrivateAttr
from pydantic._internal._model_construction import ModelMetaclass
from pydantic_core import PydanticCustomError

from footfall import serializer, spec
from footfall.events.ids import new_log_id
from footfall.pointers import escape


@dataclass(frozen=True)
class Received:
    """What the API knows about the request an event came in: used to fill defaults."""

    at: datetime
    ip: str | None = None
    user_agent: str | None = None
    #: The request's `Sec-CH-UA*` headers (footfall.events.clienthints), if any.
    client_hints: dict[str, str] | None = None
    do_not_track: bool = False


@dataclass(frozen=True)
class Limits:
    """The API's bounds on what a request may hold (`footfall.settings.ApiSettings`).

    Without them (the flusher decoding an accepted event) nothing is refused for its
    time or size: it was judged at the API.
    """

    future_tolerance: timedelta
    max_object_depth: int
    max_object_keys: int


def _context(info: Any) -> tuple[Received | None, Limits | None]:
    context = info.context or {}
    return context.get("received"), context.get("limits")


def _utc(value: datetime, info: Any) -> datetime:
    """Every time is stored as UTC; at the API, one too far in the future is refused."""
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+00:03 is before year 1 in UTC
        raise PydanticCustomError("time_range", "time is out of range") from None
    received, limits = _context(info)
    if received and limits and value > received.at + limits.future_tolerance:
        raise PydanticCustomError(
            "future_time",
            "time is more than {seconds} s in the future",
            {"seconds": int(limits.future_tolerance.total_seconds())},
        )
    return value


def _safe(value: Any, info: Any) -> Any:
    """A free-form value: refuse MongoDB's reserved keys, and (at the API) bound its shape."""
    _, limits = _context(info)
    walk = _Walk(limits)
    walk.visit(value, "")
    if walk.errors:
        # One error for the field, carrying every bad key by pointer below it
        # (`footfall.pointers.from_pydantic` makes one field error of each).
        first = walk.errors[0]
        raise PydanticCustomError(
            first[1],
            first[2],
            {
                "pointer": first[0],
                "errors": [(pointer, detail) for pointer, _, detail in walk.errors],
            },
        )
    return value


def _reserved(key: str) -> str | None:
    """Why MongoDB cannot take this key, in words; None when it can."""
    if key.startswith("$"):
        return f"key {key!r} starts with '$', which MongoDB reads as an operator"
    if "." in key:
        return f"key {key!r} contains '.', which MongoDB reads as a path"
    if "\x00" in key:
        return f"key {key!r} contains a NUL character, which MongoDB cannot store"
    return None


#: The integers BSON can hold.
INT64 = (-(2**63), 2**63 - 1)


class _Walk:
    """Walks a free-form value once, collecting every unsafe key and the first bound
    broken: a client fixing its payload needs every bad key at once.

    Keys starting with `$` or holding `.` are refused, not escaped: escaping would store
    keys no client sent (the decision is documented in the README). So are integers
    beyond 64 bits: MongoDB could not store the event. The shape is bounded because a
    free-form field is stored and later read back whole.
    """

    def __init__(self, limits: Limits | None) -> None:
        self.limits = limits
        self.depth = self.keys = 0
        self.errors: list[tuple[str, str, str]] = []
        self.stopped = False

    def visit(self, value: Any, pointer: str) -> None:
        if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
            self.errors.append(
                (pointer, "int_range", "integer beyond 64 bits, which MongoDB cannot store")
            )
            return
        if self.stopped or not isinstance(value, dict | list):
            return
        self.depth += 1
        if self.limits is not None and self.depth > self.limits.max_object_depth:
            self._stop(
                pointer, "too_deep", f"nested deeper than {self.limits.max_object_depth} levels"
            )
            return
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if self.stopped:
                return
            here = f"{pointer}/{escape(key)}"
            if isinstance(value, dict):
                self.keys += 1
                if self.limits is not None and self.keys > self.limits.max_object_keys:
                    self._stop(
                        "",  # a budget of the whole field
                        "too_many_keys",
                        f"more than {self.limits.max_object_keys} keys in all",
                    )
                    return
                reserved = _reserved(key)
                if reserved is not None:
                    self.errors.append((here, "unsafe_key", reserved))
                    continue
            self.visit(item, here)
        self.depth -= 1

    def _stop(self, pointer: str, kind: str, detail: str) -> None:
        self.errors.append((pointer, kind, detail))
        self.stopped = True


def _with_rules(annotation: Any) -> Any:
    """A spec-derived annotation with the rules of its type added (times, free-form)."""
    optional = get_origin(annotation) is not None and type(None) in get_args(annotation)
    inner = (
        next((a for a in get_args(annotation) if a is not type(None)), annotation)
        if optional
        else annotation
    )
    base = get_args(inner)[0] if get_origin(inner) is Annotated else inner
    if base is AwareDatetime:
        inner = Annotated[inner, AfterValidator(_utc)]
    elif get_origin(base) in (dict, list) and get_args(base)[-1] is Any:
        inner = Annotated[inner, AfterValidator(_safe)]
    else:
        return annotation
    return inner | None if optional else inner


class _FromSpec(ModelMetaclass):
    """Declares a model's fields from component schemas of the spec: `schema="PageView"`
    (or several names). Fields the class body declares itself win."""

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        schema: str | tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> type:
        components = (schema,) if isinstance(schema, str) else schema or ()
        annotations = namespace.setdefault("__annotations__", {})
        for component in components:
            for field, (annotation, info) in spec.load().fields(component, _MODELS).items():
                if field not in annotations:
                    annotations[field] = _with_rules(annotation)
                    namespace[field] = info
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if components:
            _MODELS.setdefault(components[0], cls)
            cls.__spec_schema__ = components[0]  # type: ignore[attr-defined]
        return cls


#: The model of each component schema that has one: a nested object of that schema
#: (a course's tutorials, say) is typed by it.
_MODELS: dict[str, type[BaseModel]] = {}


class SpecModel(BaseModel, metaclass=_FromSpec):
    """A model whose fields come from the spec (`schema=`): strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Event(SpecModel):
    """Base of every ingest kind: fields from the spec, UTC times, safe keys."""

    #: The name of this kind in a batch (`{"kind": ...}`), in receipts and in stream messages.
    kind: ClassVar[str]
    #: A browser key may send this kind (what a page sends); see footfall.security.identity.
    browser: ClassVar[bool] = False
    #: The field naming the learner: from a browser, only a learner token may set it.
    learner_field: ClassVar[str | None] = None

    log_id: str | None = None

    _client_keyed: bool = PrivateAttr(default=False)

    @classmethod
    def accept(
        cls, body: dict[str, Any], received: Received, limits: Limits | None = None
    ) -> Event:
        """Validate a request body and fill what the request itself tells."""
        event = cls.model_validate(body, context={"received": received, "limits": limits})
        event._client_keyed = event.log_id is not None
        event.fill(received)
        return event

    def fill(self, received: Received) -> None:
        """Fill defaults from the request; kinds extend it."""
        if self.log_id is None:
            self.log_id = new_log_id()

    @property
    def client_keyed(self) -> bool:
        """True when the client chose the log_id, so a repeat may be a duplicate."""
        return self._client_keyed

    def message(self) -> bytes:
        """The stream entry's payload (`footfall.serializer`)."""
        return serializer.dumps(self.kind, self.model_dump(mode="json", exclude_none=True))

    @classmethod
    def document(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The MongoDB document of a message's data (as `message` wrote it)."""
        return cls.model_validate(data).model_dump(exclude_none=True)
