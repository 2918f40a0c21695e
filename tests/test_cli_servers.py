"""The commands find a running `footfall dev` by themselves, and say in one line when a
server cannot be reached."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from footfall.embedded import free_port
from tests.test_cli import start_dev, stop_dev

COMMANDS = [
    ["keys", "list"],
    ["keys", "create", "--name", "tool", "--scope", "ingest"],
    ["keys", "revoke", "0123456789ab"],
    ["events", "unmapped"],
    ["init-db"],
]


def footfall(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`footfall ARGS` as a user runs it: no REDIS_URL or MONGO_URI exported."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MONGO_URI")}
    return subprocess.run(
        [sys.executable, "-m", "footfall", *args],
        cwd=cwd,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_command_works_next_to_a_running_dev_without_urls(tmp_path):
    data = tmp_path / "data"
    process, printed = start_dev(data, free_port())
    try:
        created = footfall(COMMANDS[1], tmp_path, DATA_DIR=str(data))
        assert created.returncode == 0, created.stderr
        lines = dict(line.split(": ", 1) for line in created.stdout.splitlines())
        request = urllib.request.Request(
            f"{printed['api']}/pageviews",
            data=json.dumps({"path": "/"}).encode(),
            headers={"Content-Type": "application/json", "X-API-Key": lines["key"]},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202  # the key is in dev's own database
        listed = footfall(["keys", "list"], tmp_path, DATA_DIR=str(data))
        assert lines["key id"] in listed.stdout
        revoked = footfall(["keys", "revoke", lines["key id"]], tmp_path, DATA_DIR=str(data))
        assert revoked.returncode == 0, revoked.stderr
        for args in (["events", "unmapped"], ["init-db"]):
            done = footfall(args, tmp_path, DATA_DIR=str(data))
            assert done.returncode == 0, (args, done.stderr)
    finally:
        stop_dev(process)
    assert not (data / "servers.json").exists()  # dev forgets its servers when it stops


def _closed_port() -> int:
    return free_port()  # free: nothing listens on it


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_without_a_server_a_command_says_so_in_one_line_and_fails_fast(tmp_path, args):
    uri = f"mongodb://ann:s3cret@127.0.0.1:{_closed_port()}/"
    started = time.monotonic()
    done = footfall(args, tmp_path, MONGO_URI=uri, DATA_DIR=str(tmp_path / "none"))
    elapsed = time.monotonic() - started
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "MongoDB cannot be reached at" in line and "MONGO_URI" in line
    assert uri.replace("s3cret", "***") in line and "s3cret" not in line
    assert elapsed < 6, elapsed  # a short reachability timeout, not MONGO_TIMEOUT_MS


@pytest.mark.parametrize("command", ["serve", "flush"])
def test_the_servers_commands_name_redis_when_it_is_down(tmp_path, command):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    done = footfall([command], tmp_path, REDIS_URL=url, DATA_DIR=str(tmp_path / "none"))
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert f"Redis cannot be reached at {url} (set REDIS_URL" in line


def test_a_record_left_by_a_dev_that_is_gone_is_not_used(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    uri = f"mongodb://127.0.0.1:{_closed_port()}/"
    record = {
        "pid": int(gone.stdout),
        "redis_url": "redis://127.0.0.1:1/0",
        "mongo_uri": uri,
        "api": "http://127.0.0.1:1/api/v1",
    }
    (data / "servers.json").write_text(json.dumps(record))
    done = footfall(["keys", "list"], tmp_path, DATA_DIR=str(data))
    assert done.returncode != 0
    assert uri not in done.stderr
    assert "(set MONGO_URI, or start `scripts/dev`" in done.stderr
