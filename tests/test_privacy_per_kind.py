"""IP_STORAGE, REDACT_KEYS and DNT_POLICY hold for every stored kind, not page views only.

Through the real interface: posted over HTTP, stored by a real flusher, read from MongoDB.
"""

from __future__ import annotations

from typing import Any

import pytest

from footfall.app import create_app
from footfall.sinks import SINKS
from footfall.spec import load
from tests.conftest import keyed_client

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
EXIT = {
    "url": "https://docs.python.org/3/?token=abc&lang=en",
    "page": "/watch/Python/?password=hunter2&t=1",
    "ip": "8.8.8.8",
    "user_agent": UA,
}


def _stored(db: Any, collection: str) -> dict[str, Any]:
    return db[collection].find_one({}, {"_id": 0})


@pytest.mark.parametrize(
    ("kind", "path", "body", "collection"),
    [
        ("exit_link", "/api/v1/exit-links", EXIT, "exit_links"),
        (
            "pageview",
            "/api/v1/pageviews",
            {
                "path": "/watch/?token=abc",
                "referrer": "https://x.org/?password=p",
                "ip": "8.8.8.8",
                "user_agent": UA,
            },
            "pageviews",
        ),
    ],
)
def test_every_kind_with_an_address_or_urls_is_stored_reduced_and_redacted(
    client, db, flush, kind, path, body, collection
):
    assert client.post(path, json=body).status_code == 202
    flush()
    doc = _stored(db, collection)
    assert doc["ip"] == "8.8.8.0"
    text = str(doc)
    assert "abc" not in text and "hunter2" not in text and "password=p" not in text
    assert "[redacted]" in text


def test_an_exit_link_keeps_the_rest_of_its_urls_verbatim(client, db, flush):
    client.post("/api/v1/exit-links", json=EXIT)
    flush()
    doc = _stored(db, "exit_links")
    assert doc["url"] == "https://docs.python.org/3/?token=[redacted]&lang=en"
    assert doc["page"] == "/watch/Python/?password=[redacted]&t=1"


def test_an_exit_link_under_dnt_is_kept_without_address_or_user_agent(client, db, flush):
    client.post("/api/v1/exit-links", json=EXIT, headers={"DNT": "1"})
    flush()
    doc = _stored(db, "exit_links")
    assert "ip" not in doc and "user_agent" not in doc
    assert doc["do_not_track"] is True


def test_an_exit_link_under_dnt_drop_is_not_stored(settings, db, redis, flush):
    app = create_app(settings.replace({"dnt_policy": "drop"}))
    client = keyed_client(app, db)
    client.post("/api/v1/exit-links", json=EXIT, headers={"Sec-GPC": "1"})
    client.post("/api/v1/exit-links", json={**EXIT, "log_id": "tracked"})
    flush(dnt_policy="drop")
    assert [d["log_id"] for d in db.exit_links.find()] == ["tracked"]


def test_an_exit_link_ip_follows_ip_storage(settings, db, redis, flush):
    client = keyed_client(create_app(settings), db)
    client.post("/api/v1/exit-links", json=EXIT)
    flush(ip_storage="hash")
    stored = _stored(db, "exit_links")["ip"]
    assert stored != "8.8.8.8" and len(stored) == 32


def _private_fields(schema: dict[str, Any]) -> list[str]:
    """A stored schema's fields that carry an address, a user agent, a URL or free-form data."""
    found = []
    for name, field in schema.get("properties", {}).items():
        if name.startswith("_"):
            continue  # bookkeeping the flusher writes (`_v`), never sent
        free_form = (
            field.get("type") == "object" and field.get("additionalProperties") is True
        ) or (field.get("type") == "array" and not field.get("items"))
        if name in ("ip", "user_agent", "url", "page", "path", "referrer") or free_form:
            found.append(name)
    return found


@pytest.mark.parametrize("sink", SINKS, ids=lambda sink: sink.stream)
def test_every_sink_whose_documents_carry_private_fields_applies_the_privacy_rules(sink):
    """Usage logs and tutorial progress carry none of these fields; page views and exit
    links do, and their sinks have a prepare step that applies the rules."""
    fields = _private_fields(load().schema(sink.collection.schema))
    assert bool(fields) == (sink.prepare is not None), fields
