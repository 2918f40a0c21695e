"""405 answers that list every method the spec supports on the path (RFC 9110, 15.5.6).

Connexion registers each operation as a route of its own, so the router's 405 names
only the methods of the first route whose path matched (`Allow: POST` on /usage-logs,
which also has GET). This middleware answers the 405 itself, before routing, with the
`Allow` of the spec's whole path item.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from footfall.web.problems import send_problem

#: The spec's operation keys of a path item, in the order `Allow` lists them.
METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")

Route = tuple[re.Pattern[str], tuple[str, ...]]


def path_pattern(template: str) -> re.Pattern[str]:
    """The regex of a spec path template: a `{parameter}` is one path segment."""
    parts = re.split(r"\{[^/}]+\}", template)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


def base_path(spec: dict[str, Any]) -> str:
    return spec.get("servers", [{}])[0].get("url", "").rstrip("/")


def allowed(path_item: dict[str, Any]) -> tuple[str, ...]:
    """The methods a path item supports: its operations, and HEAD wherever GET is
    (the router answers HEAD with the GET operation)."""
    methods = {m for m in METHODS if m in path_item} | ({"head"} if "get" in path_item else set())
    return tuple(m.upper() for m in METHODS if m in methods)


def spec_routes(spec: dict[str, Any]) -> list[Route]:
    """Every path of the spec, a concrete one before a templated one it also matches
    (`/dead-letters/replay` before `/dead-letters/{letter_id}`), as routing picks them."""
    base = base_path(spec)
    templates = sorted(spec.get("paths", {}), key=lambda template: template.count("{"))
    return [(path_pattern(base + t), allowed(spec["paths"][t])) for t in templates]


class AllowedMethods:
    """ASGI middleware: a method the spec does not define on a known path is a 405
    problem whose `Allow` lists every method it does define."""

    def __init__(self, app: ASGIApp, spec: dict[str, Any]) -> None:
        self.app = app
        self.routes = spec_routes(spec)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope.get("path", ""), scope["method"]
            methods = next((m for pattern, m in self.routes if pattern.match(path)), None)
            if methods is not None and method not in methods:
                allow = ", ".join(methods)
                detail = f"{method} is not supported on {path}; supported: {allow}"
                await send_problem(send, 405, "Method Not Allowed", detail, {"Allow": allow})
                return
        await self.app(scope, receive, send)
