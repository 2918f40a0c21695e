"""Refuse request paths with control characters before anything routes them.

An encoded newline (`%0A`) in a path parameter makes connexion's router (whose mount
pattern does not match across lines) and Flask's disagree: the request would reach a
handler without its operation, a 500. No id Footfall stores contains a control
character, so such a path is a 400 problem.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from footfall.web.problems import send_problem

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ControlCharacters:
    """ASGI middleware: 400 problem+json for a path with a control character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _CONTROL.search(scope.get("path", "")):
            detail = "the path contains a control character"
            await send_problem(send, 400, "Bad Request", detail)
            return
        await self.app(scope, receive, send)
