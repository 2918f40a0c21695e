"""The one encoding of a stream message: `{"kind": ..., ...data}` as JSON (orjson).

Every kind is written and read through here, so a flusher decodes any message of its
stream by the kind the message names (`footfall.sinks.Sink.decode`).
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(kind: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"kind": kind, **data})


def loads(payload: bytes) -> tuple[str | None, dict[str, Any]]:
    """The message's kind and data. A message written before kinds were named in every
    message has none: its stream's first kind reads it."""
    data = orjson.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("a stream message is a JSON object")
    kind = data.pop("kind", None)
    return (kind if isinstance(kind, str) else None), data
