"""Page views and exit links: what is posted is what is stored, times as UTC dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import pytest

from footfall.app import create_app
from tests.conftest import keyed_client

FULL = {
    "log_id": "pv-full",
    "source": "browser",
    "path": "/watch/Python/Getting-started/English/",
    "method": "POST",
    "username": "asha",
    "visited_at": "2026-11-20T14:45:00+05:30",
    "referrer": "https://www.google.com/",
    "page_title": "Getting started",
    "ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    "first_visit": True,
    "visitor_id": "v-123",
    "view_args": ["Python", 3],
    "view_kwargs": {"foss": "Python", "nested": {"level": [1, 2]}},
    "request_data": {"q": "loops"},
    "event_name": "event.video.watch",
    "latitude": 19.07,
    "longitude": 72.87,
}


def test_a_full_page_view_is_stored_with_every_field(client, db, flush):
    response = client.post("/api/v1/pageviews", json=FULL)
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "log_id": "pv-full"}
    flush()
    doc = db.pageviews.find_one({"log_id": "pv-full"}, {"_id": 0})
    assert doc.pop("received_at").tzinfo is not None
    expected = {
        **FULL,
        "visited_at": datetime(2026, 11, 20, 9, 15, tzinfo=UTC),
        "ip": "203.0.113.0",  # stored reduced (IP_STORAGE=truncate)
    }
    assert {name: doc[name] for name in expected} == expected
    assert doc["browser"]["family"] == "Firefox"  # and enriched (see below)


def test_times_are_stored_as_utc_bson_dates(client, db, flush):
    client.post("/api/v1/pageviews", json=FULL)
    flush()
    raw = db.pageviews.with_options(
        codec_options=db.codec_options.with_options(tz_aware=False)
    ).find_one({"log_id": "pv-full"})
    assert raw["visited_at"] == datetime(2026, 11, 20, 9, 15)  # a BSON date, in UTC


def test_a_minimal_page_view_takes_its_defaults_from_the_request(client, db, flush):
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = client.post(
        "/api/v1/pageviews",
        json={"path": "/"},
        headers={"User-Agent": "TestAgent/1.0"},
    )
    log_id = response.json()["log_id"]
    assert len(log_id) == 36  # a UUID made by the server
    flush()
    doc = db.pageviews.find_one({"log_id": log_id})
    assert doc["source"] == "server"
    assert doc["method"] == "GET"
    assert doc["user_agent"] == "TestAgent/1.0"
    assert doc["visited_at"] >= before
    assert "username" not in doc  # anonymous: absent, not "anonymous"


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        ("", "198.51.100.9", "127.0.0.1"),  # no trusted proxy: the header is ignored
        ("127.0.0.1/32", "198.51.100.9", "198.51.100.9"),
        ("127.0.0.1/32,10.0.0.0/8", "6.6.6.6, 198.51.100.9, 10.1.2.3", "198.51.100.9"),
        ("127.0.0.1/32", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_trusted_from_x_forwarded_for_only_via_proxies(
    settings, db, redis, flush, trusted, forwarded, expected
):
    networks = [ip_network(cidr) for cidr in trusted.split(",") if cidr]
    app = create_app(settings.replace({"trusted_proxies": networks}))
    client = keyed_client(app, db, "ingest", client=("127.0.0.1", 50000))
    response = client.post(
        "/api/v1/pageviews", json={"path": "/"}, headers={"X-Forwarded-For": forwarded}
    )
    flush(ip_storage="full")  # this test is about which address, not how it is stored
    assert db.pageviews.find_one({"log_id": response.json()["log_id"]})["ip"] == expected


def test_an_exit_link_is_stored(client, db, flush):
    body = {
        "url": "https://docs.python.org/3/",
        "page": "/watch/x/",
        "page_title": "X",
        "clicked_at": "2026-11-20T09:17:42Z",
        "username": "asha",
        "log_id": "ex-1",
    }
    assert client.post("/api/v1/exit-links", json=body).status_code == 202
    flush()
    doc = db.exit_links.find_one(
        {"log_id": "ex-1"}, {"_id": 0, "received_at": 0, "user_agent": 0, "rt": 0}
    )  # rt: the attempt that stored it (footfall.stats.rollup)
    assert doc == {**body, "clicked_at": datetime(2026, 11, 20, 9, 17, 42, tzinfo=UTC)}


def test_a_view_with_only_path_ip_and_user_agent_is_stored_enriched(client, db, flush):
    """Issue 3's "done when", end to end through the API and the flusher."""
    response = client.post(
        "/api/v1/pageviews",
        json={
            "path": "/watch/Python/Getting-started/English/",
            "ip": "81.2.69.142",
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "request_data": {
                "username": "asha",
                "password": "hunter2",
                "card": {"card_number": "4111111111111111"},
            },
        },
    )
    flush()
    doc = db.pageviews.find_one({"log_id": response.json()["log_id"]})
    assert doc["browser"] == {"family": "Chrome", "version": "131.0.0.0"}
    assert doc["os"]["family"] == "Windows"
    assert doc["device"]["type"] == "desktop"
    assert doc["is_bot"] is False
    assert doc["country"]["iso_code"] == "GB"
    assert doc["city"]
    assert doc["location"]["type"] == "Point"
    assert doc["location_source"] == "ip"
    assert doc["event_name"] == "event.video.watch"
    assert doc["first_visit"] is True
    assert doc["ip"] == "81.2.69.0"
    assert doc["request_data"] == {
        "username": "asha",
        "password": "[redacted]",
        "card": {"card_number": "[redacted]"},
    }
    assert "enrich_errors" not in doc


def test_a_do_not_track_view_is_stored_without_ip_and_user_agent(client, db, flush):
    response = client.post(
        "/api/v1/pageviews",
        json={"path": "/", "ip": "81.2.69.142"},
        headers={"User-Agent": "Mozilla/5.0 Firefox/133.0", "Sec-GPC": "1"},
    )
    flush()
    doc = db.pageviews.find_one({"log_id": response.json()["log_id"]})
    assert doc["do_not_track"] is True
    for field in ("ip", "user_agent", "browser", "country", "location"):
        assert field not in doc
