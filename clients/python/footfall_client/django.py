"""Django: a page view per request the site chooses to log, with the user, the view and
its args/kwargs. In settings:

    MIDDLEWARE = [..., "django.contrib.auth.middleware.AuthenticationMiddleware",
                  "footfall_client.django.FootfallMiddleware", ...]
    FOOTFALL = {"URL": "https://footfall.example.org/api/v1", "KEY": "ff_...",
                "EXCLUDE": [r"^/static/", r"^/admin/jsi18n/"], "TRUSTED_PROXIES": ["10.0.0.0/8"]}

The page view is queued after the response is made (an append in memory: the response
never waits for Footfall). One tracker per URL and key serves the whole process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from footfall_client.site import SiteOptions
from footfall_client.tracker import Tracker

log = logging.getLogger("footfall_client")
_trackers: dict[tuple[str, str], Tracker] = {}
_trackers_lock = threading.Lock()


def tracker_for(conf: dict[str, Any]) -> Tracker:
    """The process's tracker for this URL and key (`TRACKER`: Tracker options)."""
    with _trackers_lock:
        key = (conf["URL"], conf["KEY"])
        if key not in _trackers:
            _trackers[key] = Tracker(conf["URL"], conf["KEY"], **conf.get("TRACKER", {}))
        return _trackers[key]


class FootfallMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        conf: dict[str, Any] = settings.FOOTFALL
        self.tracker = tracker_for(conf)
        self.options = SiteOptions.of({k.lower(): v for k, v in conf.items()})

    def __call__(self, request: HttpRequest) -> HttpResponse:
        data = None
        try:
            if request.method == "POST":
                data = self.options.clean(_form(request, self.options.max_body_bytes))
        except Exception:
            log.exception("footfall: could not read the POST data")
        response = self.get_response(request)
        try:
            event = self.event(request, data)
            if event is not None:
                self.tracker.emit("pageview", event)
        except Exception:
            log.exception("footfall: could not describe the request")
        return response

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        request._footfall_view = (list(args), dict(kwargs))  # type: ignore[attr-defined]

    def event(self, request: HttpRequest, data: dict[str, Any] | None) -> dict[str, Any] | None:
        path = request.path
        if not self.options.wanted(path):
            return None
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else None
        args, kwargs = getattr(request, "_footfall_view", (None, None))
        meta = request.META
        return self.options.pageview(
            path=path,
            query=meta.get("QUERY_STRING", ""),
            method=request.method or "GET",
            username=username,
            referrer=meta.get("HTTP_REFERER"),
            ip=self.options.client_ip(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR")),
            user_agent=meta.get("HTTP_USER_AGENT"),
            view_args=args,
            view_kwargs=kwargs,
            request_data=data,
        )


def _form(request: HttpRequest, limit: int) -> dict[str, Any] | None:
    """POST data read before the view (which may consume the stream): the form, or JSON."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if not 0 < length <= limit:
        return None
    if (
        request.content_type == "application/x-www-form-urlencoded"
        or request.content_type == "multipart/form-data"
    ):
        return {k: v[0] if len(v) == 1 else v for k, v in request.POST.lists()}
    return SiteOptions().body_data(request.content_type or "", request.body)
