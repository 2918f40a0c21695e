"""`footfall import edx`: what is stored of each line, the error report, re-imports that
store nothing, every input format, and an import killed with SIGKILL then resumed."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import signal
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymongo.database import Database

from footfall.connections import mongo_database
from footfall.edx.reader import Source
from footfall.settings import Settings
from footfall.store.collections import EDX_EVENTS, EDX_IMPORTS
from footfall.store.schema import init_db
from tests.conftest import settings_env
from tests.edx_helpers import COURSE, LOG, LOG_GZ, P1, V1, V2, import_files


def line(number: int, path: Path = LOG) -> bytes:
    return path.read_bytes().splitlines()[number - 1]


def stored(db: Database, number: int) -> dict:
    """The document of line `number` of the plain fixture, found by its bytes' log_id."""
    from footfall.edx.mapping import line_id

    doc = db[EDX_EVENTS.name].find_one({"log_id": line_id(line(number).strip())}, {"_id": 0})
    assert doc is not None, f"line {number} is not stored"
    return doc


def test_an_import_counts_every_line_and_stores_each_event_once(db, settings, tmp_path):
    summary, _ = import_files(db, settings, LOG, LOG_GZ, errors=tmp_path / "errors.jsonl")
    assert summary.json() == {
        "files": 2,
        "lines": 47 + 10,
        "blank": 2,
        # 41 good lines in the log; the gzip's first two lines are two of them again.
        "stored": 41 + 7,
        "already_stored": 2,
        "errors": 4 + 1,
        "resumed_after": 0,
        "families": {
            "video": 15,
            "problem": 9,
            "page": 6,
            "enrollment": 5,
            "textbook": 5,
            "navigation": 4,
            "forum": 2,
            "grade": 2,
            "other": 1,
            "certificate": 1,
        },
    }
    assert db[EDX_EVENTS.name].count_documents({}) == 48
    assert db[EDX_EVENTS.name].count_documents({"context.course_id": COURSE}) == 46


def test_the_common_fields_are_typed_and_the_event_parsed_when_it_is_a_json_string(db, settings):
    import_files(db, settings, LOG)
    play = stored(db, 5)
    assert play == {
        "log_id": play["log_id"],
        "event_type": "play_video",
        "name": "play_video",
        "family": "video",
        "event_source": "browser",
        "username": "asha",
        "time": datetime(2026, 3, 2, 10, 0, 5, 120000, tzinfo=UTC),
        "session": "s-asha-1",
        "page": "https://learn.example.org/courses/course-v1:IITB+Py101+2026/courseware/week1/intro/1",
        "host": "learn.example.org",
        "referer": "https://learn.example.org/courses/course-v1:IITB+Py101+2026/courseware/week1/intro/",
        "agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "accept_language": "en-IN,en;q=0.9",
        "ip": "203.0.113.0",  # IP_STORAGE=truncate: its /24
        "context": {"course_id": COURSE, "org_id": "IITB", "user_id": 7, "path": "/event"},
        "event": {"id": V1, "currentTime": 0, "code": "html5"},
        "block": V1,
    }
    assert len(play["log_id"]) == 32


def test_an_event_object_a_broken_json_string_and_a_plain_string_are_kept_as_they_are(db, settings):
    import_files(db, settings, LOG)
    assert stored(db, 28)["event"] == {"id": V2, "currentTime": 0, "code": "html5"}
    broken = stored(db, 43)
    assert (
        broken["event"]
        == '{"id": "block-v1:IITB+Py101+2026+type@video+block@loops", "currentTime": 3'
    )
    assert "block" not in broken
    assert stored(db, 13)["event"] == (
        "input_block-v1_IITB_Py101_2026_type_problem_block_q1_2_1=choice_2"
    )
    # A key MongoDB reserves ("upsell.variant"): the object is kept as its JSON text.
    assert json.loads(stored(db, 47)["event"]) == {
        "courserun_key": COURSE,
        "upsell.variant": "sidebar",
    }
    # The server's problem_check names its block in context.module.
    assert stored(db, 11)["block"] == P1
    assert stored(db, 11)["context"]["module"]["display_name"] == "Loop quiz"


