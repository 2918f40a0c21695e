"""Every input limit: refused with a 4xx problem+json naming what is too big, and where."""

from __future__ import annotations

import pytest

from footfall.app import create_app
from tests.conftest import keyed_client


def nested(depth: int) -> dict:
    """An object `depth` levels deep: {"a": {"a": ... {}}}."""
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


CASES = [
    # (name, path, JSON body or raw bytes, status, pointer)
    (
        "body over MAX_REQUEST_BYTES",
        "/pageviews",
        {"path": "/", "request_data": {"x": "y" * 1100 * 1024}},
        413,
        None,
    ),
    (
        "event over MAX_EVENT_BYTES",
        "/pageviews",
        {"path": "/", "request_data": {"x": "y" * 70 * 1024}},
        413,
        "",
    ),
    (
        "batch over MAX_BATCH_ITEMS (spec: 500)",
        "/batch",
        {"items": [{"kind": "pageview", "path": "/"}] * 501},
        422,
        "/items",
    ),
    ("string over its maxLength", "/pageviews", {"path": "/" + "p" * 2048}, 422, "/path"),
    (
        "username over 150",
        "/exit-links",
        {"url": "https://example.org/", "page": "/", "username": "u" * 151},
        422,
        "/username",
    ),
    ("batch kind over 32", "/batch", {"items": [{"kind": "k" * 33}]}, 422, "/items/0/kind"),
    (
        "object deeper than MAX_OBJECT_DEPTH",
        "/pageviews",
        {"path": "/", "view_kwargs": nested(9)},
        422,
        "/view_kwargs" + "/a" * 8,
    ),
    (
        "object at MAX_OBJECT_DEPTH is fine",
        "/pageviews",
        {"path": "/", "view_kwargs": nested(8)},
        202,
        None,
    ),
    (
        "list deeper than MAX_OBJECT_DEPTH",
        "/pageviews",
        {"path": "/", "view_args": [[[[[[[[["deep"]]]]]]]]]},
        422,
        "/view_args/0/0/0/0/0/0/0/0",
    ),
    (
        "more than MAX_OBJECT_KEYS keys",
        "/pageviews",
        {"path": "/", "request_data": {f"k{n}": n for n in range(201)}},
        422,
        "/request_data",
    ),
    (
        "keys counted at every depth",
        "/pageviews",
        {
            "path": "/",
            "request_data": {
                "a": {f"k{n}": n for n in range(150)},
                "b": {f"k{n}": n for n in range(60)},
            },
        },
        422,
        "/request_data",
    ),
    (
        "limits hold in a batch item too",
        "/batch",
        {"items": [{"kind": "pageview", "path": "/", "view_kwargs": nested(9)}]},
        422,
        "/items/0/view_kwargs" + "/a" * 8,
    ),
    (
        "JSON deeper than the parser goes",
        "/pageviews",
        b'{"path": "/", "view_args": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        400,
        None,
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "pointer"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_input_limit_is_refused_with_its_status_and_pointer(
    client, path, body, status, pointer
):
    if isinstance(body, bytes):
        response = client.post(
            f"/api/v1{path}", content=body, headers={"Content-Type": "application/json"}
        )
    else:
        response = client.post(f"/api/v1{path}", json=body)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if pointer is not None:
        assert pointer in [error["pointer"] for error in response.json()["errors"]]


def test_the_object_limits_are_settings(settings, db, redis):
    app = create_app(settings.replace({"max_object_depth": 2, "max_object_keys": 3}))
    client = keyed_client(app, db, "ingest")
    deep = client.post("/api/v1/pageviews", json={"path": "/", "view_kwargs": nested(3)})
    assert deep.json()["errors"][0]["pointer"] == "/view_kwargs/a/a"
    body = {"path": "/", "request_data": dict.fromkeys("abcd")}
    many = client.post("/api/v1/pageviews", json=body)
    assert many.status_code == 422


def test_a_full_queue_answers_503_with_retry_after_until_the_flushers_catch_up(
    settings, db, redis, flush
):
    app = create_app(settings.replace({"max_stream_length": 3, "stream_check_ms": 0}))
    client = keyed_client(app, db, "ingest")
    statuses = [client.post("/api/v1/pageviews", json={"path": "/"}).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 503]
    batch = client.post("/api/v1/batch", json={"items": [{"kind": "pageview", "path": "/"}]})
    assert batch.status_code == 503
    assert batch.headers["Retry-After"] == str(settings.api.retry_after_s)
    assert "queue is full" in batch.json()["detail"]
    # Another stream is not full.
    link = client.post("/api/v1/exit-links", json={"url": "https://example.org/", "page": "/"})
    assert link.status_code == 202
    flush()
    assert client.post("/api/v1/pageviews", json={"path": "/"}).status_code == 202
    assert db.pageviews.count_documents({}) == 3
