"""A browser names its learner only through a token the site's server signed."""

from __future__ import annotations

import time

import jwt
import pytest

from footfall.security import keys, tokens

SITE = "https://site.example"
PAGEVIEW = "/api/v1/pageviews"


@pytest.fixture
def browser(db) -> keys.Created:  # type: ignore[no-untyped-def]
    return keys.create(db, "site", ["browser"], [SITE])


def post_as_browser(app, browser, body, token=None, path=PAGEVIEW):  # type: ignore[no-untyped-def]
    headers = {"X-API-Key": browser.secret, "Origin": SITE}
    if token is not None:
        headers[tokens.HEADER] = token
    return app.test_client().post(path, json=body, headers=headers)


def signed(secret: str, **claims: object) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "asha", "aud": "footfall", "exp": now + 300, **claims}, secret)


def test_a_valid_token_names_the_learner_of_the_stored_event(app, db, flush, browser):
    token = tokens.issue(browser.token_secret, "asha")
    response = post_as_browser(app, browser, {"path": "/", "log_id": "v1"}, token)
    assert response.status_code == 202
    flush()
    assert db.pageviews.find_one({"log_id": "v1"})["username"] == "asha"


def test_an_exit_link_takes_its_username_from_the_token_too(app, db, flush, browser):
    token = tokens.issue(browser.token_secret, "asha")
    body = {"url": "https://example.org/", "page": "/", "log_id": "x1", "username": "asha"}
    assert post_as_browser(app, browser, body, token, "/api/v1/exit-links").status_code == 202
    flush()
    assert db.exit_links.find_one({"log_id": "x1"})["username"] == "asha"


def test_without_a_token_a_browser_event_is_anonymous(app, db, flush, browser):
    assert post_as_browser(app, browser, {"path": "/", "log_id": "anon"}).status_code == 202
    flush()
    assert "username" not in db.pageviews.find_one({"log_id": "anon"})


def test_a_browser_cannot_name_a_learner_without_a_token(app, browser):
    response = post_as_browser(app, browser, {"path": "/", "username": "someone-else"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["pointer"] == "/username"


def test_a_browser_cannot_post_for_another_learner_than_its_token(app, browser):
    token = tokens.issue(browser.token_secret, "asha")
    response = post_as_browser(app, browser, {"path": "/", "username": "ravi"}, token)
    assert response.status_code == 403
    assert response.json()["errors"] == [
        {"pointer": "/username", "detail": "username is not the learner token's"}
    ]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"aud": "another-service"}, "another audience"),
        ({"exp": int(time.time()) + 86_400}, "lives longer"),
        ({"sub": ""}, "not a username"),
    ],
    ids=["expired", "wrong audience", "too long-lived", "empty subject"],
)
def test_a_token_that_cannot_be_believed_is_a_401(app, db, flush, browser, claims, reason):
    response = post_as_browser(app, browser, {"path": "/"}, signed(browser.token_secret, **claims))
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    flush()
    assert db.pageviews.count_documents({}) == 0


def test_a_token_signed_with_another_secret_is_a_401(app, db, browser):
    other = keys.create(db, "other site", ["browser"], [SITE])
    response = post_as_browser(app, browser, {"path": "/"}, signed(other.token_secret))
    assert response.status_code == 401
    assert "signature" in response.json()["detail"]


@pytest.mark.parametrize("token", ["not-a-jwt", signed("x" * 32, alg="none")])
def test_a_malformed_or_unsigned_token_is_a_401(app, browser, token):
    unsigned = jwt.encode({"sub": "asha", "aud": "footfall", "exp": 2**31}, None, "none")
    for sent in (token, unsigned):
        assert post_as_browser(app, browser, {"path": "/"}, sent).status_code == 401


def test_a_server_key_posts_for_any_user_and_ignores_learner_tokens(app, db, flush, browser):
    server = keys.create(db, "site server", ["ingest"]).secret
    response = app.test_client().post(
        PAGEVIEW,
        json={"path": "/", "log_id": "s1", "username": "ravi"},
        headers={"X-API-Key": server, tokens.HEADER: "garbage"},
    )
    assert response.status_code == 202
    flush()
    assert db.pageviews.find_one({"log_id": "s1"})["username"] == "ravi"


def test_a_browser_batch_keeps_page_kinds_for_its_learner_and_rejects_the_rest(
    app, db, flush, browser
):
    token = tokens.issue(browser.token_secret, "asha")
    items = [
        {"kind": "pageview", "path": "/", "log_id": "b1"},
        {
            "kind": "usage_log",
            "log_id": "u1",
            "tool_id": "t",
            "user_id": "u",
            "start_dt": "2026-11-20T09:00:00Z",
        },
        {"kind": "exit_link", "url": "https://example.org/", "page": "/", "username": "ravi"},
        {"kind": "exit_link", "url": "https://example.org/", "page": "/", "log_id": "b4"},
    ]
    response = post_as_browser(app, browser, {"items": items}, token, "/api/v1/batch")
    assert response.status_code == 200
    receipts = response.json()["receipts"]
    assert [r["status"] for r in receipts] == ["accepted", "rejected", "rejected", "accepted"]
    assert receipts[1]["errors"][0]["pointer"] == "/items/1/kind"
    assert receipts[2]["errors"][0]["pointer"] == "/items/2/username"
    flush()
    assert db.usage_logs.count_documents({}) == 0
    assert db.pageviews.find_one({"log_id": "b1"})["username"] == "asha"
    assert db.exit_links.find_one({"log_id": "b4"})["username"] == "asha"


def test_a_browser_batch_with_only_refused_items_is_a_422_with_receipts(app, browser):
    items = [
        {
            "kind": "usage_log",
            "log_id": "u1",
            "tool_id": "t",
            "user_id": "u",
            "start_dt": "2026-11-20T09:00:00Z",
        }
    ]
    response = post_as_browser(app, browser, {"items": items}, path="/api/v1/batch")
    assert response.status_code == 422
    assert response.json()["receipts"][0]["status"] == "rejected"


def test_the_issue_helper_makes_what_the_readme_recipe_makes(browser):
    # The README's Django/Flask recipe, verbatim in substance: PyJWT, HS256, sub/aud/exp.
    now = int(time.time())
    recipe = jwt.encode(
        {"sub": "asha", "aud": "footfall", "exp": now + 600},
        browser.token_secret,
        algorithm="HS256",
    )
    assert tokens.verify(recipe, browser.token_secret, "footfall", 3600) == "asha"
