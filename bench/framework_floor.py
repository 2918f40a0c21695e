"""Requests/s of an empty connexion FlaskApp on this machine: the framework's own limit.

`bench/ingest.py` measures this floor in its own run, with the same load, bodies and
worker count as Footfall's single-event POST, and prints the ratio beside it. Alone:

    .venv/bin/python bench/framework_floor.py [--workers 2] [--connections 16]

The app (`floor/app.py`) is connexion's default FlaskApp, untuned: its a2wsgi bridge,
its jsonschema validator. What Footfall's POST costs above it is Footfall's own work;
what Footfall answers beyond it is the framework's waste that Footfall removed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import payloads
from loadgen import LoadResult, wrk_load, wrk_path
from servers import CpuMeter, child_pids, stop_group, wait_url

from footfall.embedded import free_port

HERE = Path(__file__).parent
PATH = "/api/v1/pageviews"


@contextmanager
def floor_server(workers: int, factory: str = "make") -> Iterator[tuple[str, list[int]]]:
    """The empty FlaskApp under uvicorn as `footfall serve` runs it: (origin, its pids).

    `factory`: `make` (connexion's default) or `make_bridged` (with Footfall's bridge).
    """
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"floor.app:{factory}",
            "--port",
            str(port),
            "--workers",
            str(workers),
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
        origin = f"http://127.0.0.1:{port}"
        wait_url(f"{origin}/api/v1/ui/", server)
        yield origin, [server.pid, *child_pids(server.pid)]
    finally:
        stop_group(server)


def measure(
    origin: str, pids: list[int], bodies: list[bytes], connections: int, seconds: float, tmp: Path
) -> tuple[LoadResult, float]:
    """wrk against the floor; its result and the server's CPU per request (ms)."""
    wrk_load(origin, PATH, bodies, {}, connections, 1, tmp)  # warm-up
    with CpuMeter(pids) as cpu:
        result = wrk_load(origin, PATH, bodies, {}, connections, seconds, tmp)
    return result, cpu.used * 1000 / max(1, result.requests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument(
        "--bridged", action="store_true", help="with Footfall's bridge instead of a2wsgi"
    )
    args = parser.parse_args()
    if wrk_path() is None:
        print("wrk is not installed (apt-get install wrk); nothing measured")
        return 1
    bodies = payloads.json_bodies(payloads.page_views(64))
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        origin, pids = stack.enter_context(
            floor_server(args.workers, "make_bridged" if args.bridged else "make")
        )
        result, cpu_ms = measure(origin, pids, bodies, args.connections, args.duration, tmp)
    print(
        f"empty connexion FlaskApp{' (bridged)' if args.bridged else ''}, "
        f"{args.workers} workers, {args.connections} conns: "
        f"{result.requests_per_s:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, server CPU {cpu_ms:.3f} ms/req"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
