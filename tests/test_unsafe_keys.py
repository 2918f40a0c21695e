"""Keys MongoDB reserves in a free-form object: every one is named, by pointer, in words."""

from __future__ import annotations

from footfall.app import create_app
from tests.conftest import keyed_client


def test_every_unsafe_key_is_reported_with_its_pointer_and_a_filled_detail(client, db, flush):
    body = {"path": "/", "view_kwargs": {"a": {"$gt": 1}, "b.c": 2, "ok": [{"$where": "1"}]}}
    response = client.post("/api/v1/pageviews", json=body)
    assert response.status_code == 422, response.text
    errors = {e["pointer"]: e["detail"] for e in response.json()["errors"]}
    assert set(errors) == {"/view_kwargs/a/$gt", "/view_kwargs/b.c", "/view_kwargs/ok/0/$where"}
    assert errors["/view_kwargs/a/$gt"] == (
        "key '$gt' starts with '$', which MongoDB reads as an operator"
    )
    assert errors["/view_kwargs/b.c"] == "key 'b.c' contains '.', which MongoDB reads as a path"
    assert all("{" not in detail for detail in errors.values())
    flush()
    assert db.pageviews.count_documents({}) == 0


def test_unsafe_keys_in_several_fields_and_batch_items_are_all_reported(client):
    item = {"kind": "pageview", "path": "/", "view_kwargs": {"$a": 1}, "request_data": {"x.y": 1}}
    response = client.post("/api/v1/batch", json={"items": [item]})
    assert response.status_code == 422, response.text
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"/items/0/view_kwargs/$a", "/items/0/request_data/x.y"}


def test_the_depth_and_key_limits_are_reported_beside_unsafe_keys(settings, db, redis):
    app = create_app(settings.replace({"max_object_depth": 2, "max_object_keys": 3}))
    client = keyed_client(app, db, "ingest")
    body = {"path": "/", "view_kwargs": {"$x": 1, "deep": {"a": {"b": 1}}}}
    errors = client.post("/api/v1/pageviews", json=body).json()["errors"]
    assert {e["pointer"] for e in errors} == {"/view_kwargs/$x", "/view_kwargs/deep/a"}
    assert "nested deeper than 2 levels" in [e["detail"] for e in errors]
    many = {"path": "/", "request_data": {"a.b": 1, "c": 2, "d": 3, "e": 4, "$f": 5}}
    errors = client.post("/api/v1/pageviews", json=many).json()["errors"]
    assert errors == [
        {
            "pointer": "/request_data/a.b",
            "detail": "key 'a.b' contains '.', which MongoDB reads as a path",
        },
        {"pointer": "/request_data", "detail": "more than 3 keys in all"},
    ]
