"""Page views and exit links: what is posted is what is stored, times as UTC dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ipaddress import ip_network

import pytest

from footfall.app import create_app

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
    expected = {**FULL, "visited_at": datetime(2026, 11, 20, 9, 15, tzinfo=UTC)}
    assert doc == expected


def test_times_are_stored_as_utc_bson_dates(client, db, flush):
    client.post("/api/v1/pageviews", json=FULL)
    flush()
    raw = db.pageviews.with_options(codec_options=db.codec_options.with_options(
        tz_aware=False)).find_one({"log_id": "pv-full"})
    assert raw["visited_at"] == datetime(2026, 11, 20, 9, 15)  # a BSON date, in UTC


def test_a_minimal_page_view_takes_its_defaults_from_the_request(client, db, flush):
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = client.post(
        "/api/v1/pageviews", json={"path": "/"},
        headers={"User-Agent": "TestAgent/1.0", "DNT": "1"},
    )
    log_id = response.json()["log_id"]
    assert len(log_id) == 36  # a UUID made by the server
    flush()
    doc = db.pageviews.find_one({"log_id": log_id})
    assert doc["source"] == "server"
    assert doc["method"] == "GET"
    assert doc["user_agent"] == "TestAgent/1.0"
    assert doc["do_not_track"] is True
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
    app = create_app(settings.model_copy(update={"trusted_proxies": networks}))
    client = app.test_client(client=("127.0.0.1", 50000))
    response = client.post("/api/v1/pageviews", json={"path": "/"},
                           headers={"X-Forwarded-For": forwarded})
    flush()
    assert db.pageviews.find_one({"log_id": response.json()["log_id"]})["ip"] == expected


def test_an_exit_link_is_stored(client, db, flush):
    body = {"url": "https://docs.python.org/3/", "page": "/watch/x/", "page_title": "X",
            "clicked_at": "2026-11-20T09:17:42Z", "username": "asha", "log_id": "ex-1"}
    assert client.post("/api/v1/exit-links", json=body).status_code == 202
    flush()
    doc = db.exit_links.find_one({"log_id": "ex-1"}, {"_id": 0, "received_at": 0, "user_agent": 0})
    assert doc == {**body, "clicked_at": datetime(2026, 11, 20, 9, 17, 42, tzinfo=UTC)}
