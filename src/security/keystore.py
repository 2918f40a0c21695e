"""API keys as the API reads them: cached per process, so a request does not read MongoDB.

A record is kept for KEY_CACHE_TTL_S (bounded to KEY_CACHE_SIZE records, least recently
used first out): a revoked key keeps working for at most that long in each worker.
Unknown ids are cached too, so a flood of made-up keys does not become a flood of
queries. While MongoDB cannot be reached, the key comes from its Redis mirror
(`footfall.security.keymirror`: any active key, revocations included), else from an
expired record; a key neither knows is answered 503 until MongoDB is back.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from pymongo.database import Database
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from footfall.security import scopes as scope_names
from footfall.security.keymirror import KeyMirror
from footfall.security.keys import ApiKey, parse
from footfall.store.collections import API_KEYS
from footfall.web.problems import Unavailable


class KeyStore:
    """Keys by id, and the origins of browser keys, cached per process for `ttl_s`."""

    def __init__(
        self,
        db: Database,
        ttl_s: float,
        size: int,
        retry_after_s: int,
        mirror: KeyMirror | None = None,
    ) -> None:
        self.collection = db[API_KEYS.name]
        self.mirror = mirror
        self.ttl_s = ttl_s
        self.size = size
        self.retry_after_s = retry_after_s
        self._keys: OrderedDict[str, tuple[float, ApiKey | None]] = OrderedDict()
        self._origins: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def authenticate(self, presented: str) -> ApiKey | None:
        """The active key whose secret this is, or None (unknown, revoked or wrong)."""
        key_id = parse(presented)
        key = None if key_id is None else self.get(key_id)
        if key is None or not key.active or not key.matches(presented):
            return None
        return key

    def cached(self, presented: str) -> bool:
        """True when `authenticate` will not read MongoDB (the key's record is fresh)."""
        key_id = parse(presented)
        with self._lock:
            entry = self._keys.get(key_id) if key_id is not None else None
        return key_id is None or (entry is not None and entry[0] >= time.monotonic())

    def get(self, key_id: str) -> ApiKey | None:
        with self._lock:
            entry = self._keys.get(key_id)
        if entry is not None and entry[0] >= time.monotonic():
            return entry[1]
        try:
            document = self.collection.find_one({"key_id": key_id})
        except PyMongoError:
            # The mirror (revocations included), else a stale record: better than
            # refusing every request. Kept for another TTL so that only one request per
            # key and TTL waits for MongoDB to time out.
            known = self._mirrored(key_id) or entry
            if known is None:
                raise Unavailable("MongoDB", self.retry_after_s) from None
            self._remember(key_id, known[1])
            return known[1]
        key = ApiKey.from_document(document) if document else None
        self._remember(key_id, key)
        return key

    def _mirrored(self, key_id: str) -> tuple[float, ApiKey] | None:
        if self.mirror is None:
            return None
        try:
            key = self.mirror.get(key_id)
        except RedisError:
            return None
        return None if key is None else (time.monotonic(), key)

    def browser_origins(self) -> frozenset[str]:
        """Every origin of an active browser key: the origins a preflight may pass."""
        now = time.monotonic()
        if self._origins is not None and self._origins[0] >= now:
            return self._origins[1]
        try:
            found = self.collection.distinct(
                "origins", {"scopes": scope_names.BROWSER, "revoked_at": None}
            )
        except PyMongoError:
            if self._origins is not None:
                return self._origins[1]
            raise Unavailable("MongoDB", self.retry_after_s) from None
        self._origins = (now + self.ttl_s, frozenset(found))
        return self._origins[1]

    def _remember(self, key_id: str, key: ApiKey | None) -> None:
        with self._lock:
            self._keys[key_id] = (time.monotonic() + self.ttl_s, key)
            self._keys.move_to_end(key_id)
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)
