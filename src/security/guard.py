"""The one place where a request's API key is checked: connexion's `x-apikeyInfoFunc`.

connexion finds the key in `X-API-Key` (no key: 401 before this runs) and calls
`api_key_info` once per security requirement the operation declares, with that
requirement's scopes; it passes when any requirement passes. Connexion does not compare
scopes for apiKey schemes itself, so this does, with `scopes.satisfies`: the spec's
per-operation declarations stay the only source of who may call what.

The returned dict is connexion's `token_info` for the request: plain, public facts
(never a secret), read later by the rate limiter and by `identity`.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any

import anyio.to_thread
from connexion.lifecycle import ConnexionRequest
from starlette.types import Scope

from footfall.security import cors
from footfall.security.keystore import KeyStore
from footfall.security.scopes import BROWSER, satisfies
from footfall.web.context import scope_services
from footfall.web.problems import Forbidden, Unauthenticated

SERVER = "server"


async def api_key_info(
    apikey: str, required_scopes: list[str] | None, request: ConnexionRequest
) -> dict[str, Any]:
    """Authenticate the key and authorise it for one requirement; raise 401 or 403.

    A cached key is checked on the loop's thread (a hash and a comparison); a cache miss
    reads MongoDB, in a worker thread so that it does not block the loop.
    """
    keys = scope_services(request.scope).keys
    check = partial(
        _check,
        keys,
        apikey,
        tuple(required_scopes or ()),
        request.headers.get("origin"),
        request.scope,
    )
    if keys.cached(apikey):
        return check()
    return await anyio.to_thread.run_sync(check)


# connexion inspects this function's signature twice per request (does it take
# `required_scopes`, `request`?); a signature computed once makes that a lookup
# (`inspect.signature` returns `__signature__` when a function has one).
api_key_info.__signature__ = inspect.signature(api_key_info)  # type: ignore[attr-defined]


def _check(
    keys: KeyStore, presented: str, required: tuple[str, ...], origin: str | None, scope: Scope
) -> dict[str, Any]:
    key = keys.authenticate(presented)
    if key is None:
        raise Unauthenticated("the API key is unknown, revoked or malformed")
    if not satisfies(required, key.scopes):
        raise Forbidden(
            f"this operation needs scope {' and '.join(required)}; "
            f"key {key.key_id} has {', '.join(sorted(key.scopes))}"
        )
    role = SERVER
    if BROWSER in required:
        if origin is None or origin not in key.origins:
            raise Forbidden(f"browser key {key.key_id} is not allowed from origin {origin!r}")
        cors.grant(scope, origin)
        role = BROWSER
    info: dict[str, Any] = {"sub": key.key_id, "scopes": sorted(key.scopes), "role": role}
    if key.rate is not None:
        info["rate"] = (key.rate.per_s, key.rate.burst)
    return info
