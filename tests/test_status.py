"""`footfall status`: the operator's one screen, from the servers themselves."""

from __future__ import annotations

import json

from click.testing import CliRunner

from footfall.cli import main
from footfall.flusher import Flusher
from tests.conftest import make_settings, settings_env


def test_status_shows_backlog_flushers_with_their_pending_entries_and_dead_letters(
    client, settings, db, redis, flush, monkeypatch
):
    redis.xadd(f"{settings.queue.stream_prefix}:exit_links", {"d": b"not json"})
    flush()  # one dead letter
    for i in range(5):
        client.post("/api/v1/pageviews", json={"path": "/", "log_id": f"v{i}"})
    holder = Flusher(settings.replace({"flush_consumer": "flusher-a"}), redis, db)
    assert len(holder._read(count=2)) == 2  # read, never acked: pending on flusher-a
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)

    shown = CliRunner().invoke(main, ["status"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("redis    ok") and lines[1].startswith("mongodb  ok")
    assert next(line for line in lines if line.startswith("pageviews")).split()[1:4] == [
        "5",  # length
        "3",  # lag: not read yet
        "2",  # pending
    ]
    assert any("flusher-a" in line and "pending      2" in line for line in lines)
    assert "dead letters: 1 (exit_links 1)" in lines

    report = json.loads(CliRunner().invoke(main, ["status", "--json"]).output)
    assert report["redis"]["streams"]["pageviews"]["flushers"][0]["pending"] == 2
    assert report["mongodb"]["dead_letters"] == {"exit_links": 1}


def test_status_says_which_server_is_down_and_exits_1(monkeypatch, mongo):
    down = make_settings("redis://127.0.0.1:1/0", mongo.uri, "down")
    for name, value in settings_env(down).items():
        monkeypatch.setenv(name, value)
    shown = CliRunner().invoke(main, ["status"])
    assert shown.exit_code == 1
    assert shown.output.startswith("redis    DOWN")
    assert "mongodb  ok" in shown.output
