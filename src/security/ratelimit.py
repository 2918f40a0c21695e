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

An ingest write (an operation whose handler is marked `@draws_with_enqueue`) does not
draw here: its `Draw` rides on the request and is made by the enqueue, in the same
script as the `XADD` (`footfall.store.streams`), so a write costs one Redis round trip,
not two (the first cost about 18% of a single POST's CPU, measured). A write that ends
without an enqueue (refused by validation, by its model or by the queue bound; a batch
with nothing to queue) draws on its way out, here, and a refusal then answers 429 in its
place: every request reaching the limiter draws exactly once, and a request over the
limit is answered 429 whatever else is wrong with it, as before.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from redis import Redis
from redis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from footfall.metrics import tally
from footfall.security.keys import Rate
from footfall.security.scopes import BROWSER
from footfall.settings import Settings
from footfall.web.bridge import marked
from footfall.web.client import client_ip
from footfall.web.problems import TooManyRequests

log = logging.getLogger(__name__)

# `draw(n)`: KEYS[1..n] are buckets, ARGV[1..2n] the per_s and burst of each, in order.
# Returns 0 when a token was taken from every bucket, else milliseconds to wait. A Lua
# function, so that the enqueue's script can run it first (footfall.store.streams).
DRAW_LUA = """
local function draw(n)
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
  local levels, wait = {}, 0
  for i = 1, n do
    local per_ms = tonumber(ARGV[2 * i - 1]) / 1000
    local burst = tonumber(ARGV[2 * i])
    local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
    local tokens = tonumber(state[1]) or burst
    local at = tonumber(state[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - at) * per_ms)
    levels[i] = tokens
    if tokens < 1 then wait = math.max(wait, math.ceil((1 - tokens) / per_ms)) end
  end
  if wait > 0 then return wait end
  for i = 1, n do
    local per_ms = tonumber(ARGV[2 * i - 1]) / 1000
    local burst = tonumber(ARGV[2 * i])
    redis.call('HSET', KEYS[i], 'tokens', tostring(levels[i] - 1), 'at', now)
    redis.call('PEXPIRE', KEYS[i], math.ceil(burst / per_ms) + 1000)
  end
  return 0
end
"""

TAKE_LUA = DRAW_LUA + "return draw(#KEYS)"

_DRAW_MARK = "__footfall_draws_with_enqueue__"

#: Where the limiter leaves a request's `Draw` on the ASGI scope.
DRAW_KEY = "footfall.draw"

F = TypeVar("F", bound=Callable[..., Any])


def draws_with_enqueue(handler: F) -> F:
    """Mark an ingest handler: its request's rate-limit draw is made by its enqueue."""
    setattr(handler, _DRAW_MARK, True)
    return handler

Bucket = tuple[str, Rate]


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.prefix = prefix
        self._take = redis.register_script(TAKE_LUA)

    # A key's buckets share a hash slot (`{<key id>}`), so one script can take from both
    # on a Redis Cluster too; an address is therefore limited per browser key (per site).
    def key_bucket(self, key_id: str, rate: Rate) -> Bucket:
        return f"{self.prefix}:rate:{{{key_id}}}", rate

    def ip_bucket(self, key_id: str, ip: str, rate: Rate) -> Bucket:
        return f"{self.prefix}:rate:{{{key_id}}}:ip:{ip}", rate

    def wait_ms(self, buckets: Sequence[Bucket]) -> int:
        """0 when the request may go on (a token taken from each bucket), else the wait."""
        return self.wait_ms_of(Draw(buckets))

    def wait_ms_of(self, draw: Draw) -> int:
        if not draw.keys:
            return 0
        try:
            return int(self._take(keys=draw.keys, args=draw.args))
        except RedisError as error:
            log.warning("rate limits not applied: Redis %s", type(error).__name__)
            return 0


class RateLimited(Exception):
    """A draw was refused: no token was taken; `wait_ms` until one is back."""

    def __init__(self, wait_ms: int) -> None:
        super().__init__(wait_ms)
        self.wait_ms = wait_ms


class Draw:
    """One request's draw from its buckets (those with a limit), made once."""

    def __init__(self, buckets: Sequence[Bucket]) -> None:
        limited = [(name, rate) for name, rate in buckets if rate.per_s > 0]
        self.keys = [name for name, _ in limited]
        self.args: list[float | int] = [v for _, rate in limited for v in (rate.per_s, rate.burst)]
        self.made = not limited

    def __repr__(self) -> str:
        return f"Draw({self.keys}, made={self.made})"


def too_many(wait_ms: int) -> TooManyRequests:
    """The 429. A request refused by its limit counts as that in the metrics, whatever
    its events were judged before the draw (as when the limiter drew first)."""
    recorded = tally.current.get()
    if recorded is not None:
        recorded.events.clear()
    seconds = max(1, math.ceil(wait_ms / 1000))
    return TooManyRequests(f"rate limit reached; retry after {seconds} s", seconds)


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
            if marked(scope, _DRAW_MARK):
                await self._with_enqueue(Draw(drawn), scope, receive, send)
                return
            # On the loop's thread: one script on the local Redis takes less time than
            # the hop to a worker thread and back (bench/ingest.py).
            wait = self.limiter.wait_ms(drawn)
            if wait:
                raise too_many(wait)
        await self.app(scope, receive, send)

    async def _with_enqueue(self, draw: Draw, scope: Scope, receive: Receive, send: Send) -> None:
        scope[DRAW_KEY] = draw
        try:
            await self.app(scope, receive, send)
        except Exception:
            if not draw.made:  # refused before its enqueue: the limit still answers first
                draw.made = True
                wait = self.limiter.wait_ms_of(draw)
                if wait:
                    raise too_many(wait) from None
            raise
        if not draw.made:  # answered without an enqueue: the draw still counts
            draw.made = True
            self.limiter.wait_ms_of(draw)


def _client(scope: Scope, settings: Settings) -> str | None:
    peer = (scope.get("client") or (None, None))[0]
    forwarded = Headers(scope=scope).get("x-forwarded-for")
    return client_ip(peer, forwarded, settings.api.trusted_proxies)
