"""API keys mirrored into Redis, so that any worker can check any key while MongoDB is down.

MongoDB's `api_keys` stays the source of truth: a worker reads it first (through
`KeyStore`) and turns to the mirror only when MongoDB cannot be reached. Every create
and revoke writes the mirror right after MongoDB (`footfall.security.keys`), and
`footfall serve` copies every key at start (`sync`), so a key made while Redis was down,
or before the mirror existed, is mirrored too. A revoked key stays in the mirror with its
revocation time, so that it is refused, not unknown.

The mirror holds what `api_keys` holds (hashes, and browser keys' learner token
secrets): Redis deserves the same protection as MongoDB.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from redis import Redis

from footfall.security.keys import ApiKey


class KeyMirror:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, key_id: str) -> str:
        return f"{self.prefix}:apikey:{key_id}"

    def put(self, *keys: ApiKey) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.set(self.key(key.key_id), orjson.dumps(key.document()))
        pipe.execute()

    def get(self, key_id: str) -> ApiKey | None:
        """The mirrored key, or None when the mirror does not know it."""
        raw = self.redis.get(self.key(key_id))
        return None if raw is None else ApiKey.from_document(_dates(orjson.loads(raw)))

    def sync(self, keys: list[ApiKey]) -> None:
        """Mirror every key MongoDB holds (keys are never deleted there, only revoked)."""
        for start in range(0, len(keys), 500):
            self.put(*keys[start : start + 500])


def _dates(document: dict[str, Any]) -> dict[str, Any]:
    for name in ("created_at", "revoked_at"):
        if document.get(name) is not None:
            document[name] = datetime.fromisoformat(document[name])
    return document
