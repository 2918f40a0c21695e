"""A small Django project for the middleware's tests: settings, URLs and views in one module.

`configure(footfall)` sets it up once per process; the `FOOTFALL` setting changes per
test with `override_settings`. The signed-in user comes from an `X-Test-User` header
(a stand-in for a login, so the project needs no database).
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path


class _User:
    is_authenticated = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_username(self) -> str:
        return self.name


def test_login(get_response: Any) -> Any:
    from django.contrib.auth.models import AnonymousUser  # needs the apps set up

    def middleware(request: HttpRequest) -> HttpResponse:
        name = request.headers.get("X-Test-User")
        request.user = _User(name) if name else AnonymousUser()  # type: ignore[assignment]
        return get_response(request)

    return middleware


def watch(request: HttpRequest, foss: str, tutorial: str, language: str) -> HttpResponse:
    return HttpResponse(f"{foss} {tutorial} {language}")


def register(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True, "fields": sorted(request.POST)})


urlpatterns = [
    path("watch/<str:foss>/<str:tutorial>/<str:language>/", watch),
    path("register/", register),
    path("static/app.css", lambda request: HttpResponse("body{}")),
]


def configure() -> None:
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        MIDDLEWARE=[f"{__name__}.test_login", "footfall_client.django.FootfallMiddleware"],
        DATABASES={},
        USE_TZ=True,
        FOOTFALL={},
    )
    django.setup()