def test_sources_ids_addresses_and_offsets_are_normalised(db, settings):
    import_files(db, settings, LOG)
    mobile = stored(db, 18)
    assert mobile["event_source"] == "mobile"
    assert mobile["context"]["user_id"] == 8  # "8" in the log
    assert mobile["context"]["application"]["name"] == "edx.mobileapp.android"
    assert mobile["block"] == V1  # event.module_id
    anonymous = stored(db, 26)
    assert anonymous["ip"] == "anon_5f3c9d2e71ab"  # already anonymised: kept
    assert "username" not in anonymous and "user_id" not in anonymous["context"]
    assert anonymous["event"] == ""
    # +05:30 is stored as UTC; an IPv6 address keeps its /48.
    outline = stored(db, 36)
    assert outline["time"] == datetime(2026, 3, 3, 18, 0, 30, tzinfo=UTC)
    assert outline["ip"] == "2001:db8:4f2a::"
    assert stored(db, 35)["time"] == datetime(2026, 3, 3, 18, 0, 0, tzinfo=UTC)  # "Z"


def test_ip_storage_hash_applies_to_imported_events(db, settings):
    hashed = settings.replace({"ip_storage": "hash"})
    import_files(db, hashed, LOG)
    assert len(stored(db, 5)["ip"]) == 32 and "." not in stored(db, 5)["ip"]
    assert stored(db, 26)["ip"] == "anon_5f3c9d2e71ab"


def test_the_error_report_names_the_file_the_line_and_the_reason(db, settings, tmp_path):
    report = tmp_path / "errors.jsonl"
    _, errors = import_files(db, settings, LOG, LOG_GZ, errors=report)
    records = [json.loads(text) for text in report.read_text().splitlines()]
    assert [(Path(r["file"]).name, r["line"]) for r in records] == [
        ("tracking.log", 41),
        ("tracking.log", 42),
        ("tracking.log", 44),
        ("tracking.log", 45),
        ("tracking.log-20260304.gz", 10),
    ]
    reasons = [r["reason"] for r in records]
    assert reasons[0].startswith("not JSON")
    assert reasons[1:] == [
        "no time (nor timestamp)",
        "time 'yesterday' is not an ISO 8601 time",
        "not a JSON object but an array",
        "no event_type (nor name) string",
    ]
    assert errors.count == 5


def test_a_second_import_stores_nothing(db, settings):
    import_files(db, settings, LOG, LOG_GZ)
    before = db[EDX_EVENTS.name].count_documents({})
    again, _ = import_files(db, settings, LOG, LOG_GZ)
    # The checkpoints say both files were read to their end.
    assert (again.lines, again.stored, again.resumed_after) == (0, 0, 57)
    # Read again from the start: every event is already stored.
    restarted, _ = import_files(db, settings, LOG, LOG_GZ, restart=True)
    assert (restarted.lines, restarted.stored, restarted.already_stored) == (57, 0, 50)
    assert db[EDX_EVENTS.name].count_documents({}) == before


