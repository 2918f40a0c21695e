"""Dead letters: seen with MongoDB's reason, replayed through the queue once the cause is
fixed (stored once however often replayed), refused again in place, purged."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from footfall.cli import main
from footfall.store.schema import init_db
from tests.conftest import settings_env

API = "/api/v1"


def tighten(db, collection: str, change) -> None:  # type: ignore[no-untyped-def]
    """A stricter validator than the spec's, as after an upgrade gone wrong."""
    found = db.command("listCollections", filter={"name": collection})
    validator = found["cursor"]["firstBatch"][0]["options"]["validator"]
    change(validator["$jsonSchema"])
    db.command("collMod", collection, validator=validator)


def short_paths(schema: dict[str, Any]) -> None:
    schema["properties"]["path"]["maxLength"] = 5


def letters(client, **query: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/dead-letters", params=query)
    assert response.status_code == 200
    return response.json()["items"]


def test_a_refused_view_is_stored_once_by_replays_after_init_db_loosens_the_validator(
    client, db, flush
):
    tighten(db, "pageviews", short_paths)
    client.post(f"{API}/pageviews", json={"path": "/ok", "log_id": "fine"})
    client.post(f"{API}/pageviews", json={"path": "/far-too-long", "log_id": "refused"})
    flush()
    [listed] = letters(client)
    assert listed["collection"] == "pageviews"
    assert listed["reason"] == "Document failed validation"
    assert listed["replays"] == 0
    shown = client.get(f"{API}/dead-letters/{listed['id']}").json()
    assert shown["event"]["log_id"] == "refused"
    assert shown["event"]["path"] == "/far-too-long"
    assert shown["details"]["details"]["operatorName"] == "$jsonSchema"  # MongoDB's own why

    init_db(db)  # the spec's validator again: the path is allowed
    for _ in range(2):
        response = client.post(f"{API}/dead-letters/{listed['id']}/replay")
        assert response.status_code == 202
        assert response.json() == {"replayed": 1, "skipped": []}
    assert letters(client)[0]["replays"] == 2  # still there until a flusher stores it
    flush()

    assert sorted(d["log_id"] for d in db.pageviews.find()) == ["fine", "refused"]
    assert letters(client) == []


def test_a_replay_refused_again_stays_the_same_dead_letter_with_the_new_reason(client, db, flush):
    tighten(db, "pageviews", short_paths)
    client.post(f"{API}/pageviews", json={"path": "/far-too-long", "log_id": "stubborn"})
    flush()
    [first] = letters(client)
    before = client.get(f"{API}/dead-letters/{first['id']}").json()

    def require_a_title(schema: dict[str, Any]) -> None:
        schema["properties"]["path"].pop("maxLength")
        schema["required"] = [*schema["required"], "page_title"]

    init_db(db)
    tighten(db, "pageviews", require_a_title)
    client.post(f"{API}/dead-letters/replay", json={"collection": "pageviews"})
    flush()

    [again] = letters(client)
    after = client.get(f"{API}/dead-letters/{again['id']}").json()
    assert again["id"] == first["id"] and again["entry_id"] == first["entry_id"]
    assert again["replays"] == 1
    assert after["failed_at"] > before["failed_at"]
    assert after["details"] != before["details"]  # MongoDB now names the missing field
    assert "page_title" in str(after["details"])
    assert db.pageviews.count_documents({}) == 0


def test_filters_select_what_is_listed_replayed_and_purged(client, db, redis, settings, flush):
    tighten(db, "pageviews", short_paths)
    client.post(f"{API}/pageviews", json={"path": "/far-too-long", "log_id": "long"})
    redis.xadd(f"{settings.queue.stream_prefix}:exit_links", {"d": b"not json at all"})
    flush()
    assert len(letters(client)) == 2
    [undecodable] = letters(client, reason="DOES NOT DECODE")
    assert undecodable["collection"] == "exit_links"
    assert [x["collection"] for x in letters(client, collection="pageviews")] == ["pageviews"]
    assert letters(client, since="2999-01-01T00:00:00Z") == []
    shown = client.get(f"{API}/dead-letters/{undecodable['id']}").json()
    assert shown["payload"] == "not json at all" and shown["event"] is None

    # An empty filter selects nothing unless it says all.
    for operation in ("replay", "purge"):
        refused = client.post(f"{API}/dead-letters/{operation}", json={})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["pointer"] == "/all"

    purged = client.post(f"{API}/dead-letters/purge", json={"reason": "does not decode"})
    assert purged.json() == {"purged": 1}
    assert [x["collection"] for x in letters(client)] == ["pageviews"]
    assert client.post(f"{API}/dead-letters/replay", json={"all": True}).json()["replayed"] == 1
    assert client.delete(f"{API}/dead-letters/{letters(client)[0]['id']}").json() == {"purged": 1}
    missing = "0123456789abcdef01234567"
    for response in (
        client.get(f"{API}/dead-letters/{missing}"),
        client.post(f"{API}/dead-letters/{missing}/replay"),
        client.delete(f"{API}/dead-letters/{missing}"),
    ):
        assert response.status_code == 404


def test_a_replayed_usage_log_change_does_not_undo_a_later_one(client, db, flush):
    """A replay keeps its first stream id as its merge version."""

    def short_tools(schema: dict[str, Any]) -> None:
        schema["properties"]["tool_id"]["maxLength"] = 3

    session = {"log_id": "s1", "user_id": "u1", "start_dt": "2026-11-20T09:00:00Z"}
    client.post(f"{API}/usage-logs", json={**session, "tool_id": "ed"})
    flush()
    tighten(db, "usage_logs", short_tools)
    client.patch(f"{API}/usage-logs/s1", json={"tool_id": "editor"})  # refused
    flush()
    init_db(db)
    client.patch(f"{API}/usage-logs/s1", json={"tool_id": "vim"})  # later, stored
    flush()
    assert client.post(f"{API}/dead-letters/replay", json={"all": True}).json()["replayed"] == 1
    flush()
    assert db.usage_logs.find_one({"log_id": "s1"})["tool_id"] == "vim"
    assert letters(client) == []


def test_the_cli_lists_shows_replays_and_purges(client, db, settings, flush, monkeypatch):
    tighten(db, "pageviews", short_paths)
    client.post(f"{API}/pageviews", json={"path": "/far-too-long", "log_id": "cli"})
    flush()
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    listed = runner.invoke(main, ["dead-letters", "list", "--collection", "pageviews"])
    assert listed.exit_code == 0, listed.output
    letter_id = listed.output.split()[0]
    shown = runner.invoke(main, ["dead-letters", "show", letter_id])
    assert '"log_id": "cli"' in shown.output and "Document failed validation" in shown.output
    assert runner.invoke(main, ["dead-letters", "replay"]).exit_code != 0  # no filter, no --all
    init_db(db)
    replayed = runner.invoke(main, ["dead-letters", "replay", letter_id])
    assert replayed.exit_code == 0 and "replayed 1" in replayed.output
    flush()
    assert db.pageviews.count_documents({"log_id": "cli"}) == 1
    empty = runner.invoke(main, ["dead-letters", "list"])
    assert "no dead letter" in empty.output

    tighten(db, "pageviews", short_paths)
    client.post(f"{API}/pageviews", json={"path": "/far-too-long", "log_id": "cli2"})
    flush()
    purged = runner.invoke(main, ["dead-letters", "purge", "--all"])
    assert purged.exit_code == 0 and "purged 1" in purged.output
    assert db.dead_letters.count_documents({}) == 0
