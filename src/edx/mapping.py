"""One edX event as Footfall stores it, from a tracking-log line or an event-tracking event.

Two shapes arrive: a tracking-log line (`event_type`, `time`, `event`, `username`, ...,
`context`) and what the `event-tracking` library emits (`name`, `timestamp`, `context`,
`data`, with the request's `username`, `ip`, `agent`, ... inside `context`). Both map to
one document:

- the common fields typed: strings stay strings (a number becomes its text), `time` a
  UTC date (a time without an offset is UTC, as edX writes them), `context.user_id` an
  integer when it is one (also as a string), `context.course_id/org_id/path` strings;
- `event` parsed when it is a JSON string holding an object or an array, kept as it is
  otherwise (an object, a string that is not JSON, a number);
- `family` (see `footfall.edx.families`) and `block`, the course block the event is
  about (`context.module.usage_key`, `event.problem_id`, `event.module_id`, `event.id`),
  so that reports need not repeat those rules;
- top-level fields edX may add that Footfall does not type go under `extra`.

A value holding a key MongoDB reserves (`$...`, `a.b`) or nested deeper than
`MAX_DEPTH` is kept as its JSON text, so that a line is never lost for the shape of a
free-form value. The IP address is left as sent: `footfall.edx.privacy` reduces it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from footfall.edx.families import family

#: Nesting kept as objects; deeper values are stored as JSON text (MongoDB allows 100).
MAX_DEPTH = 32
#: Top-level strings, typed as strings.
STRINGS = (
    "username",
    "event_source",
    "name",
    "session",
    "page",
    "host",
    "referer",
    "agent",
    "accept_language",
    "ip",
)
#: Request fields that event-tracking puts in `context`; lifted when not at the top.
FROM_CONTEXT = ("username", "session", "ip", "agent", "host", "referer", "accept_language")
CONTEXT_STRINGS = ("course_id", "org_id", "path")
#: Every top-level field with a place of its own; any other goes under `extra`.
KNOWN = frozenset((*STRINGS, "event_type", "time", "timestamp", "context", "event", "data"))
#: Where an event names its block, in order of trust.
BLOCK_FIELDS = ("problem_id", "module_id", "usage_key", "id")


class LineError(ValueError):
    """This event cannot be stored: `reason` says why, `pointer` where (JSON pointer)."""

    def __init__(self, reason: str, pointer: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.pointer = pointer


def line_id(line: bytes) -> str:
    """The `log_id` of a tracking-log line: a hash of its bytes (surrounding blanks and
    the line ending left out), so the same line in any file is stored once."""
    return hashlib.blake2b(line, digest_size=16).hexdigest()


def event_id(event: dict[str, Any]) -> str:
    """The `log_id` of an event sent without one: a hash of its canonical JSON."""
    canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def parse_line(line: bytes) -> dict[str, Any]:
    """The document of one non-blank tracking-log line (already stripped); LineError if none."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise LineError(f"not JSON: {error}") from None
    if not isinstance(event, dict):
        raise LineError(f"not a JSON object but {_json_type(event)}")
    return to_document(event, line_id(line))


def to_document(event: dict[str, Any], log_id: str) -> dict[str, Any]:
    """The stored document of an edX event of either shape; LineError if it has none."""
    get = event.get
    event_type = get("event_type") or get("name")
    if not isinstance(event_type, str):
        raise LineError("no event_type (nor name) string", "/event_type")
    when = get("time")
    if when is None:
        when = get("timestamp")
        if when is None:
            raise LineError("no time (nor timestamp)", "/time")
        at = _time(when, "/timestamp")
    else:
        at = _time(when, "/time")
    doc: dict[str, Any] = {
        "log_id": log_id,
        "event_type": event_type,
        "family": family(event_type),
        "time": at,
    }
    context = get("context")
    if context is not None and not isinstance(context, dict):
        raise LineError(f"context is {_json_type(context)}, not an object", "/context")
    for name in STRINGS:
        value = get(name)
        if value is None and context and name in FROM_CONTEXT:
            value = context.get(name)
        if value is not None and value != "":
            doc[name] = _text(value, name)
    if context:
        doc["context"] = _context(context)
    body = event["event"] if "event" in event else get("data")
    if body is not None:
        doc["event"] = _body(body)
    block = _block(doc.get("context"), doc.get("event"))
    if block is not None:
        doc["block"] = block
    if not KNOWN.issuperset(event):
        extra = {key: _storable(event[key]) for key in event if key not in KNOWN}
        for key in extra:
            _check_key(key, f"/{key}")
        doc["extra"] = extra
    return doc


def _time(value: Any, pointer: str) -> datetime:
    if not isinstance(value, str):
        raise LineError(f"{pointer[1:]} is {_json_type(value)}, not an ISO 8601 time", pointer)
    try:
        at = datetime.fromisoformat(value)
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise LineError(f"{pointer[1:]} {value[:40]!r} is not an ISO 8601 time", pointer) from None
    # MongoDB keeps milliseconds: the stored time is the same whichever way it came in.
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _text(value: Any, name: str, pointer: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return orjson.dumps(value).decode()
    raise LineError(f"{name} is {_json_type(value)}, not a string", pointer or f"/{name}")


def _context(context: dict[str, Any]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for key, value in context.items():
        _check_key(key, f"/context/{key}")
        if key == "user_id":
            value = _user_id(value)
        elif key in CONTEXT_STRINGS:
            value = None if value == "" else value
            if value is not None:
                value = _text(value, f"context.{key}", f"/context/{key}")
        else:
            value = _storable(value)
        if value is not None:
            typed[key] = value
    return typed


def _user_id(value: Any) -> int | str | None:
    """edX's user id: an integer, sometimes as a string; "" or null for nobody."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = value.strip()
        if value.isdigit() and len(value) < 19:
            return int(value)
        return value or None
    if value is None:
        return None
    return _text(value, "context.user_id", "/context/user_id")


def _body(body: Any) -> Any:
    """`event`: a JSON string holding an object or array is parsed; anything else is kept."""
    if isinstance(body, str):
        if body[:1] in ("{", "["):
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                return body
            return parsed if _safe(parsed, 0) else body
        return body
    return _storable(body)


def _storable(value: Any) -> Any:
    """The value, or its JSON text when MongoDB could not store it as it is."""
    if isinstance(value, dict | list) and not _safe(value, 0):
        return orjson.dumps(value).decode()
    return value


def _safe(value: Any, depth: int) -> bool:
    """No key MongoDB reserves, no nesting deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        for key, item in value.items():
            if key[:1] == "$" or "." in key or "\x00" in key:
                return False
            if isinstance(item, dict | list) and not _safe(item, depth + 1):
                return False
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and not _safe(item, depth + 1):
                return False
    return True


def _check_key(key: str, pointer: str) -> None:
    if key[:1] == "$" or "." in key or "\x00" in key or not key:
        raise LineError(f"key {key!r} is reserved by MongoDB ('$' first, or a '.')", pointer)


def _block(context: dict[str, Any] | None, body: Any) -> str | None:
    if context:
        module = context.get("module")
        if isinstance(module, dict):
            key = module.get("usage_key")
            if isinstance(key, str) and key:
                return key
    if isinstance(body, dict):
        for name in BLOCK_FIELDS:
            key = body.get(name)
            if isinstance(key, str) and key:
                return key
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
