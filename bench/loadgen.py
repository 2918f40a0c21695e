"""Load generators: `wrk` when installed, else a lean asyncio keep-alive client.

On two cores the generator competes with the API for CPU, so it has to be cheap per
request: wrk (C, one thread) costs a few percent of a core; the fallback writes
prebuilt request bytes on raw sockets and parses only the status line and length, so
no HTTP library runs in the hot loop. Both report the same `LoadResult`.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Counts the events a response accepted (0: the request failed).
Check = Callable[[int, bytes], int]


@dataclass
class LoadResult:
    generator: str
    connections: int
    duration_s: float
    requests: int
    events: int
    errors: int
    p50_ms: float
    p99_ms: float
    #: CPU the generator itself used, to show it left the cores to the server.
    client_cpu_s: float = 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.duration_s if self.duration_s else 0.0

    @property
    def client_cpu_share(self) -> float:
        """The generator's CPU as a share of one core over the run."""
        return self.client_cpu_s / self.duration_s if self.duration_s else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    found = wrk_path()
    if not found:
        return "not installed"
    out = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).splitlines()
    return first[0].split(" [")[0] if first else "unknown"


# ---------------------------------------------------------------- wrk

_WRK_LUA = """
local bodies = { %(bodies)s }
local prepared = {}
local n = 0

function init(args)
  for i, body in ipairs(bodies) do
    local headers = { %(headers)s }
    prepared[i] = wrk.format("POST", "%(path)s", headers, body)
  end
end

function request()
  n = n %% #prepared + 1
  return prepared[n]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "FOOTFALL_WRK {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%.1f, " ..
    "\\"p99_us\\": %%.1f, \\"connect\\": %%d, \\"read\\": %%d, \\"write\\": %%d, " ..
    "\\"status\\": %%d, \\"timeout\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _lua_script(path: str, bodies: list[bytes], headers: dict[str, str]) -> str:
    """wrk cycles through these bodies; Lua long strings need no escaping of JSON."""
    quoted = ", ".join(f"[==[{body.decode()}]==]" for body in bodies)
    fields = {"Content-Type": "application/json", **headers}
    table = ", ".join(f'["{name}"] = [==[{value}]==]' for name, value in fields.items())
    return _WRK_LUA % {"bodies": quoted, "path": path, "headers": table}


def wrk_load(
    base_url: str,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    connections: int,
    duration_s: float,
    tmp: Path,
) -> LoadResult:
    """One wrk thread: it needs far less than a core, leaving both cores to the server."""
    script = tmp / "footfall-bench.lua"
    script.write_text(_lua_script(path, bodies, headers))
    command = [
        wrk_path() or "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url,
    ]
    before = _children_cpu()
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60)
    client_cpu = _children_cpu() - before
    line = next((s for s in out.stdout.splitlines() if s.startswith("FOOTFALL_WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    figures = json.loads(line.removeprefix("FOOTFALL_WRK "))
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        generator="wrk",
        connections=connections,
        duration_s=figures["duration_us"] / 1e6,
        requests=figures["requests"],
        events=figures["requests"] - figures["status"],
        errors=errors,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        client_cpu_s=client_cpu,
    )


def _children_cpu() -> float:
    """CPU of the waited-for children (wrk): counted once wrk has exited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- asyncio raw sockets


def http_request(
    host: str, port: int, path: str, body: bytes, headers: dict[str, str] | None = None
) -> bytes:
    """A complete keep-alive POST, built once and replayed byte for byte."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        return status, await reader.readexactly(int(head[at + 17 : end]))
    if b"\r\ntransfer-encoding: chunked" in lower:
        return status, await _read_chunked(reader)
    raise RuntimeError("response with neither Content-Length nor chunked encoding")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    events: int = 0
    errors: int = 0


#: What a run of connections gives back: its tally and the seconds it took.
Run = tuple[_Tally, float]


async def _connection(
    host: str, port: int, requests: list[bytes], deadline: float, check: Check, tally: _Tally
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = 0
    try:
        while time.perf_counter() < deadline:
            request = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            writer.write(request)
            status, body = await _read_response(reader)
            tally.latencies.append(time.perf_counter() - started)
            accepted = check(status, body)
            tally.events += accepted
            tally.errors += accepted == 0
    finally:
        writer.close()


async def _run(
    host: str, port: int, requests: list[bytes], connections: int, duration_s: float, check: Check
) -> Run:
    tally = _Tally()
    started = time.perf_counter()
    deadline = started + duration_s
    await asyncio.gather(
        *(
            _connection(host, port, requests[i:] + requests[:i], deadline, check, tally)
            for i in range(connections)
        )
    )
    return tally, time.perf_counter() - started


def socket_load(
    host: str,
    port: int,
    requests: list[bytes],
    connections: int,
    duration_s: float,
    check: Check,
) -> LoadResult:
    """N keep-alive connections, each sending its next request when the answer is in."""
    run = _run(host, port, requests, connections, duration_s, check)
    return _measured("asyncio raw-socket", connections, run)


def _measured(generator: str, connections: int, run: Coroutine[Any, Any, Run]) -> LoadResult:
    """Drive `run` on uvloop (asyncio without it) and sum up its tally."""
    cpu_before = time.process_time()
    try:
        import uvloop

        tally, elapsed = uvloop.run(run)
    except ImportError:
        tally, elapsed = asyncio.run(run)
    ordered = sorted(tally.latencies)
    return LoadResult(
        generator=generator,
        connections=connections,
        duration_s=elapsed,
        requests=len(ordered),
        events=tally.events,
        errors=tally.errors,
        p50_ms=percentile(ordered, 0.50) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        client_cpu_s=time.process_time() - cpu_before,
    )


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest rank on an already sorted list; 0 for no samples."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---------------------------------------------------------------- paced (open loop)


async def _paced_run(
    host: str,
    port: int,
    requests: list[bytes],
    rate: float,
    connections: int,
    duration_s: float,
    check: Check,
) -> Run:
    """Requests sent at `rate`, each due at its own time, whatever the answers do.

    A request waits for a free connection when all are busy; its latency counts from
    when it was due, so a slow answer also shows in the requests queued behind it
    (no coordinated omission, as a closed-loop client like wrk would have).
    """
    tally = _Tally()
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(await asyncio.open_connection(host, port))

    async def one(due: float, request: bytes) -> None:
        reader, writer = await free.get()
        writer.write(request)
        status, body = await _read_response(reader)
        tally.latencies.append(time.perf_counter() - due)
        accepted = check(status, body)
        tally.events += accepted
        tally.errors += accepted == 0
        free.put_nowait((reader, writer))

    started = time.perf_counter()
    tasks = []
    for index in range(int(rate * duration_s)):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, requests[index % len(requests)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    while not free.empty():
        free.get_nowait()[1].close()
    return tally, elapsed


def paced_load(
    host: str,
    port: int,
    requests: list[bytes],
    rate: float,
    connections: int,
    duration_s: float,
    check: Check,
) -> LoadResult:
    """`rate` requests a second for `duration_s` over up to `connections` connections."""
    return _measured(
        f"asyncio paced, {rate:,.0f} req/s",
        connections,
        _paced_run(host, port, requests, rate, connections, duration_s, check),
    )
