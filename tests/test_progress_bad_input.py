"""Bad progress, toggles and courses get a 4xx problem+json with pointers; nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

FUTURE = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
PROGRESS = {
    "username": "asha",
    "course_id": "python",
    "tutorial_id": "t1",
    "language": "English",
    "visit_id": "v1",
    "at": "2026-11-20T09:00:00Z",
    "position_s": 60,
    "duration_s": 600,
}
TOGGLE = {key: value for key, value in PROGRESS.items() if not key.endswith("_s")}
TOGGLE["completed"] = True


def without(body: dict, name: str) -> dict:
    return {key: value for key, value in body.items() if key != name}


CASES = [
    # (name, method, path, body, status, pointer)
    (
        "progress without username",
        "post",
        "/tutorial-progress",
        without(PROGRESS, "username"),
        422,
        "/username",
    ),
    ("progress without at", "post", "/tutorial-progress", without(PROGRESS, "at"), 422, "/at"),
    (
        "position past the end",
        "post",
        "/tutorial-progress",
        PROGRESS | {"position_s": 601},
        422,
        "/position_s",
    ),
    (
        "negative position",
        "post",
        "/tutorial-progress",
        PROGRESS | {"position_s": -1},
        422,
        "/position_s",
    ),
    (
        "zero duration",
        "post",
        "/tutorial-progress",
        PROGRESS | {"duration_s": 0},
        422,
        "/duration_s",
    ),
    (
        "duration over a day",
        "post",
        "/tutorial-progress",
        PROGRESS | {"duration_s": 86401},
        422,
        "/duration_s",
    ),
    (
        "position as text",
        "post",
        "/tutorial-progress",
        PROGRESS | {"position_s": "1:00"},
        422,
        "/position_s",
    ),
    (
        "dotted visit id",
        "post",
        "/tutorial-progress",
        PROGRESS | {"visit_id": "a.b"},
        422,
        "/visit_id",
    ),
    (
        "dollar visit id",
        "post",
        "/tutorial-progress",
        PROGRESS | {"visit_id": "$x"},
        422,
        "/visit_id",
    ),
    (
        "progress from the future",
        "post",
        "/tutorial-progress",
        PROGRESS | {"at": FUTURE},
        422,
        "/at",
    ),
    (
        "progress with an unknown field",
        "post",
        "/tutorial-progress",
        PROGRESS | {"percent": 10},
        422,
        "/percent",
    ),
    (
        "progress with a completed flag",
        "post",
        "/tutorial-progress",
        PROGRESS | {"completed": True},
        422,
        "/completed",
    ),
    (
        "toggle without completed",
        "post",
        "/tutorial-completion",
        without(TOGGLE, "completed"),
        422,
        "/completed",
    ),
    (
        "toggle with a text flag",
        "post",
        "/tutorial-completion",
        TOGGLE | {"completed": "yes"},
        422,
        "/completed",
    ),
    (
        "toggle without visit",
        "post",
        "/tutorial-completion",
        without(TOGGLE, "visit_id"),
        422,
        "/visit_id",
    ),
    (
        "batch progress past the end",
        "post",
        "/batch",
        {"items": [{"kind": "tutorial_progress", **PROGRESS, "position_s": 900}]},
        422,
        "/items/0/position_s",
    ),
    ("course without tutorials", "put", "/courses/python", {"title": "Python"}, 422, "/tutorials"),
    (
        "course listing a tutorial twice",
        "put",
        "/courses/python",
        {"tutorials": [{"tutorial_id": "a"}, {"tutorial_id": "b"}, {"tutorial_id": "a"}]},
        422,
        "/tutorials/2/tutorial_id",
    ),
    (
        "course tutorial with an unknown field",
        "put",
        "/courses/python",
        {"tutorials": [{"tutorial_id": "a", "length": 5}]},
        422,
        "/tutorials/0/length",
    ),
    (
        "course tutorial with a negative duration",
        "put",
        "/courses/python",
        {"tutorials": [{"tutorial_id": "a", "duration_s": -5}]},
        422,
        "/tutorials/0/duration_s",
    ),
    (
        "a page of figures past the limit",
        "get",
        "/courses/python/figures?per_page=501",
        None,
        400,
        None,
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "pointer"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_progress_input_is_a_4xx_problem_and_nothing_is_stored(
    client, db, flush, method, path, body, status, pointer
):
    response = client.request(method.upper(), f"/api/v1{path}", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    if pointer is not None:
        assert pointer in [error["pointer"] for error in problem["errors"]], problem
    flush()
    for collection in ("tutorial_progress", "progress_events", "courses"):
        assert db[collection].count_documents({}) == 0
