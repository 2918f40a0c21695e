"""First-time or returning: has this visitor been seen within the window?

A visitor is a keyed hash (HMAC-SHA256) of the client's visitor id when it sends one,
else of IP + user agent: Redis never holds an address, and nobody without the key can
test one against it. Redis keeps, per visitor, the log_id of its first view, with a TTL
that every view renews (a sliding window, like the 180-day cookie of the system this
replaces), so the answer is shared by every flusher process. Storing the first log_id
rather than a "seen" flag makes a replay safe: a batch enriched again after a crash
finds its own first view and says "first visit" again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from redis import Redis


class VisitorLog:
    def __init__(self, redis: Redis, prefix: str, window_days: int, secret: str) -> None:
        self.prefix = f"{prefix}:visitor:"
        self.ttl_s = window_days * 86_400
        self._secret = secret.encode()
        self.redis = redis

    def key(self, *, visitor_id: str | None, ip: str | None, user_agent: str | None) -> str | None:
        """The Redis key of a visitor, or None when nothing identifies one.

        The two kinds of identity are kept apart ("id" / "ipua") so that a visitor id
        can never collide with an address.
        """
        if visitor_id:
            material = f"id\0{visitor_id}"
        elif ip:
            material = f"ipua\0{ip}\0{user_agent or ''}"
        else:
            return None
        digest = hmac.new(self._secret, material.encode(), hashlib.sha256).hexdigest()
        return self.prefix + digest[:32]

    def first_visits(self, visits: Sequence[tuple[str, str]]) -> list[bool]:
        """For each (visitor key, log_id), in order: is this view the visitor's first?

        Views of one visitor in one batch are answered in batch order.
        """
        if not visits:
            return []
        # Per visitor, atomically: keep this view's log_id unless one is kept (SET NX GET:
        # the kept one, or None when this is the first); the window slides either way.
        # One key per command, so the pipeline runs on a Redis Cluster as well; views of
        # one visitor (one key, one node) are answered in order.
        pipe = self.redis.pipeline(transaction=False)
        for key, log_id in visits:
            pipe.set(key, log_id, nx=True, get=True, ex=self.ttl_s)
            pipe.expire(key, self.ttl_s)
        replies = pipe.execute()[::2]
        return [
            first is None or first.decode() == log_id
            for first, (_, log_id) in zip(replies, visits, strict=True)
        ]
