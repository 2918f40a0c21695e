"""Rate limits: token buckets in Redis, so every API worker and process shares them.

Each request with a key takes one token from the key's bucket and, for a browser key,
from its client IP's bucket of that key too (a browser key is shared by every visitor
of a site, so only the address tells one visitor from another; a server key is the
limit of the server that holds it). A bucket refills at `per_s` tokens a second up to `burst`.
Limits come from the key when set on it (`footfall keys create --rate`), else from
RATE_KEY_* / RATE_BROWSER_KEY_* / RATE_IP_*; a rate of 0 means no limit.

One Lua script checks and takes from all buckets of a request atomically (they share a
hash slot, so a Redis Cluster runs it too), with the Redis server's clock (workers'
clocks may differ). A refusal takes nothing, and says how long until a token is back:
the 429's Retry-After.

Without Redis the limiter lets requests through (logged): writes are then refused
anyway (503), and reads from MongoDB keep answering.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from footfall.security.keys import Rate
from footfall.security.scopes import BROWSER
from footfall.settings import Settings
from footfall.web.client import client_ip
from footfall.web.problems import TooManyRequests

log = logging.getLogger(__name__)

# KEYS: buckets. ARGV: per_s and burst of each, in the same order.
# Returns 0 when a token was taken from every bucket, else milliseconds to wait.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local levels, wait = {}, 0
for i, key in ipairs(KEYS) do
  local per_ms = tonumber(ARGV[2 * i - 1]) / 1000
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * per_ms)
  levels[i] = tokens
  if tokens < 1 then wait = math.max(wait, math.ceil((1 - tokens) / per_ms)) end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local per_ms = tonumber(ARGV[2 * i - 1]) / 1000
  local burst = tonumber(ARGV[2 * i])
  redis.call('HSET', key, 'tokens', tostring(levels[i] - 1), 'at', now)
  redis.call('PEXPIRE', key, math.ceil(burst / per_ms) + 1000)
end
return 0
"""

Bucket = tuple[str, Rate]


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.prefix = prefix
        self._take = redis.register_script(_TAKE)

    # A key's buckets share a hash slot (`{<key id>}`), so one script can take from both
    # on a Redis Cluster too; an address is therefore limited per browser key (per site).
    def key_bucket(self, key_id: str, rate: Rate) -> Bucket:
        return f"{self.prefix}:rate:{{{key_id}}}", rate

    def ip_bucket(self, key_id: str, ip: str, rate: Rate) -> Bucket:
        return f"{self.prefix}:rate:{{{key_id}}}:ip:{ip}", rate

    def wait_ms(self, buckets: Sequence[Bucket]) -> int:
        """0 when the request may go on (a token taken from each bucket), else the wait."""
        limited = [(name, rate) for name, rate in buckets if rate.per_s > 0]
        if not limited:
            return 0
        args = [value for _, rate in limited for value in (rate.per_s, rate.burst)]
        try:
            return int(self._take(keys=[name for name, _ in limited], args=args))
        except RedisError as error:
            log.warning("rate limits not applied: Redis %s", type(error).__name__)
            return 0


def buckets(
    limiter: RateLimiter, info: dict[str, Any], ip: str | None, settings: Settings
) -> list[Bucket]:
    """The buckets one request draws from, given the guard's `token_info`."""
    browser = info.get("role") == BROWSER
    if "rate" in info:
        per_s, burst = info["rate"]
        key_rate = Rate(per_s, burst)
    elif browser:
        key_rate = Rate(
            settings.security.rate_browser_key_per_s, settings.security.rate_browser_key_burst
        )
    else:
        key_rate = Rate(settings.security.rate_key_per_s, settings.security.rate_key_burst)
    found = [limiter.key_bucket(info["sub"], key_rate)]
    if browser and ip is not None:
        found.append(
            limiter.ip_bucket(
                info["sub"],
                ip,
                Rate(settings.security.rate_ip_per_s, settings.security.rate_ip_burst),
            )
        )
    return found


class RateLimit:
    """ASGI middleware after connexion's security (it needs the key), before the body."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, settings: Settings) -> None:
        self.app = app
        self.limiter = limiter
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        info = scope.get("extensions", {}).get("connexion_context", {}).get("token_info")
        if scope["type"] == "http" and isinstance(info, dict) and "sub" in info:
            # Only a browser key draws from its client address's bucket: the address
            # (parsed, with the trusted proxies) is worked out only for one.
            ip = _client(scope, self.settings) if info.get("role") == BROWSER else None
            drawn = buckets(self.limiter, info, ip, self.settings)
            # On the loop's thread: one script on the local Redis takes less time than
            # the hop to a worker thread and back (bench/ingest.py).
            wait = self.limiter.wait_ms(drawn)
            if wait:
                seconds = max(1, math.ceil(wait / 1000))
                raise TooManyRequests(f"rate limit reached; retry after {seconds} s", seconds)
        await self.app(scope, receive, send)


def _client(scope: Scope, settings: Settings) -> str | None:
    peer = (scope.get("client") or (None, None))[0]
    forwarded = Headers(scope=scope).get("x-forwarded-for")
    return client_ip(peer, forwarded, settings.api.trusted_proxies)
