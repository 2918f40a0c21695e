"""The Django and Flask middleware against the real service: the fields of a logged request,
redaction at the site, and an outage of Footfall that the site never notices."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import flask
import pytest
from django.test import Client, override_settings
from footfall_client import Tracker
from footfall_client.flask import Footfall
from pymongo.database import Database

from footfall.settings import Settings
from tests import django_site
from tests.conftest import make_key
from tests.live import Gate, Live, gated_service, wait_for

django_site.configure()

PROXY = "10.0.0.0/8"


@pytest.fixture
def service(settings: Settings, db: Database, tmp_path: Path) -> Iterator[tuple[Live, Gate, str]]:
    with gated_service(settings, tmp_path / "service") as running:
        yield running


@pytest.fixture
def django_client(service: tuple[Live, Gate, str], db: Database) -> Iterator[Client]:
    _, _, url = service
    conf = {
        "URL": url,
        "KEY": make_key(db, "ingest"),
        "EXCLUDE": [r"^/static/"],
        "TRUSTED_PROXIES": [PROXY],
        "TRACKER": {"flush_interval_s": 0.05, "max_backoff_s": 0.5, "max_queue": 50},
    }
    with override_settings(FOOTFALL=conf):
        yield Client(REMOTE_ADDR="10.1.2.3")


def flask_site(tracker: Tracker) -> flask.Flask:
    app = flask.Flask("site")

    @app.route("/watch/<foss>/<tutorial>/")
    def watch(foss: str, tutorial: str) -> str:
        return f"{foss} {tutorial}"

    @app.route("/login/", methods=["POST"])
    def login() -> str:
        return "welcome " + flask.request.form["username"]

    Footfall(
        app,
        tracker,
        user=lambda: flask.request.headers.get("X-Test-User"),
        exclude=[r"^/health"],
        trusted_proxies=[PROXY],
    )
    return app


def tracker_of(django_client: Client) -> Tracker:
    from django.conf import settings
    from footfall_client.django import tracker_for

    return tracker_for(settings.FOOTFALL)


def test_django_requests_are_logged_with_user_view_kwargs_referrer_ip_and_agent(
    django_client: Client, db: Database
):
    answer = django_client.get(
        "/watch/Python/Getting-started/English/?token=s3cret&page=2",
        HTTP_X_TEST_USER="asha",
        HTTP_REFERER="https://www.google.com/",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert answer.status_code == 200
    django_client.get("/static/app.css")  # excluded
    view = wait_for(lambda: db.pageviews.find_one({"path": {"$regex": "^/watch/"}}))
    assert view["path"] == "/watch/Python/Getting-started/English/?page=2"  # token never left
    assert view["username"] == "asha" and view["method"] == "GET" and view["source"] == "server"
    assert view["view_kwargs"] == {
        "foss": "Python",
        "tutorial": "Getting-started",
        "language": "English",
    }
    assert view["referrer"] == "https://www.google.com/"
    assert view["user_agent"].startswith("Mozilla/5.0")
    assert view["ip"] == "203.0.113.0"  # the client behind the trusted proxy (stored /24)
    assert view["event_name"] == "event.video.watch"
    time.sleep(0.3)
    assert db.pageviews.count_documents({"path": "/static/app.css"}) == 0


def test_django_post_data_leaves_the_site_without_redacted_keys(
    django_client: Client, db: Database
):
    form = {"username": "asha", "password": "hunter2", "csrfmiddlewaretoken": "abc", "city": "Pune"}
    assert django_client.post("/register/", form).json()["fields"] == sorted(form)
    view = wait_for(lambda: db.pageviews.find_one({"path": "/register/"}))
    assert view["method"] == "POST"
    assert view["request_data"] == {"username": "asha", "city": "Pune"}


def test_django_site_answers_while_footfall_is_down_and_the_events_arrive_after(
    django_client: Client, service: tuple[Live, Gate, str], db: Database
):
    _, gate, _ = service
    gate.close()
    for n in range(10):
        assert django_client.get(f"/watch/Python/t{n}/English/").status_code == 200
    tracker = tracker_of(django_client)
    assert wait_for(lambda: tracker.stats.failures >= 1)
    assert db.pageviews.count_documents({}) == 0
    gate.open()
    assert wait_for(lambda: db.pageviews.count_documents({"path": {"$regex": "^/watch/"}}) == 10)


def test_a_full_queue_drops_the_oldest_and_counts_them(
    django_client: Client, service: tuple[Live, Gate, str], db: Database
):
    _, gate, _ = service
    gate.close()
    for n in range(60):  # the queue holds 50
        django_client.get(f"/watch/Python/t{n}/English/")
    tracker = tracker_of(django_client)
    assert tracker.stats.dropped == 10
    gate.open()
    assert tracker.flush(15)
    assert wait_for(lambda: db.pageviews.count_documents({}) == 50)
    assert db.pageviews.count_documents({"path": "/watch/Python/t0/English/"}) == 0
    assert db.pageviews.count_documents({"path": "/watch/Python/t59/English/"}) == 1


def test_flask_requests_are_logged_with_view_args_and_redacted_post_data(
    service: tuple[Live, Gate, str], db: Database
):
    _, _, url = service
    tracker = Tracker(url, make_key(db, "ingest"), flush_interval_s=0.05)
    site = flask_site(tracker).test_client()
    site.get(
        "/watch/Python/intro/",
        headers={
            "X-Test-User": "ravi",
            "Referer": "https://example.org/",
            "X-Forwarded-For": "198.51.100.9",
        },
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    login = site.post("/login/", data={"username": "ravi", "password": "hunter2"})
    assert login.text == "welcome ravi"  # the app still reads the body the middleware read
    site.get("/health")
    assert tracker.flush(10)
    tracker.close()
    view = wait_for(lambda: db.pageviews.find_one({"path": "/watch/Python/intro/"}))
    assert view["username"] == "ravi" and view["view_kwargs"] == {
        "foss": "Python",
        "tutorial": "intro",
    }
    assert view["referrer"] == "https://example.org/" and view["ip"] == "198.51.100.0"
    posted = wait_for(lambda: db.pageviews.find_one({"path": "/login/"}))
    assert posted["request_data"] == {"username": "ravi"}
    assert db.pageviews.count_documents({"path": "/health"}) == 0


def test_flask_site_answers_while_footfall_is_down_and_the_events_arrive_after(
    service: tuple[Live, Gate, str], db: Database
):
    _, gate, url = service
    gate.close()
    tracker = Tracker(url, make_key(db, "ingest"), flush_interval_s=0.05, max_backoff_s=0.5)
    site = flask_site(tracker).test_client()
    for n in range(5):
        assert site.get(f"/watch/Python/t{n}/").status_code == 200
    assert wait_for(lambda: tracker.stats.failures >= 1) and tracker.pending() == 5
    gate.open()
    assert tracker.flush(15)
    tracker.close()
    assert wait_for(lambda: db.pageviews.count_documents({}) == 5)
