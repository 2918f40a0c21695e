"""CORS for browser keys: preflights for registered origins, headers for granted ones.

A preflight carries no X-API-Key, so it cannot say which key the page will use. It is
answered for an origin registered on any active browser key, for the paths and methods
of operations the spec opens to `browser` keys; it grants nothing by itself. The real
request then names its key, and `guard` checks that this key allows that origin: only
then does the answer carry `Access-Control-Allow-Origin` (the origin itself, never `*`).
No `Access-Control-Allow-Credentials`: pages authenticate with headers, not cookies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from footfall.security.scopes import BROWSER
from footfall.web.methods import METHODS, base_path, path_pattern
from footfall.web.problems import Unavailable, send_problem

ALLOWED_HEADERS = "Content-Type, X-API-Key, X-Learner-Token"
EXPOSED_HEADERS = "Retry-After"
_SCOPE_KEY = "footfall.cors"

Route = tuple[re.Pattern[str], frozenset[str]]


@dataclass
class _Grant:
    origin: str | None = None


def grant(scope: Scope, origin: str) -> None:
    """Called by the guard: this request's key allows this origin."""
    found = scope.get(_SCOPE_KEY)
    if isinstance(found, _Grant):
        found.origin = origin


def browser_routes(spec: dict[str, Any]) -> list[Route]:
    """(path pattern, methods) of every operation a browser key may call, from the spec."""
    base = base_path(spec)
    routes = []
    for template, item in spec.get("paths", {}).items():
        methods = frozenset(
            method.upper()
            for method in METHODS
            if method in item and _opens_to_browsers(item[method], spec)
        )
        if methods:
            routes.append((path_pattern(base + template), methods))
    return routes


def _opens_to_browsers(operation: dict[str, Any], spec: dict[str, Any]) -> bool:
    requirements = operation.get("security", spec.get("security", []))
    return any(BROWSER in scopes for item in requirements for scopes in item.values())


class Cors:
    """ASGI middleware, outermost, so error answers get the headers too."""

    def __init__(
        self,
        app: ASGIApp,
        origins: Callable[[], frozenset[str]],
        routes: list[Route],
        max_age_s: int,
    ) -> None:
        self.app = app
        self.origins = origins
        self.routes = routes
        self.max_age_s = max_age_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        wanted = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and origin and wanted:
            await self._preflight(scope, send, origin, wanted.upper())
            return
        scope[_SCOPE_KEY] = granted = _Grant()
        await self.app(scope, receive, self._with_headers(send, granted) if origin else send)

    async def _preflight(self, scope: Scope, send: Send, origin: str, wanted: str) -> None:
        methods = next((m for pattern, m in self.routes if pattern.match(scope["path"])), None)
        try:
            known = await anyio.to_thread.run_sync(self.origins)
        except Unavailable as error:
            await send_problem(send, error.status, error.title, error.detail, error.headers)
            return
        if methods is None or wanted not in methods or origin not in known:
            detail = f"no browser key allows {wanted} {scope['path']} from {origin}"
            await send_problem(send, 403, "Forbidden", detail, {"Vary": "Origin"})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", origin.encode()),
                    (b"access-control-allow-methods", ", ".join(sorted(methods)).encode()),
                    (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                    (b"access-control-max-age", str(self.max_age_s).encode()),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _with_headers(send: Send, granted: _Grant) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"vary", b"Origin")]
                if granted.origin:
                    headers += [
                        (b"access-control-allow-origin", granted.origin.encode()),
                        (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                    ]
                message = {**message, "headers": headers}
            await send(message)

        return wrapped
