"""CORS: preflights pass only for browser keys' origins; answers carry the headers only
for the origin the key used allows. Never `*`, never credentials."""

from __future__ import annotations

import pytest

from footfall.app import create_app
from footfall.security import keys

SITE = "https://site.example"
OTHER_SITE = "https://other-site.example"
PAGEVIEW = "/api/v1/pageviews"


def preflight(client, path: str, origin: str, method: str = "POST"):  # type: ignore[no-untyped-def]
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, x-api-key, x-learner-token",
        },
    )


@pytest.fixture
def browser(db) -> keys.Created:  # type: ignore[no-untyped-def]
    return keys.create(db, "site", ["browser"], [SITE])


def test_a_preflight_from_a_browser_keys_origin_is_allowed(anonymous, browser):
    response = preflight(anonymous, PAGEVIEW, SITE)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-methods"] == "POST"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "x-api-key" in allowed and "x-learner-token" in allowed
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["vary"] == "Origin"


@pytest.mark.parametrize(
    ("path", "origin", "method"),
    [
        (PAGEVIEW, "https://elsewhere.example", "POST"),  # no browser key lists it
        ("/api/v1/usage-logs", SITE, "GET"),  # not an operation open to browser keys
        (PAGEVIEW, SITE, "DELETE"),  # not a method browsers may use there
    ],
    ids=["unknown origin", "server-only operation", "other method"],
)
def test_a_preflight_that_no_browser_key_allows_is_refused(
    anonymous, browser, path, origin, method
):
    response = preflight(anonymous, path, origin, method)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in response.headers


def test_a_revoked_browser_keys_origin_no_longer_passes_preflight(settings, db, redis, browser):
    client = create_app(settings.replace({"key_cache_ttl_s": 0})).test_client()
    assert preflight(client, PAGEVIEW, SITE).status_code == 204
    keys.revoke(db, browser.key.key_id)
    assert preflight(client, PAGEVIEW, SITE).status_code == 403


def test_an_answer_to_an_allowed_origin_carries_its_origin_and_exposes_retry_after(
    anonymous, browser
):
    response = anonymous.post(
        PAGEVIEW, json={"path": "/"}, headers={"X-API-Key": browser.secret, "Origin": SITE}
    )
    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-expose-headers"] == "Retry-After"
    assert "access-control-allow-credentials" not in response.headers


def test_an_error_answer_to_an_allowed_origin_is_readable_by_the_page(anonymous, browser):
    response = anonymous.post(
        PAGEVIEW, json={"path": "no-slash"}, headers={"X-API-Key": browser.secret, "Origin": SITE}
    )
    assert response.status_code == 422
    assert response.headers["access-control-allow-origin"] == SITE


def test_an_origin_allowed_by_another_browser_key_gets_no_cors_headers(anonymous, db, browser):
    keys.create(db, "other site", ["browser"], [OTHER_SITE])
    assert preflight(anonymous, PAGEVIEW, OTHER_SITE).status_code == 204  # grants nothing
    response = anonymous.post(
        PAGEVIEW, json={"path": "/"}, headers={"X-API-Key": browser.secret, "Origin": OTHER_SITE}
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_a_server_key_gets_no_cors_headers_even_with_an_origin(anonymous, db, browser):
    server = keys.create(db, "site server", ["ingest"]).secret
    response = anonymous.post(
        PAGEVIEW, json={"path": "/"}, headers={"X-API-Key": server, "Origin": SITE}
    )
    assert response.status_code == 202
    assert "access-control-allow-origin" not in response.headers
