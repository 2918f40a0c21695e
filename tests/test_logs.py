"""Logs: a visitor's mistake is one INFO line, a server error one ERROR with its
traceback; JSON lines by a setting; the entry points configure logging, not the app."""

from __future__ import annotations

import json
import logging
import socket

import pytest

from footfall import logs
from footfall.app import create_app
from tests.conftest import keyed_client, make_key

TEXT = {"Content-Type": "text/plain"}


def _records_of(caplog: pytest.LogCaptureFixture, name: str = "footfall.requests"):
    return [record for record in caplog.records if record.name == name]


def test_a_client_error_is_one_info_line_and_nothing_louder(client, caplog):
    with caplog.at_level(logging.DEBUG):
        response = client.post("/api/v1/pageviews", json={"path": "no-slash", "colour": "red"})
    assert response.status_code == 422
    (record,) = _records_of(caplog)
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("422 POST /api/v1/pageviews: 2 fields invalid")
    assert (record.status, record.method, record.path) == (422, "POST", "/api/v1/pageviews")
    assert record.exc_info is None
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/usage-logs?per_page=abc", 400),
        ("GET", "/api/v1/usage-logs/nothing-here", 404),
        ("POST", "/api/v1/pageviews", 415),
    ],
)
def test_each_kind_of_client_error_is_logged_once_at_info(client, caplog, method, path, status):
    with caplog.at_level(logging.DEBUG):
        response = client.request(method, path, content=b"x", headers=TEXT)
    assert response.status_code == status
    assert [r.levelno for r in _records_of(caplog)] == [logging.INFO]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_error_is_one_error_record_with_its_traceback(settings, db, redis, caplog):
    down = f"mongodb://127.0.0.1:{_closed_port()}/?directConnection=true"
    app = create_app(settings.replace({"mongo_uri": down, "mongo_timeout_ms": 200}))
    client = app.test_client(headers={"X-API-Key": make_key(db, "read")})
    with caplog.at_level(logging.DEBUG):
        response = client.get("/api/v1/usage-logs")
    assert response.status_code == 503
    (record,) = _records_of(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert "Traceback" in caplog.text


@pytest.fixture
def restored_logging():
    """dictConfig replaces the root logger's handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_log_format_json_writes_one_json_object_per_line(
    settings, app, db, capsys, restored_logging
):
    logs.configure(settings.replace({"log_format": "json"}))
    client = keyed_client(app, db)
    assert client.get("/api/v1/usage-logs?page=0").status_code == 400
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (line,) = [entry for entry in lines if entry["logger"] == "footfall.requests"]
    assert line["level"] == "INFO"
    assert (line["status"], line["method"], line["path"]) == (400, "GET", "/api/v1/usage-logs")
    assert line["message"].startswith("400 GET /api/v1/usage-logs: 1 parameter invalid")
    assert "time" in line


def test_log_format_text_is_one_line_per_record(settings, app, db, capsys, restored_logging):
    logs.configure(settings)
    client = keyed_client(app, db)
    assert client.get("/api/v1/usage-logs?page=0").status_code == 400
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "footfall.requests" in x]
    assert " INFO footfall.requests: 400 GET /api/v1/usage-logs: 1 parameter invalid" in line


def test_the_app_factory_leaves_logging_to_the_entry_points(settings, db, redis):
    root = logging.getLogger()
    before = (root.handlers[:], root.level)
    create_app(settings)
    assert (root.handlers, root.level) == before
    # Only pymongo's DEBUG records (learner token secrets in replies) are kept quiet.
    assert logging.getLogger("pymongo").level == logging.INFO
