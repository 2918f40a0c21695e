"""The whole enrichment of a page view, as the flusher will store it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.database import Database
from pymongo.errors import WriteError
from redis import Redis

from footfall.enrich import Enricher
from footfall.events import PageView, Received
from footfall.settings import Settings
from footfall.sinks import BY_STREAM
from footfall.store.streams import Entry

UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.113 Mobile Safari/537.36"
)


def decoded(body: dict[str, Any], **received: Any) -> dict[str, Any]:
    """The document the flusher decodes from the stream for a body the API accepted."""
    accepted = PageView.accept(body, Received(at=datetime.now(UTC), **received))
    [(_, doc)], _ = BY_STREAM["pageviews"].decode([Entry("pageviews", "1-0", accepted.message())])
    return doc


def test_a_view_with_only_path_ip_and_user_agent_is_stored_fully_enriched(
    settings: Settings, redis: Redis, db: Database
) -> None:
    doc = decoded(
        {
            "path": "/watch/Python/Getting-Started/English/",
            "ip": "81.2.69.142",
            "user_agent": UA,
            "log_id": "done-1",
        }
    )
    (doc,) = Enricher(settings, redis).enrich([doc])
    db.pageviews.insert_one(doc)  # the validator accepts every enriched field
    stored = db.pageviews.find_one({"log_id": "done-1"}, {"_id": 0})

    assert stored["browser"] == {"family": "Chrome Mobile", "version": "124.0.6367.113"}
    assert stored["os"] == {"family": "Android", "version": "14"}
    assert stored["device"] == {
        "type": "mobile",
        "fine_type": "smartphone",
        "brand": "Google",
        "model": "Pixel 8",
    }
    assert stored["client_type"] == "browser"
    assert stored["is_bot"] is False and "bot" not in stored
    # from the GeoLite2 City database that maxminddb-geolite2 ships
    assert stored["country"] == {"iso_code": "GB", "name": "United Kingdom"}
    assert stored["region"] == {"iso_code": "ENG", "name": "England"}
    assert stored["city"] == "Willesden"
    assert stored["location"] == {"type": "Point", "coordinates": [-0.2333, 51.5333]}
    assert stored["location_accuracy_km"] == 200
    assert stored["location_source"] == "ip"
    assert stored["event_name"] == "event.video.watch"
    assert stored["first_visit"] is True
    assert stored["ip"] == "81.2.69.0"
    assert "enrich_errors" not in stored


def test_no_secret_reaches_the_database(settings: Settings, redis: Redis, db: Database) -> None:
    doc = decoded(
        {
            "path": "/accounts/login/?next=/&token=abc",
            "method": "POST",
            "request_data": {"username": "asha", "password": "hunter2", "csrfmiddlewaretoken": "c"},
            "log_id": "secret-1",
        },
        ip="8.8.8.8",
        user_agent=UA,
    )
    (doc,) = Enricher(settings, redis).enrich([doc])
    db.pageviews.insert_one(doc)
    stored = db.pageviews.find_one({"log_id": "secret-1"}, {"_id": 0})
    text = repr(stored)
    assert "hunter2" not in text and "abc" not in text and "8.8.8.8" not in text
    assert stored["request_data"]["username"] == "asha"
    assert stored["event_name"] == "event.login"


def test_stored_locations_are_geojson_points_the_browsers_winning(
    settings: Settings, redis: Redis, db: Database
) -> None:
    """No read queries locations yet, so no index serves them (it cost 3x an insert);
    the stored shape is GeoJSON, ready for a `2dsphere` index the day a map needs one."""
    docs = [
        decoded({"path": "/", "log_id": "london"}, ip="81.2.69.142", user_agent=UA),
        decoded(
            {"path": "/", "log_id": "pune", "latitude": 18.5204, "longitude": 73.8567},
            ip="81.2.69.142",
            user_agent=UA,
        ),
        decoded({"path": "/", "log_id": "nowhere"}, ip="10.0.0.1", user_agent=UA),
    ]
    db.pageviews.insert_many(Enricher(settings, redis).enrich(docs))
    london = db.pageviews.find_one({"log_id": "london"})
    assert london["location"]["type"] == "Point" and len(london["location"]["coordinates"]) == 2
    pune = db.pageviews.find_one({"log_id": "pune"})
    assert pune["location"] == {"type": "Point", "coordinates": [73.8567, 18.5204]}
    assert pune["location_source"] == "browser" and "location_accuracy_km" not in pune
    assert pune["country"]["iso_code"] == "GB"  # what the IP says is still recorded
    assert "location" not in db.pageviews.find_one({"log_id": "nowhere"})


def test_a_failing_step_is_recorded_and_the_view_still_stored(
    settings: Settings, redis: Redis, db: Database
) -> None:
    docs = [
        {"log_id": "bad-ip", "path": "/", "ip": "not an address", "user_agent": UA},
        {"log_id": "fine", "path": "/", "ip": "81.2.69.142", "user_agent": UA},
    ]
    now = datetime.now(UTC)
    for doc in docs:
        doc.update(source="server", method="GET", visited_at=now, received_at=now)
    bad, fine = Enricher(settings, redis).enrich(docs)
    db.pageviews.insert_many([bad, fine])
    assert [error.split(":")[0] for error in bad["enrich_errors"]] == ["location", "ip"]
    assert "ip" not in bad  # an address that could not be reduced is not stored at all
    assert bad["browser"]["family"] == "Chrome Mobile" and bad["event_name"] == "event.home.view"
    assert "enrich_errors" not in fine


def test_the_validator_refuses_an_enriched_field_of_the_wrong_shape(db: Database) -> None:
    now = datetime.now(UTC)
    base = {
        "log_id": "x",
        "source": "server",
        "path": "/",
        "method": "GET",
        "visited_at": now,
        "received_at": now,
    }
    for wrong in [
        {"device": {"type": "phone"}},
        {"location": {"type": "Point", "coordinates": [1.0]}},
        {"browser": {"family": "Chrome", "engine": "Blink"}},
        {"enrich_errors": "oops"},
    ]:
        with pytest.raises(WriteError):
            db.pageviews.insert_one({**base, **wrong})


def test_an_empty_batch_is_fine(settings: Settings, redis: Redis) -> None:
    assert Enricher(settings, redis).enrich([]) == []
