"""Flask: a page view per request the site chooses to log, with the view's arguments.

    footfall = Footfall(app, Tracker(URL, KEY), exclude=[r"^/static/"])

The page view is queued in `teardown_request` (also after an error), so it knows the
user the request ended with and the matched view; queuing never waits for Footfall.
`user()` names the user; by default Flask-Login's `current_user` when installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import flask

from footfall_client.site import SiteOptions, form_data
from footfall_client.tracker import Tracker

log = logging.getLogger("footfall_client")


def _default_user() -> str | None:
    try:
        from flask_login import current_user  # optional
    except ImportError:
        return flask.request.remote_user
    if not getattr(current_user, "is_authenticated", False):
        return None
    return getattr(current_user, "username", None) or str(current_user.get_id())


class Footfall:
    def __init__(
        self,
        app: flask.Flask | None = None,
        tracker: Tracker | None = None,
        user: Callable[[], str | None] | None = None,
        **options: Any,
    ) -> None:
        self.tracker = tracker
        self.user = user or _default_user
        self.options = SiteOptions(**options)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask, tracker: Tracker | None = None) -> None:
        self.tracker = tracker or self.tracker
        if self.tracker is None:
            config = app.config
            self.tracker = Tracker(config["FOOTFALL_URL"], config["FOOTFALL_KEY"])
        app.teardown_request(self._log)

    def _log(self, _error: BaseException | None) -> None:
        try:
            event = self.event(flask.request)
        except Exception:
            log.exception("footfall: could not describe the request")
            return
        if event is not None and self.tracker is not None:
            self.tracker.emit("pageview", event)

    def event(self, request: flask.Request) -> dict[str, Any] | None:
        path = request.script_root + request.path
        if not self.options.wanted(path):
            return None
        data = None
        if (
            request.method == "POST"
            and 0 < (request.content_length or 0) <= self.options.max_body_bytes
        ):
            data = _posted(request)
        return self.options.pageview(
            path=path,
            query=request.query_string.decode(errors="replace"),
            method=request.method,
            username=self.user(),
            referrer=request.referrer,
            ip=self.options.client_ip(request.remote_addr, request.headers.get("X-Forwarded-For")),
            user_agent=request.user_agent.string or None,
            view_kwargs=request.view_args,
            request_data=data,
        )


def _posted(request: flask.Request) -> dict[str, Any] | None:
    """The form (as the view parsed it: the stream is read once) or a JSON object."""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return form_data(request.form.items(multi=True))
    if request.is_json:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else None
    return None
