"""Tool usage sessions: create, change, delete, list, totals; correct in any order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from footfall.events import Received
from footfall.events.usage_log import UsageLog, UsageLogPatch, deletion
from footfall.flusher import Flusher
from footfall.store.streams import Entry

T0 = "2026-11-20T09:00:00Z"


def session(
    log_id: str, tool: str = "editor", user: str = "u42", start: str = T0, end: str | None = None
) -> dict:
    body = {"log_id": log_id, "tool_id": tool, "user_id": user, "start_dt": start}
    if end:
        body["end_dt"] = end
    return body


def test_a_session_is_created_ended_and_read_back(client, flush):
    assert client.post("/api/v1/usage-logs", json=session("s1")).status_code == 202
    flush()
    record = client.get("/api/v1/usage-logs/s1").json()
    assert record["online"] is True
    assert record["end_dt"] is None
    assert record["is_delete"] is False
    created = record["create_dt"]

    assert (
        client.patch("/api/v1/usage-logs/s1", json={"end_dt": "2026-11-20T09:42:00Z"}).status_code
        == 202
    )
    flush()
    record = client.get("/api/v1/usage-logs/s1").json()
    assert record["end_dt"] == "2026-11-20T09:42:00Z"
    assert record["online"] is False
    assert record["create_dt"] == created  # kept
    assert record["update_dt"] > created  # moved


def test_soft_delete_hides_a_session_and_patch_undeletes_it(client, flush):
    client.post("/api/v1/usage-logs", json=session("s1"))
    flush()
    assert client.delete("/api/v1/usage-logs/s1").status_code == 202
    flush()
    assert client.get("/api/v1/usage-logs/s1").status_code == 404
    hidden = client.get("/api/v1/usage-logs/s1?include_deleted=true").json()
    assert hidden["is_delete"] is True
    assert hidden["delete_dt"] is not None
    assert client.get("/api/v1/usage-logs").json()["total"] == 0
    assert client.get("/api/v1/usage-logs?include_deleted=true").json()["total"] == 1

    client.patch("/api/v1/usage-logs/s1", json={"is_delete": False})
    flush()
    record = client.get("/api/v1/usage-logs/s1").json()
    assert (record["is_delete"], record["delete_dt"]) == (False, None)


def test_hard_delete_removes_the_data_and_a_late_create_cannot_bring_it_back(client, db, flush):
    client.post("/api/v1/usage-logs", json=session("s1"))
    flush()
    client.delete("/api/v1/usage-logs/s1?hard=true")
    flush()
    assert client.get("/api/v1/usage-logs/s1?include_deleted=true").status_code == 404
    tombstone = db.usage_logs.find_one({"log_id": "s1"}, {"_id": 0, "_v": 0})
    assert set(tombstone) == {"log_id", "update_dt"}  # no personal data left


def test_list_filters_by_users_tools_time_and_online(client, flush):
    client.post(
        "/api/v1/batch",
        json={
            "items": [
                {"kind": "usage_log", **session("a", "editor", "u1", "2026-11-01T10:00:00Z")},
                {
                    "kind": "usage_log",
                    **session("b", "editor", "u2", "2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z"),
                },
                {"kind": "usage_log", **session("c", "viewer", "u1", "2026-11-03T10:00:00Z")},
                {"kind": "usage_log", **session("d", "grader", "u3", "2026-11-04T10:00:00Z")},
            ]
        },
    )
    flush()

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/usage-logs?{query}")
        assert response.status_code == 200, response.text
        return [item["log_id"] for item in response.json()["items"]]

    assert ids("") == ["d", "c", "b", "a"]  # newest start first
    assert ids("user_id=u1,u2") == ["c", "b", "a"]
    assert ids("tool_id=editor") == ["b", "a"]
    assert ids("user_id=u1&tool_id=viewer") == ["c"]
    assert ids("since=2026-11-02T00:00:00Z&until=2026-11-04T00:00:00Z") == ["c", "b"]
    assert ids("online=true") == ["d", "c", "a"]
    assert ids("online=false") == ["b"]


def test_pagination_gives_links_and_a_total(client, flush):
    items = [
        {"kind": "usage_log", **session(f"s{i:02}", start=f"2026-11-01T10:{i:02}:00Z")}
        for i in range(25)
    ]
    client.post("/api/v1/batch", json={"items": items})
    flush()
    first = client.get("/api/v1/usage-logs?per_page=10&tool_id=editor").json()
    assert first["total"] == 25
    assert [i["log_id"] for i in first["items"]][:2] == ["s24", "s23"]
    assert first["links"]["prev"] is None
    assert first["links"]["last"] == "/api/v1/usage-logs?tool_id=editor&page=3&per_page=10"
    last = client.get(first["links"]["last"]).json()
    assert [i["log_id"] for i in last["items"]] == ["s04", "s03", "s02", "s01", "s00"]
    assert last["links"]["next"] is None
    assert last["links"]["prev"].endswith("page=2&per_page=10")
    seen = []
    link = first["links"]["self"]
    while link:
        page = client.get(link).json()
        seen += [i["log_id"] for i in page["items"]]
        link = page["links"]["next"]
    assert sorted(seen) == sorted(f"s{i:02}" for i in range(25))


def test_per_user_usage_totals_count_ended_sessions_per_tool(client, flush):
    client.post(
        "/api/v1/batch",
        json={
            "items": [
                {
                    "kind": "usage_log",
                    **session("a", "editor", "u1", "2026-11-01T10:00:00Z", "2026-11-01T10:30:00Z"),
                },
                {
                    "kind": "usage_log",
                    **session("b", "editor", "u1", "2026-11-02T10:00:00Z", "2026-11-02T10:12:00Z"),
                },
                {
                    "kind": "usage_log",
                    **session("c", "viewer", "u1", "2026-11-03T10:00:00Z", "2026-11-03T10:05:00Z"),
                },
                {"kind": "usage_log", **session("d", "viewer", "u1", "2026-11-04T10:00:00Z")},
                {
                    "kind": "usage_log",
                    **session("e", "editor", "u2", "2026-11-04T10:00:00Z", "2026-11-04T12:00:00Z"),
                },
                {
                    "kind": "usage_log",
                    **session("f", "grader", "u1", "2026-11-04T10:00:00Z", "2026-11-04T12:00:00Z"),
                },
            ]
        },
    )
    flush()
    client.delete("/api/v1/usage-logs/f")  # deleted sessions do not count
    flush()
    totals = client.get("/api/v1/users/u1/usage").json()
    assert totals == {
        "user_id": "u1",
        "sessions": 4,
        "total_seconds": 47 * 60,
        "tools": [
            {"tool_id": "editor", "sessions": 2, "seconds": 42 * 60, "open_sessions": 0},
            {"tool_id": "viewer", "sessions": 2, "seconds": 5 * 60, "open_sessions": 1},
        ],
    }
    only_viewer = client.get("/api/v1/users/u1/usage?tool_id=viewer").json()
    assert [t["tool_id"] for t in only_viewer["tools"]] == ["viewer"]


def changes_for_one_session(received_times: list[datetime]) -> list[bytes]:
    """create, end, soft delete, undelete: as the API would queue them, in stream order."""
    at = iter(received_times)
    create = UsageLog.accept(session("s1"), Received(at=next(at)))
    end = UsageLogPatch.model_validate({"end_dt": "2026-11-20T09:30:00Z"})
    return [
        create.message(),
        end.change("s1", Received(at=next(at))).message(),
        deletion("s1", Received(at=next(at)), hard=False).message(),
        UsageLogPatch.model_validate({"is_delete": False})
        .change("s1", Received(at=next(at)))
        .message(),
    ]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_changes_stored_in_any_order_give_the_same_session(order, settings, redis, db):
    """Flushers may store a session's changes in any order; the stream order wins."""
    times = [datetime(2026, 11, 20, 9, 0, i, tzinfo=UTC) for i in range(4)]
    payloads = changes_for_one_session(times)
    stream = f"{settings.queue.stream_prefix}:usage_logs"
    ids = [redis.xadd(stream, {"d": payload}).decode() for payload in payloads]
    flusher = Flusher(settings, redis, db)
    for index in order:  # each change stored alone, in the permuted order
        assert flusher.store([Entry("usage_logs", ids[index], payloads[index])])
    stored = db.usage_logs.find_one({"log_id": "s1"}, {"_id": 0, "_v": 0})
    assert stored == {
        "log_id": "s1",
        "tool_id": "editor",
        "user_id": "u42",
        "start_dt": datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        "end_dt": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        "is_delete": False,
        "delete_dt": None,
        "create_dt": times[0],
        "update_dt": times[3],
    }


