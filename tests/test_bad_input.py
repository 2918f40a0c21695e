"""Bad input gets a 4xx problem+json that names what is wrong; nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

FUTURE = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
SOON = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
START = "2026-11-20T09:00:00Z"
JSON = {"Content-Type": "application/json"}

CASES = [
    # (name, path, body as JSON value or raw bytes, headers, status, pointer)
    ("missing required field", "/pageviews", {"method": "GET"}, JSON, 422, "/path"),
    ("wrong type", "/pageviews", {"path": 5}, JSON, 422, "/path"),
    ("path without leading slash", "/pageviews", {"path": "home"}, JSON, 422, "/path"),
    ("bad date", "/pageviews", {"path": "/", "visited_at": "yesterday"}, JSON, 422, "/visited_at"),
    (
        "date without offset",
        "/pageviews",
        {"path": "/", "visited_at": "2026-11-20T09:00:00"},
        JSON,
        422,
        "/visited_at",
    ),
    ("future date", "/pageviews", {"path": "/", "visited_at": FUTURE}, JSON, 422, "/visited_at"),
    ("unknown method", "/pageviews", {"path": "/", "method": "FETCH"}, JSON, 422, "/method"),
    ("bad ip", "/pageviews", {"path": "/", "ip": "999.1.1.1"}, JSON, 422, "/ip"),
    ("latitude out of range", "/pageviews", {"path": "/", "latitude": 91}, JSON, 422, "/latitude"),
    ("log_id too long", "/pageviews", {"path": "/", "log_id": "x" * 129}, JSON, 422, "/log_id"),
    ("unknown field", "/pageviews", {"path": "/", "colour": "red"}, JSON, 422, "/colour"),
    (
        "dollar key",
        "/pageviews",
        {"path": "/", "view_kwargs": {"$where": "1"}},
        JSON,
        422,
        "/view_kwargs/$where",
    ),
    (
        "nested dotted key",
        "/pageviews",
        {"path": "/", "request_data": {"a": [{"b.c": 1}]}},
        JSON,
        422,
        "/request_data/a/0/b.c",
    ),
    ("array instead of object", "/pageviews", [{"path": "/"}], JSON, 422, ""),
    ("non-JSON body", "/pageviews", b"{not json", JSON, 400, None),
    ("empty body", "/pageviews", b"", JSON, 400, None),
    ("NaN", "/pageviews", b'{"path": "/", "latitude": NaN}', JSON, 4, None),
    ("wrong content type", "/pageviews", b"path=/", {"Content-Type": "text/plain"}, 415, None),
    (
        "form content type",
        "/pageviews",
        b"path=/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        None,
    ),
    (
        "body over the request cap",
        "/pageviews",
        {"path": "/", "request_data": {"x": "y" * (1024 * 1024)}},
        JSON,
        413,
        None,
    ),
    (
        "event over the event cap",
        "/pageviews",
        {"path": "/", "request_data": {"x": "y" * (65 * 1024)}},
        JSON,
        413,
        None,
    ),
    (
        "exit link to a non-http url",
        "/exit-links",
        {"url": "javascript:alert(1)", "page": "/"},
        JSON,
        422,
        "/url",
    ),
    (
        "usage log ending before it starts",
        "/usage-logs",
        {
            "log_id": "u",
            "tool_id": "t",
            "user_id": "u",
            "start_dt": START,
            "end_dt": "2026-11-20T08:00:00Z",
        },
        JSON,
        422,
        "/end_dt",
    ),
    (
        "usage log starting in the future",
        "/usage-logs",
        {"log_id": "u", "tool_id": "t", "user_id": "u", "start_dt": FUTURE},
        JSON,
        422,
        "/start_dt",
    ),
    (
        "usage log without log_id",
        "/usage-logs",
        {"tool_id": "t", "user_id": "u", "start_dt": START},
        JSON,
        422,
        "/log_id",
    ),
    ("empty patch", "/usage-logs/u1", {}, JSON, 422, None),
    ("patch with unknown field", "/usage-logs/u1", {"colour": "red"}, JSON, 422, "/colour"),
    ("unknown kind", "/batch", {"items": [{"kind": "teleport"}]}, JSON, 422, "/items/0/kind"),
    (
        "batch item with a dollar key",
        "/batch",
        {"items": [{"kind": "pageview", "path": "/", "view_kwargs": {"a": {"$gt": 1}}}]},
        JSON,
        422,
        "/items/0/view_kwargs/a/$gt",
    ),
    ("batch without items", "/batch", {"events": []}, JSON, 422, "/items"),
    ("empty batch", "/batch", {"items": []}, JSON, 422, "/items"),
    # Found by the fuzzer (tests/test_fuzz.py); each was a 500.
    (
        "time before year 1 once in UTC",
        "/usage-logs",
        {"log_id": "u", "tool_id": "t", "user_id": "u", "start_dt": "0001-01-01T00:00:00+00:03"},
        JSON,
        422,
        "/start_dt",
    ),
    ("body not UTF-8", "/pageviews", b'{"path": "/\xff"}', JSON, 400, None),
    ("control character in the path", "/usage-logs/a%0Ab", {"end_dt": START}, JSON, 400, None),
]


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "pointer"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_a_4xx_problem_and_nothing_is_stored(
    client, db, flush, path, body, headers, status, pointer
):
    method = client.patch if path.startswith("/usage-logs/") else client.post
    if isinstance(body, bytes):
        response = method(f"/api/v1{path}", content=body, headers=headers)
    else:
        response = method(f"/api/v1{path}", json=body, headers=headers)
    if status < 100:  # only the class is fixed (e.g. 4 for any 4xx)
        assert response.status_code // 100 == status, response.text
    else:
        assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["title"] and problem["detail"]
    if pointer is not None:
        assert pointer in [error["pointer"] for error in problem["errors"]], problem
    flush()
    for collection in ("pageviews", "exit_links", "usage_logs"):
        assert db[collection].count_documents({}) == 0


def test_a_time_within_the_clock_skew_tolerance_is_accepted(client):
    response = client.post("/api/v1/pageviews", json={"path": "/", "visited_at": SOON})
    assert response.status_code == 202


def test_a_chunked_body_over_the_cap_is_refused(client, db, flush):
    def chunks():
        yield b'{"path": "/", "request_data": {"x": "'
        for _ in range(1100):
            yield b"y" * 1024
        yield b'"}}'

    response = client.post("/api/v1/pageviews", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("since", ["yesterday", "0001-01-01T00:00:00+00:03"])
def test_a_malformed_time_in_a_query_is_a_400_problem(client, since):
    response = client.get("/api/v1/usage-logs", params={"since": since})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "since" in response.json()["detail"]


def test_an_unknown_path_is_a_404_problem(client):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_an_integer_beyond_64_bits_in_a_free_form_field_is_refused_by_pointer(client):
    """MongoDB stores 64-bit integers at most: such an event could never be stored."""
    body = {"path": "/", "view_args": [1, {"big": 2**64}], "view_kwargs": {"n": -(2**63) - 1}}
    response = client.post("/api/v1/pageviews", json=body)
    assert response.status_code == 422
    pointers = sorted(error["pointer"] for error in response.json()["errors"])
    assert pointers == ["/view_args/1/big", "/view_kwargs/n"]
