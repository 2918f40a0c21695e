"""Rules changed after the fact: tutorial states re-derived under a new threshold, a new
redaction key applied to stored documents; both resumable after an interruption, both
idempotent, and the commands as an operator runs them."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import orjson
import pytest
from click.testing import CliRunner

from footfall.cli import main
from footfall.reapply import checkpoint, recompute, redact
from footfall.store.collections import CHECKPOINTS, PAGEVIEWS

API = "/api/v1"


def watch(client, username: str, course_id: str, tutorial_id: str, minutes: int) -> None:
    """`minutes` distinct minutes of a 10-minute tutorial, one event each."""
    for minute in range(minutes):
        body = {
            "log_id": f"{username}-{course_id}-{tutorial_id}-{minute}",
            "username": username,
            "course_id": course_id,
            "tutorial_id": tutorial_id,
            "language": "English",
            "visit_id": "v1",
            "at": f"2026-11-20T09:{minute:02d}:00Z",
            "position_s": minute * 60 + 1,
            "duration_s": 600,
        }
        assert client.post(f"{API}/tutorial-progress", json=body).status_code == 202


def completed(db) -> dict[tuple[str, str], bool]:
    return {(s["username"], s["tutorial_id"]): s["completed"] for s in db.tutorial_progress.find()}


@pytest.fixture
def seven_of_ten(client, db, flush):
    """Learners who watched 7 of 10 minutes: not completed at the shipped 0.8."""
    for username in ("asha", "ravi", "mina"):
        watch(client, username, "python", "intro", 7)
    watch(client, "asha", "c", "loops", 7)
    flush()
    assert not any(completed(db).values())


def test_recompute_completes_states_under_a_lower_threshold_in_its_scope_only(db, seven_of_ten):
    job = recompute.scope(0.7, course_id="python")
    outcome = checkpoint.run(db, job, recompute.Recompute(db, 0.7))
    assert (outcome.processed, outcome.changed) == (3, 3)
    assert completed(db) == {
        ("asha", "intro"): True,
        ("ravi", "intro"): True,
        ("mina", "intro"): True,
        ("asha", "loops"): False,  # another course
    }
    state = db.tutorial_progress.find_one({"username": "asha", "tutorial_id": "intro"})
    assert state["completion_source"] == "auto"
    assert state["completed_at"] == datetime(2026, 11, 20, 9, 6, tzinfo=UTC)  # the 7th minute
    again = checkpoint.run(db, job, recompute.Recompute(db, 0.7))
    assert (again.processed, again.changed) == (3, 0)


def test_recompute_of_one_learner(db, seven_of_ten):
    outcome = checkpoint.run(
        db, recompute.scope(0.7, username="asha"), recompute.Recompute(db, 0.7)
    )
    assert outcome.changed == 2
    assert [k for k, done in completed(db).items() if done] == [
        ("asha", "intro"),
        ("asha", "loops"),
    ]


def test_an_interrupted_recompute_resumes_after_the_last_batch_it_finished(db, seven_of_ten):
    job = recompute.scope(0.7)
    seen: list[int] = []

    def interrupt_after_two(done: int) -> None:
        seen.append(done)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        checkpoint.run(db, job, recompute.Recompute(db, 0.7), batch=1, progress=interrupt_after_two)
    assert sum(completed(db).values()) == 2
    assert db[CHECKPOINTS.name].count_documents({}) == 1
    outcome = checkpoint.run(db, job, recompute.Recompute(db, 0.7), batch=1)
    assert (outcome.resumed, outcome.processed, outcome.changed) == (2, 4, 4)
    assert all(completed(db).values())
    assert db[CHECKPOINTS.name].count_documents({}) == 0


def test_a_checkpoint_under_other_rules_is_not_resumed(db, seven_of_ten):
    with pytest.raises(KeyboardInterrupt):
        checkpoint.run(
            db,
            recompute.scope(0.7),
            recompute.Recompute(db, 0.7),
            batch=1,
            progress=lambda done: (_ for _ in ()).throw(KeyboardInterrupt),
        )
    outcome = checkpoint.run(db, recompute.scope(0.9), recompute.Recompute(db, 0.9))
    assert (outcome.resumed, outcome.processed) == (0, 4)
    assert not any(completed(db).values())  # 0.9 undoes what 0.7 had completed


VIEW = {
    "path": "/search/?q=python&pin=1234",
    "view_args": [{"pin": "1234"}, "python"],
    "view_kwargs": {"foss": "python", "pin": "1234"},
    "request_data": {"user": "asha", "PIN": "1234", "password": "x"},
}


@pytest.fixture
def pins(client, flush):
    for n in range(3):
        assert client.post(f"{API}/pageviews", json={**VIEW, "log_id": f"pv{n}"}).status_code == 202
    assert client.post(f"{API}/pageviews", json={"log_id": "plain", "path": "/"}).status_code == 202
    flush()


def test_redact_applies_a_new_key_to_stored_documents_view_args_included(db, settings, pins):
    stored = db.pageviews.find_one({"log_id": "pv0"})
    assert stored["view_kwargs"]["pin"] == "1234"  # "pin" was not a key when it was stored
    assert stored["request_data"]["password"] == "[redacted]"
    privacy = settings.replace({"redact_keys": [*settings.privacy.redact_keys, "pin"]}).privacy
    outcome = checkpoint.run(
        db, redact.scope(PAGEVIEWS, privacy), redact.Redact(db, PAGEVIEWS, privacy)
    )
    assert (outcome.processed, outcome.changed) == (4, 3)
    after = db.pageviews.find_one({"log_id": "pv0"})
    assert after["path"] == "/search/?q=python&pin=[redacted]"
    assert after["view_args"] == [{"pin": "[redacted]"}, "python"]
    assert after["view_kwargs"] == {"foss": "python", "pin": "[redacted]"}
    assert after["request_data"] == {"user": "asha", "PIN": "[redacted]", "password": "[redacted]"}
    again = checkpoint.run(
        db, redact.scope(PAGEVIEWS, privacy), redact.Redact(db, PAGEVIEWS, privacy)
    )
    assert again.changed == 0


def cli(settings, *args: str, input: str | None = None):
    result = CliRunner().invoke(main, list(args), env=settings.environ(), input=input)
    assert result.exit_code == 0, result.output
    return result


def test_the_redact_command_resumes_an_interrupted_run(db, settings, pins):
    privacy = settings.replace({"redact_keys": [*settings.privacy.redact_keys, "pin"]}).privacy
    with pytest.raises(KeyboardInterrupt):
        checkpoint.run(
            db,
            redact.scope(PAGEVIEWS, privacy),
            redact.Redact(db, PAGEVIEWS, privacy),
            batch=2,
            progress=lambda done: (_ for _ in ()).throw(KeyboardInterrupt),
        )
    env = settings.replace({"redact_keys": [*settings.privacy.redact_keys, "pin"]})
    result = cli(env, "redact", "--collection", "pageviews", "--batch", "2")
    assert "pageviews: 4 read (2 done by an earlier run), 3 changed" in result.output
    assert db.pageviews.count_documents({"view_kwargs.pin": "[redacted]"}) == 3


def test_the_recompute_command_reports_what_it_changed(db, settings, seven_of_ten):
    result = cli(
        settings.replace({"completion_threshold": 0.7}),
        "progress",
        "recompute",
        "--course",
        "python",
    )
    assert "tutorial states: 3 read, 3 changed" in result.output


def test_the_export_command_streams_a_time_range_gzipped(client, db, settings, flush, tmp_path):
    for day in (1, 2, 3):
        body = {"log_id": f"d{day}", "path": "/", "visited_at": f"2026-11-0{day}T12:00:00Z"}
        client.post(f"{API}/pageviews", json=body)
    flush()
    out = tmp_path / "views.ndjson.gz"
    cli(
        settings,
        "export",
        "pageviews",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-04",
        "--gzip",
        "-o",
        str(out),
    )
    lines = [orjson.loads(line) for line in gzip.decompress(out.read_bytes()).splitlines()]
    assert [line["log_id"] for line in lines] == ["d2", "d3"]
    assert lines[0]["visited_at"] == "2026-11-02T12:00:00+00:00"


def test_the_learners_commands_export_and_erase(client, db, settings, flush, tmp_path):
    client.post(f"{API}/pageviews", json={"log_id": "a", "path": "/", "username": "asha"})
    flush()
    out = tmp_path / "asha.ndjson"
    cli(settings, "learners", "export", "asha", "-o", str(out))
    *docs, manifest = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [d["document"]["log_id"] for d in docs] == ["a"]
    assert manifest["manifest"]["counts"]["pageviews"] == 1
    result = cli(settings, "learners", "erase", "asha", "--reference", "T-1", input="y\n")
    answer = orjson.loads(result.output.splitlines()[-1])
    assert answer["counts"]["pageviews"] == 1 and answer["by"].startswith("cli:")
    assert db.pageviews.count_documents({}) == 0