def test_a_change_that_overtakes_its_create_is_not_lost(client, settings, redis, db, flush):
    client.patch("/api/v1/usage-logs/late", json={"end_dt": "2026-11-20T10:00:00Z"})
    flush()
    assert client.get("/api/v1/usage-logs/late").status_code == 404  # not created yet
    client.post("/api/v1/usage-logs", json=session("late"))
    flush()
    record = client.get("/api/v1/usage-logs/late").json()
    assert record["end_dt"] == "2026-11-20T10:00:00Z"


@pytest.mark.parametrize("order", [(0, 1), (1, 0), (1, 0, 1, 0)])
def test_a_hard_delete_wins_over_an_older_create_stored_after_it(order, settings, redis, db):
    times = [datetime(2026, 11, 20, 9, 0, i, tzinfo=UTC) for i in range(2)]
    payloads = [
        UsageLog.accept(session("s1"), Received(at=times[0])).message(),
        deletion("s1", Received(at=times[1]), hard=True).message(),
    ]
    stream = f"{settings.queue.stream_prefix}:usage_logs"
    ids = [redis.xadd(stream, {"d": payload}).decode() for payload in payloads]
    flusher = Flusher(settings, redis, db)
    for index in order:
        assert flusher.store([Entry("usage_logs", ids[index], payloads[index])])
    stored = db.usage_logs.find_one({"log_id": "s1"}, {"_id": 0, "_v": 0})
    assert stored == {"log_id": "s1", "update_dt": times[1]}
