"""What the flusher stores of a user agent and its client hints, end to end: POST, flush, read."""

from __future__ import annotations

REDUCED_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
HINTS = {
    "sec-ch-ua": '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    "sec-ch-ua-mobile": "?1",
    "sec-ch-ua-platform": '"Android"',
    "sec-ch-ua-platform-version": '"14.0.0"',
    "sec-ch-ua-model": '"Pixel 8"',
}


def test_a_stored_view_carries_fine_and_coarse_types_brand_model_and_client_type(client, db, flush):
    response = client.post(
        "/api/v1/pageviews",
        json={
            "path": "/",
            "user_agent": "Micromax X312/Q03C MAUI-Browser Profile/MIDP-2.0 Configuration/CLDC-1.1",
        },
    )
    flush()
    doc = db.pageviews.find_one({"log_id": response.json()["log_id"]})
    assert doc["device"] == {
        "type": "mobile",
        "fine_type": "feature phone",
        "brand": "MicroMax",
        "model": "X312",
    }
    assert doc["client_type"] == "browser"
    assert doc["is_bot"] is False and "bot" not in doc


def test_a_stored_bot_carries_its_name_and_category(client, db, flush):
    response = client.post(
        "/api/v1/pageviews",
        json={"path": "/", "user_agent": "Mozilla/5.0 (compatible; Detectify)"},
    )
    flush()
    doc = db.pageviews.find_one({"log_id": response.json()["log_id"]})
    assert doc["is_bot"] is True
    assert doc["device"] == {"type": "bot"}
    assert doc["bot"] == {"name": "Detectify", "category": "Security Checker"}


def test_client_hints_from_the_request_headers_are_stored_and_used(client, db, flush):
    headers = {"User-Agent": REDUCED_CHROME, **HINTS}
    response = client.post("/api/v1/pageviews", json={"path": "/"}, headers=headers)
    flush()
    doc = db.pageviews.find_one({"log_id": response.json()["log_id"]})
    assert doc["client_hints"] == HINTS
    assert doc["os"] == {"family": "Android", "version": "14.0.0"}
    assert doc["device"]["brand"] == "Google"
    assert doc["device"]["model"] == "Pixel 8"


def test_client_hints_in_the_body_go_with_the_bodys_user_agent(client, db, flush):
    """A server's middleware forwards its visitor's hints; its own request has none."""
    body = {"path": "/", "user_agent": REDUCED_CHROME, "client_hints": HINTS}
    response = client.post(
        "/api/v1/pageviews", json=body, headers={"Sec-CH-UA-Model": '"SM-A546B"'}
    )
    flush()
    doc = db.pageviews.find_one({"log_id": response.json()["log_id"]})
    assert doc["client_hints"] == HINTS
    assert doc["device"]["model"] == "Pixel 8"


def test_request_hints_are_not_mixed_with_a_user_agent_from_the_body(client, db, flush):
    body = {"path": "/", "user_agent": REDUCED_CHROME}
    response = client.post("/api/v1/pageviews", json=body, headers=HINTS)
    flush()
    doc = db.pageviews.find_one({"log_id": response.json()["log_id"]})
    assert "client_hints" not in doc


def test_an_unknown_client_hint_is_refused_with_its_pointer(client):
    body = {"path": "/", "client_hints": {"sec-ch-ua-model": '"X"', "model": "X"}}
    response = client.post("/api/v1/pageviews", json=body)
    assert response.status_code == 422
    pointers = [error["pointer"] for error in response.json()["errors"]]
    assert "/client_hints/model" in pointers
