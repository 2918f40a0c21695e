"""Retention: each collection's TTL index says its setting, init-db changes it in place,
and documents past it are removed (by SecantusDB's TTL monitor, triggered at once here
with its `secantusAdmin.pruneTtl` command instead of waiting its 60 s round)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from footfall.settings import RetentionSettings
from footfall.store import retention
from footfall.store.collections import ALL
from footfall.store.schema import init_db

API = "/api/v1"
DAY_S = 86_400


def ttl(db, name: str) -> dict[str, int]:
    return {
        index["name"]: index["expireAfterSeconds"]
        for index in db[name].list_indexes()
        if "expireAfterSeconds" in index
    }


def test_every_retention_rule_names_a_setting_and_an_indexed_date():
    settings = RetentionSettings(_env_file=None)
    for collection in ALL:
        if collection.retention is None:
            continue
        assert retention.days(collection, settings) == 0  # kept forever by default
        keys = [list(index.document["key"]) for index in collection.indexes]
        assert [collection.retention.time] in keys, collection.name


def test_init_db_sets_changes_and_removes_ttl_indexes_idempotently(db):
    assert ttl(db, "pageviews") == {}
    init_db(db, RetentionSettings(_env_file=None, retention_days_pageviews=30))
    assert ttl(db, "pageviews") == {"visited_at": 30 * DAY_S}
    init_db(db, RetentionSettings(_env_file=None, retention_days_pageviews=30))
    assert ttl(db, "pageviews") == {"visited_at": 30 * DAY_S}
    init_db(db, RetentionSettings(_env_file=None, retention_days_pageviews=7))
    assert ttl(db, "pageviews") == {"visited_at": 7 * DAY_S}
    init_db(db, RetentionSettings(_env_file=None))
    assert ttl(db, "pageviews") == {}
    assert "visited_at" in db.pageviews.index_information()  # rebuilt without the option


def test_documents_past_their_retention_are_removed_and_the_others_stay(client, db, flush):
    now = datetime.now(UTC)
    old, recent = (now - timedelta(days=40)).isoformat(), (now - timedelta(days=2)).isoformat()
    for log_id, when in (("old", old), ("recent", recent)):
        client.post(f"{API}/pageviews", json={"log_id": log_id, "path": "/", "visited_at": when})
        client.post(
            f"{API}/exit-links",
            json={"log_id": log_id, "url": "https://x.example/", "page": "/", "clicked_at": when},
        )
        client.post(
            f"{API}/tutorial-progress",
            json={
                "log_id": log_id,
                "username": "asha",
                "course_id": "c",
                "tutorial_id": log_id,
                "language": "en",
                "visit_id": "v",
                "at": when,
                "position_s": 1,
                "duration_s": 60,
            },
        )
    flush()
    init_db(
        db,
        RetentionSettings(
            _env_file=None,
            retention_days_pageviews=30,
            retention_days_progress_events=30,
            retention_days_tutorial_states=30,
        ),
    )
    assert db.command("secantusAdmin.pruneTtl")["pruned"] == 3
    assert [d["log_id"] for d in db.pageviews.find()] == ["recent"]
    assert [d["log_id"] for d in db.progress_events.find()] == ["recent"]
    assert [d["tutorial_id"] for d in db.tutorial_progress.find()] == ["recent"]
    # Exit links keep theirs forever (0 days).
    assert sorted(d["log_id"] for d in db.exit_links.find()) == ["old", "recent"]
