"""Stored documents as NDJSON: one JSON object per line, times in RFC 3339 (UTC).

What MongoDB holds that JSON has no type for is written as text: an ObjectId as its
hex string, a Decimal128 as its decimal string, binary data as base64.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from bson import Binary, Decimal128, ObjectId

MEDIA_TYPE = "application/x-ndjson"


def line(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_APPEND_NEWLINE)


def _default(value: Any) -> Any:
    if isinstance(value, ObjectId | Decimal128):
        return str(value)
    if isinstance(value, Binary | bytes):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"{type(value).__name__} is not JSON")
