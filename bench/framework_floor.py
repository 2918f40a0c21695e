"""Requests/s of an empty connexion FlaskApp on this machine: the framework's own limit.

Run beside `bench/ingest.py` to see how much of the single-event POST cost is the
framework (routing, validation, the a2wsgi bridge to Flask) and how much is Footfall's.

    .venv/bin/python bench/framework_floor.py [--workers 2] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from footfall.embedded import free_port

HERE = Path(__file__).parent
BODY = '{"path": "/watch/Python/Getting-started/English/", "username": "asha"}'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk); nothing measured")
        return 1
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "floor.app:make",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/pageviews"
        _wait(url)
        print(
            f"empty connexion FlaskApp, {args.workers} workers, {args.connections} conns: "
            f"{_wrk(url, args.connections, args.duration)}"
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    return 0


def _wait(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        url, data=BODY.encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(request, timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _wrk(url: str, connections: int, seconds: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f"wrk.method = 'POST'\nwrk.body = '{BODY}'\n"
            "wrk.headers['Content-Type'] = 'application/json'\n"
        )
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    figures = {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if line.strip().startswith(("50%", "99%", "Requests/sec:"))
    }
    return (
        f"{float(figures['Requests/sec:']):,.0f} req/s, p50 {figures['50%']}, p99 {figures['99%']}"
    )


if __name__ == "__main__":
    sys.exit(main())
