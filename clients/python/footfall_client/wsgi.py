"""Plain WSGI middleware: a page view per request the site chooses to log.

The event is built before the app runs (the body is read once, up to `max_body_bytes`,
and handed on to the app unchanged) and queued when the app has answered; queuing is an
append in memory, so the site's response never waits for Footfall. `user(environ)`
names the user (default: `REMOTE_USER`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from footfall_client.site import SiteOptions
from footfall_client.tracker import Tracker

log = logging.getLogger("footfall_client")
Environ = dict[str, Any]


class FootfallMiddleware:
    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        tracker: Tracker,
        user: Callable[[Environ], str | None] | None = None,
        **options: Any,
    ) -> None:
        self.app = app
        self.tracker = tracker
        self.user = user or (lambda environ: environ.get("REMOTE_USER"))
        self.options = SiteOptions(**options)

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            event = self.event(environ)
        except Exception:
            log.exception("footfall: could not describe the request")
            event = None
        try:
            return self.app(environ, start_response)
        finally:
            if event is not None:
                self.tracker.emit("pageview", event)

    def event(self, environ: Environ) -> dict[str, Any] | None:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if not self.options.wanted(path or "/"):
            return None
        return self.options.pageview(
            path=path or "/",
            query=environ.get("QUERY_STRING", ""),
            method=environ.get("REQUEST_METHOD", "GET"),
            username=self.user(environ),
            referrer=environ.get("HTTP_REFERER"),
            ip=self.options.client_ip(
                environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR")
            ),
            user_agent=environ.get("HTTP_USER_AGENT"),
            request_data=self._body(environ),
        )

    def _body(self, environ: Environ) -> dict[str, Any] | None:
        if environ.get("REQUEST_METHOD") != "POST" or not self.options.max_body_bytes:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= self.options.max_body_bytes:
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # the app reads it as if untouched
        return self.options.body_data(environ.get("CONTENT_TYPE", ""), body)
