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

# One call per batch, atomic: for each visitor, the first view's log_id if none is kept
# yet; the TTL renewed either way; 1 when this view is (or was) the first, else 0.
_FIRST_VISITS = """
local ttl = ARGV[1]
local answers = {}
for i, key in ipairs(KEYS) do
  local log_id = ARGV[i + 1]
  local first = redis.call('GET', key)
  if not first then
    redis.call('SET', key, log_id, 'EX', ttl)
    answers[i] = 1
  else
    redis.call('EXPIRE', key, ttl)
    answers[i] = first == log_id and 1 or 0
  end
end
return answers
"""


class VisitorLog:
    def __init__(self, redis: Redis, prefix: str, window_days: int, secret: str) -> None:
        self.prefix = f"{prefix}:visitor:"
        self.ttl_s = window_days * 86_400
        self._secret = secret.encode()
        self._script = redis.register_script(_FIRST_VISITS)

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
        keys = [key for key, _ in visits]
        answers = self._script(keys=keys, args=[self.ttl_s, *(log_id for _, log_id in visits)])
        return [bool(answer) for answer in answers]