def test_bzip2_zip_and_standard_input_give_the_same_events(db, settings, tmp_path, monkeypatch):
    import_files(db, settings, LOG, LOG_GZ)
    expected = sorted(d["log_id"] for d in db[EDX_EVENTS.name].find({}, {"log_id": 1}))
    data = LOG.read_bytes()
    day3 = gzip.decompress(LOG_GZ.read_bytes())
    (tmp_path / "a.log.bz2").write_bytes(bz2.compress(day3))
    with zipfile.ZipFile(tmp_path / "logs.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("day1.log", b"".join(data.splitlines(keepends=True)[:20]))
        archive.writestr("day2.log", b"".join(data.splitlines(keepends=True)[20:]))
    for files in (["a.log.bz2", "logs.zip"], ["-"]):
        other = mongo_database(
            settings.replace({"mongo_db": settings.servers.mongo_db + "b"}).servers
        )
        init_db(other)
        try:
            stdin = io.TextIOWrapper(io.BytesIO(data + day3))
            monkeypatch.setattr(sys, "stdin", stdin)
            summary, _ = import_files(
                other, settings, *[f if f == "-" else tmp_path / f for f in files]
            )
            got = sorted(d["log_id"] for d in other[EDX_EVENTS.name].find({}, {"log_id": 1}))
            assert got == expected, files
            assert summary.errors == 5
        finally:
            other.client.drop_database(other.name)
            other.client.close()


def test_a_compressed_stream_resumes_at_a_decompressed_offset(tmp_path):
    path = tmp_path / "x.log.gz"
    path.write_bytes(gzip.compress(b"one\ntwo\nthree\n"))
    with Source(str(path), path).open() as stream:
        assert [(x.number, x.end, x.text) for x in stream.lines(4, 2)] == [
            (2, 8, b"two\n"),
            (3, 14, b"three\n"),
        ]


def big_log(path: Path, copies: int) -> Path:
    """The fixture's lines again and again, each copy's learners renamed (new events)."""
    lines = LOG.read_bytes().splitlines(keepends=True)
    with gzip.open(path, "wb", compresslevel=1) as out:
        for copy in range(copies):
            for text in lines:
                out.write(text.replace(b'"username": "', f'"username": "c{copy}-'.encode()))
    return path


def test_an_import_killed_half_way_resumes_to_the_same_result_as_one_run(db, settings, tmp_path):
    log = big_log(tmp_path / "big.log.gz", 300)  # 14,100 lines
    env = settings_env(settings)
    command = [sys.executable, "-m", "footfall", "import", "edx", str(log), "--json"]
    command += ["--batch-size", "100", "--errors", str(tmp_path / "errors.jsonl")]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    checkpoints = db[EDX_IMPORTS.name]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = checkpoints.find_one({})
        if found is not None and found["line"] >= 1000:
            break
        assert process.poll() is None, "the import ended before it could be killed"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    killed_at = checkpoints.find_one({})
    assert killed_at is not None and killed_at["finished_at"] is None
    assert 1000 <= killed_at["line"] < 14_100

    resumed = subprocess.run(command, env=env, capture_output=True, check=True, timeout=300)
    summary = json.loads(resumed.stdout)
    assert summary["resumed_after"] == killed_at["line"]
    assert summary["lines"] == 14_100 - killed_at["line"]

    # The same file in one run, into another database.
    one_run = settings.replace({"mongo_db": settings.servers.mongo_db + "one"})
    other = mongo_database(one_run.servers)
    init_db(other)
    try:
        import_files(other, one_run, log, batch_size=1000)

        def contents(database: Database) -> list[tuple[str, datetime, str]]:
            docs = database[EDX_EVENTS.name].find(
                {}, {"_id": 0, "log_id": 1, "time": 1, "event_type": 1}
            )
            return sorted((d["log_id"], d["time"], d["event_type"]) for d in docs)

        assert contents(db) == contents(other)
        assert len(contents(db)) == 300 * 41
    finally:
        other.client.drop_database(other.name)
        other.client.close()
    errors = [json.loads(t) for t in (tmp_path / "errors.jsonl").read_text().splitlines()]
    assert {(e["line"] - 1) % 47 + 1 for e in errors} == {41, 42, 44, 45}


@pytest.mark.parametrize("kind", ["table", "json"])
def test_the_command_prints_a_summary(settings: Settings, db, tmp_path, kind):
    args = [sys.executable, "-m", "footfall", "import", "edx", str(LOG_GZ)]
    args += ["--errors", str(tmp_path / "e.jsonl")] + (["--json"] if kind == "json" else [])
    done = subprocess.run(
        args, env=settings_env(settings), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    if kind == "json":
        assert json.loads(done.stdout)["stored"] == 9
    else:
        assert "stored: 9" in done.stdout and "errors: 1" in done.stdout
        assert "tracking.log-20260304.gz:10: no event_type (nor name) string" in done.stderr


def test_times_are_stored_with_their_milliseconds_in_utc():
    from footfall.edx.mapping import parse_line

    doc = parse_line(b'{"event_type": "x", "time": "2026-03-02T10:00:05.123456-05:00"}')
    assert doc["time"] == datetime(2026, 3, 2, 15, 0, 5, 123000, tzinfo=UTC)
    naive = parse_line(b'{"event_type": "x", "time": "2026-03-02T10:00:05"}')
    assert naive["time"] == datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise():
    from footfall.edx.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = Progress(terminal)
    bar.start("tracking.log.gz", 10_000_000)
    bar.update(5_000_000, 40_000)
    bar.finish()
    assert "tracking.log.gz:  50%|" in terminal.getvalue()
    assert "lines/s" in terminal.getvalue()
    log = io.StringIO()
    plain = Progress(log, every_s=0)
    plain.start("x.log.gz", 1000)
    plain.update(500, 10)
    plain.finish()
    assert log.getvalue().startswith("x.log.gz: 10 lines, 500 bytes 50%, ")
    assert "\r" not in log.getvalue()
