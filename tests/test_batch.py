"""A batch answers a receipt per item; one bad item never sinks the others."""

from __future__ import annotations


def test_a_mixed_batch_gives_the_right_receipt_for_each_item(client, db, flush):
    client.post("/api/v1/pageviews", json={"path": "/", "log_id": "seen-before"})
    items = [
        {"kind": "pageview", "path": "/one", "log_id": "p1"},
        {"kind": "pageview", "path": "/", "log_id": "seen-before"},
        {"kind": "pageview", "path": "no-slash", "log_id": "bad1"},
        {"kind": "exit_link", "url": "https://example.org/", "page": "/links/"},
        {
            "kind": "usage_log",
            "log_id": "u1",
            "tool_id": "editor",
            "user_id": "u42",
            "start_dt": "2026-11-20T09:00:00Z",
        },
        {"kind": "teleport", "log_id": "x"},
        {"kind": "usage_log", "log_id": "u2", "tool_id": "editor"},
    ]
    response = client.post("/api/v1/batch", json={"items": items})
    assert response.status_code == 200
    body = response.json()
    statuses = [r["status"] for r in body["receipts"]]
    assert statuses == [
        "accepted",
        "duplicate",
        "rejected",
        "accepted",
        "accepted",
        "rejected",
        "rejected",
    ]
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (3, 1, 3)
    receipts = body["receipts"]
    assert receipts[2]["errors"][0]["pointer"] == "/items/2/path"
    assert receipts[5]["errors"][0]["pointer"] == "/items/5/kind"
    assert {e["pointer"] for e in receipts[6]["errors"]} == {
        "/items/6/user_id",
        "/items/6/start_dt",
    }
    flush()
    assert db.pageviews.count_documents({}) == 2
    assert db.pageviews.count_documents({"log_id": "bad1"}) == 0
    assert db.exit_links.count_documents({"log_id": receipts[3]["log_id"]}) == 1
    assert db.usage_logs.count_documents({"log_id": "u1"}) == 1


def test_a_batch_over_the_item_limit_is_refused_whole(client, db):
    items = [{"kind": "pageview", "path": "/"}] * 501
    response = client.post("/api/v1/batch", json={"items": items})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == "/items"


def test_an_oversize_item_is_rejected_alone(client, flush, db):
    big = {"kind": "pageview", "path": "/", "request_data": {"blob": "x" * 70_000}}
    items = [big, {"kind": "pageview", "path": "/ok", "log_id": "ok"}]
    receipts = client.post("/api/v1/batch", json={"items": items}).json()["receipts"]
    assert receipts[0]["status"] == "rejected"
    assert "limit" in receipts[0]["errors"][0]["detail"]
    assert receipts[1]["status"] == "accepted"
    flush()
    assert db.pageviews.count_documents({}) == 1


def test_a_batch_with_no_good_item_is_a_problem_with_every_receipt(client, db, flush):
    items = [{"kind": "teleport"}, {"path": "/no-kind"}]
    response = client.post("/api/v1/batch", json={"items": items})
    assert response.status_code == 422
    body = response.json()
    assert [e["pointer"] for e in body["errors"]] == ["/items/0/kind", "/items/1/kind"]
    assert [r["status"] for r in body["receipts"]] == ["rejected", "rejected"]
