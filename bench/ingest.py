"""Ingest bench: how fast Footfall takes events in and stores them, against raw limits.

Run: `.venv/bin/python bench/ingest.py` (see `--help` and bench/README.md).

Everything is measured in one run on this machine, against real servers the bench
starts itself (embedded Valkey and SecantusDB) and the API as production runs it
(`footfall serve`, uvicorn workers). Each throughput is set beside the raw limit of the
server behind it (pipelined XADD for the queue, `insert_many` for the store), so a
slow figure can be told apart from a slow machine. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import orjson
import payloads
from framework_floor import floor_server
from framework_floor import measure as measure_floor
from loadgen import (
    LoadResult,
    http_request,
    paced_load,
    socket_load,
    wrk_load,
    wrk_path,
    wrk_version,
)
from pymongo import ASCENDING, GEOSPHERE, IndexModel
from pymongo.database import Database
from redis import Redis
from servers import (
    Child,
    CpuMeter,
    Servers,
    api_rss,
    child_pids,
    make_settings,
    rss_mib,
    start_api,
    start_flusher,
    start_servers,
    wait_group,
)

from footfall.connections import mongo_database, redis_client
from footfall.embedded import free_port
from footfall.events import PageView
from footfall.settings import Settings
from footfall.sinks import BY_STREAM
from footfall.store.collections import PAGEVIEWS, Collection
from footfall.store.schema import init_db
from footfall.store.streams import Message, Streams

# The targets of issue 13, all ratios within this run (printed, never asserted).
TARGET_SINGLE_OVER_FLOOR = 1.5
TARGET_BATCH_OVER_XADD = 0.5
TARGET_BATCH_CPU_US = 60.0
TARGET_P99_OVER_P50 = 5.0
TARGET_FLUSH_OVER_BARE = 0.5

# Indexes a page view collection had before each had to serve a read: their cost is
# printed beside the defined ones' (bench/README.md).
DROPPED_PAGEVIEW_INDEXES = [
    IndexModel([("location", GEOSPHERE)], name="location_2dsphere"),
    IndexModel([("path", ASCENDING)], name="path"),
]

PAGEVIEWS_PATH = "/api/v1/pageviews"
BATCH_PATH = "/api/v1/batch"
LABEL_WIDTH = 42

Loader = Callable[[int, float], LoadResult]

RATIO_LABELS = {
    "single_over_floor": "single req/s / empty FlaskApp req/s",
    "single_cpu_over_floor_cpu": "  API CPU per request / the floor's",
    "flusher_over_raw_insert_as_pageviews": "flusher / insert_many, as pageviews",
    "flusher_over_raw_insert_as_pageviews_from_cpu": "  the same, from CPU per doc",
    "flusher_over_raw_insert_bare": "flusher / insert_many, bare",
    "batch_events_over_raw_xadd": "batch events/s / raw XADD",
    "p99_over_p50_at_half_rate": "p99 / p50 at half the max single rate",
}


@dataclass
class Report:
    """Every figure of the run; printed as it comes and written whole with --json."""

    machine: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    rss_mib: dict[str, Any] = field(default_factory=dict)

    def line(self, label: str, text: str) -> None:
        print(f"{label:<{LABEL_WIDTH}} {text}", flush=True)


def progress(text: str) -> None:
    """Progress goes to stderr, so stdout holds the figures alone."""
    print(f"  .. {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure Footfall's ingest path (API, queue, flusher) against raw "
        "Valkey XADD and MongoDB insert_many, on servers the bench starts itself. "
        "The defaults take 4 to 6 minutes on 2 cores.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--workers", type=int, default=2, help="API worker processes (footfall serve)")
    add("--connections", type=int, default=16, help="keep-alive connections, single POST")
    add("--duration", type=float, default=10.0, help="seconds per measured HTTP load")
    add("--warmup", type=float, default=2.0, help="seconds of unmeasured load before each")
    add("--batch-items", type=int, default=500, help="events per /batch request")
    add("--batch-connections", type=int, default=4, help="concurrent /batch requests")
    add("--xadd-entries", type=int, default=100_000, help="entries for the raw XADD figure")
    add("--flush-events", type=int, default=10_000, help="events pre-filled for the flusher")
    add("--insert-batch", type=int, default=500, help="documents per raw insert_many")
    add("--index-docs", type=int, default=3_000, help="documents per index cost figure")
    add(
        "--generator",
        choices=["auto", "wrk", "socket"],
        default="auto",
        help="single-event load generator: wrk if installed (auto), or the asyncio client",
    )
    add("--json", type=Path, default=None, metavar="PATH", help="also write figures as JSON")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM both unwind the ExitStack; SIGINT is set explicitly because a
    # shell starting the bench in the background leaves it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)
    report = Report(machine=machine_facts(args))
    try:
        with ExitStack() as stack:
            run(args, stack, report)
    except KeyboardInterrupt:
        print("interrupted: servers and subprocesses stopped", file=sys.stderr)
        return 130
    except RuntimeError as error:  # a server or the API did not start, or died
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_bytes(orjson.dumps(asdict(report), option=orjson.OPT_INDENT_2))
        print(f"figures written to {args.json}")
    return 0


def _interrupted(*_: object) -> NoReturn:
    """SIGTERM unwinds like Ctrl-C, so the ExitStack stops every server."""
    raise KeyboardInterrupt


def machine_facts(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": wrk_version(),
        "api_workers": args.workers,
        "load_average_at_start": os.getloadavg()[0],
    }


def run(args: argparse.Namespace, stack: ExitStack, report: Report) -> None:
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="footfall-bench-")))
    progress("starting Valkey and SecantusDB")
    servers = start_servers(stack, tmp)
    name = f"bench{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        servers.valkey.url,
        servers.mongo.uri,
        name,
        workers=args.workers,
        max_batch_items=max(500, args.batch_items),
    )
    # As `footfall init-db` would before a deploy; `serve` runs it again on start.
    db = mongo_database(settings.servers)
    stack.callback(db.client.close)
    init_db(db)
    redis = redis_client(settings.servers)
    stack.callback(redis.close)
    bodies = payloads.page_views(2000)
    entries = payloads.stream_payloads(bodies, args.flush_events)
    singles = payloads.json_bodies(bodies[:64])
    print_header(report, args, entries)
    generator = choose_generator(args.generator)
    counts = sorted({1, args.workers})

    for workers in counts:
        floors(args, report, workers, singles, tmp)

    progress(f"starting the API: footfall serve --workers {args.workers}")
    child, base = start_api(stack, settings, tmp, args.workers, free_port())
    api = Api(child, base, ingest_headers(settings))
    http_phases(args, report, api, generator, singles, bodies, tmp)
    check_queued(report, redis, f"{name}:{PAGEVIEWS.name}")
    with_flusher(args, report, stack, api, settings, generator, singles, tmp)
    report.rss_mib["api"] = api_rss(child)
    child.stop()
    for workers in counts:
        if workers != args.workers:
            progress(f"starting the API: footfall serve --workers {workers}")
            other, other_base = start_api(stack, settings, tmp, workers, free_port())
            measure_single(args, report, Api(other, other_base, api.headers), generator, singles,
                           tmp, workers)
            other.stop()

    raw_xadd(args, report, redis, servers, f"{name}:raw", entries)
    single_event_breakdown(args, report, redis, name, bodies, entries[0])
    storage_phases(args, report, stack, servers, tmp, entries)
    report.rss_mib["servers"] = {k: rss_mib(pid) for k, pid in servers.pids().items()}
    summarise(args, report)


def floors(
    args: argparse.Namespace, report: Report, workers: int, bodies: list[bytes], tmp: Path
) -> None:
    """The empty connexion FlaskApp, default and with Footfall's bridge, same load."""
    if wrk_path() is None:
        progress("wrk is not installed: no framework floor (apt-get install wrk)")
        return
    variants = [("make", "default")]
    if importlib.util.find_spec("footfall.web.bridge") is not None:
        variants.append(("make_bridged", "bridged"))
    else:  # a Footfall from before the bridge (comparing with an older version)
        progress("footfall.web.bridge is not there: no bridged floor")
    for factory, label in variants:
        progress(f"empty connexion FlaskApp ({label}), {workers} workers")
        with floor_server(workers, factory) as (origin, pids):
            result, cpu_ms = measure_floor(
                origin, pids, bodies, args.connections, args.duration, tmp
            )
        key = f"floor_{label}_{workers}w"
        report.figures[key] = _load_figures(result) | {"api_cpu_ms_per_request": cpu_ms}
        what = (
            "connexion's default (a2wsgi), the floor"
            if label == "default"
            else "with footfall.web.bridge: the framework's own cost"
        )
        report.line(
            f"empty FlaskApp, {label}, {workers} worker{'s' if workers > 1 else ''}",
            f"{result.requests_per_s:>8,.0f} req/s     p50 {result.p50_ms:.2f} ms, "
            f"p99 {result.p99_ms:.2f} ms; CPU {cpu_ms:.3f} ms/req; {what}",
        )


def print_header(report: Report, args: argparse.Namespace, entries: list[bytes]) -> None:
    size = statistics.fmean(len(p) for p in entries)
    report.machine["stream_payload_bytes"] = round(size)
    m = report.machine
    print(
        f"footfall ingest bench: {m['cores']} cores, Python {m['python']}, "
        f"{m['api_workers']} API workers, {args.connections} conns single / "
        f"{args.batch_connections} conns batch, page view payload {size:.0f} B, "
        f"load average {m['load_average_at_start']:.1f} at start",
        flush=True,
    )


# ---------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Api:
    """The running API and what a request to it needs."""

    child: Child
    base: str  # http://127.0.0.1:PORT/api/v1
    headers: dict[str, str]

    @property
    def port(self) -> int:
        return int(self.base.split(":")[2].split("/")[0])

    def pids(self) -> list[int]:
        """uvicorn's supervisor and its workers."""
        return [self.child.pid, *child_pids(self.child.pid)]

    def request(self, path: str, body: bytes) -> bytes:
        return http_request("127.0.0.1", self.port, path, body, self.headers)


def ingest_headers(settings: Settings) -> dict[str, str]:
    """An `X-API-Key` with the ingest scope, when this Footfall has API keys.

    The key's own rate is set far above anything two cores reach: the rate limiter
    still runs on every request, as in production, but never refuses one.
    """
    try:
        from footfall.security import keys
    except ImportError:  # a Footfall from before API keys
        return {}
    db = mongo_database(settings.servers)
    try:
        created = keys.create(db, "bench", ["ingest"], rate=keys.Rate(1e9, 10**9))
    finally:
        db.client.close()
    return {"X-API-Key": created.secret}


def http_phases(
    args: argparse.Namespace,
    report: Report,
    api: Api,
    generator: str,
    singles: list[bytes],
    bodies: list[dict[str, Any]],
    tmp: Path,
) -> None:
    accepted = measure_single(args, report, api, generator, singles, tmp, args.workers)
    accepted += measure_serial_and_paced(args, report, api, generator, singles, tmp)
    _check_alive(api.child)
    progress(f"batch POST, {args.batch_items} items, {args.batch_connections} connections")
    accepted += measure_batch(args, report, api, bodies)
    _check_alive(api.child)
    report.figures["accepted_events_total"] = accepted
    # wrk stops with requests in flight: the server may queue them, wrk never counts them.
    in_flight = 2 * args.connections + 1 if generator.startswith("wrk") else 0
    report.figures["uncounted_in_flight_at_most"] = in_flight


def check_queued(report: Report, redis: Redis, stream: str) -> None:
    """Every 202 and every accepted receipt must be an entry in the stream (none flushed)."""
    accepted, queued = report.figures["accepted_events_total"], int(redis.xlen(stream))
    in_flight = report.figures["uncounted_in_flight_at_most"]
    report.figures["queued_events_total"] = queued
    verdict = "match" if accepted == queued else "MISMATCH"
    if accepted < queued <= accepted + in_flight:
        verdict = f"match, with {queued - accepted} left in flight when wrk stopped"
    report.line(
        "accepted by the API vs queued in Valkey",
        f"{accepted:>8,} accepted, {queued:,} stream entries: {verdict}",
    )


def measure_single(
    args: argparse.Namespace,
    report: Report,
    api: Api,
    generator: str,
    singles: list[bytes],
    tmp: Path,
    workers: int,
    label: str = "",
) -> int:
    """Throughput at N connections beside the floor of the same workers; the events."""
    progress(f"single-event POST, {workers} workers, {args.connections} connections{label}")
    load = single_loader(generator, api, singles, tmp)
    warmup = load(args.connections, args.warmup)
    with CpuMeter(api.pids()) as cpu:
        single = load(args.connections, args.duration)
    cpu_ms = _per(cpu.used * 1000, single.events)
    key = f"single_{workers}w{label.replace(' ', '_')}"
    report.figures[key] = _load_figures(single) | {"api_cpu_ms_per_request": cpu_ms}
    floor = report.figures.get(f"floor_default_{workers}w")
    beside = (
        f"; {single.events_per_s / floor['requests_per_s']:.2f}x the floor"
        if floor and not label
        else ""
    )
    report.line(
        f"single-event POST, {workers} worker{'s' if workers > 1 else ''}{label}",
        f"{single.events_per_s:>8,.0f} req/s     p50 {single.p50_ms:.2f} ms, "
        f"p99 {single.p99_ms:.2f} ms, {single.connections} conns, {single.duration_s:.0f} s, "
        f"{single.generator} (client CPU {single.client_cpu_share:.0%} of a core), "
        f"{_errors(single, api, PAGEVIEWS_PATH, singles[0])}; API CPU {cpu_ms:.3f} ms/req"
        f"{beside}",
    )
    return warmup.events + single.events


def measure_serial_and_paced(
    args: argparse.Namespace,
    report: Report,
    api: Api,
    generator: str,
    singles: list[bytes],
    tmp: Path,
) -> int:
    """One connection (the latency of a request alone), then half the max rate paced."""
    load = single_loader(generator, api, singles, tmp)
    with CpuMeter(api.pids()) as cpu:
        serial = load(1, min(args.duration, 3.0))
    report.figures["single_1conn"] = _load_figures(serial) | {
        "api_cpu_ms_per_request": _per(cpu.used * 1000, serial.events)
    }
    rate = report.figures[f"single_{args.workers}w"]["events_per_s"] / 2
    progress(f"single-event POST paced at {rate:,.0f} req/s (half the max)")
    requests = [api.request(PAGEVIEWS_PATH, body) for body in singles]
    paced = paced_load(
        "127.0.0.1", api.port, requests, rate, args.connections, args.duration, _single_check
    )
    report.figures["single_half_rate"] = _load_figures(paced)
    report.line(
        "single-event POST at half the max rate",
        f"{paced.requests_per_s:>8,.0f} req/s     p50 {paced.p50_ms:.2f} ms, "
        f"p99 {paced.p99_ms:.2f} ms (p99 = {paced.p99_ms / max(paced.p50_ms, 1e-9):.1f} x p50),"
        f" open loop, latency from when each was due, {paced.connections} conns at most, "
        f"{_errors(paced, api, PAGEVIEWS_PATH, singles[0])}",
    )
    return serial.events + paced.events


def with_flusher(
    args: argparse.Namespace,
    report: Report,
    stack: ExitStack,
    api: Api,
    settings: Settings,
    generator: str,
    singles: list[bytes],
    tmp: Path,
) -> None:
    """The single-event load again while a flusher drains the stream into SecantusDB."""
    flusher = start_flusher(stack, settings, tmp)
    db = mongo_database(settings.servers)
    try:
        wait_for(lambda: db[PAGEVIEWS.name].estimated_document_count() > 0, flusher)
        before = db[PAGEVIEWS.name].estimated_document_count()
        started = time.perf_counter()
        measure_single(
            args, report, api, generator, singles, tmp, args.workers, " + flusher"
        )
        stored = db[PAGEVIEWS.name].estimated_document_count() - before
        rate = stored / (time.perf_counter() - started)
        report.figures[f"single_{args.workers}w_+_flusher"]["flusher_docs_per_s"] = rate
        report.line("  the flusher meanwhile", f"{rate:>8,.0f} docs/s    stored while it ran")
    finally:
        flusher.stop()
        db.client.close()


def wait_for(condition: Callable[[], bool], child: Child, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if not child.alive():
            raise RuntimeError(f"{child.name} died:\n{child.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{child.name}: nothing happened in {timeout_s} s")
        time.sleep(0.1)


def measure_batch(
    args: argparse.Namespace, report: Report, api: Api, bodies: list[dict[str, Any]]
) -> int:
    """The batch path with the asyncio client (a few large requests cost it little CPU)."""
    batches = payloads.batch_bodies(bodies, args.batch_items, 4)
    requests = [api.request(BATCH_PATH, body) for body in batches]
    check = _batch_check(args.batch_items)
    conns = args.batch_connections
    warmup = socket_load("127.0.0.1", api.port, requests, conns, args.warmup, check)
    with CpuMeter(api.pids()) as cpu:
        batch = socket_load("127.0.0.1", api.port, requests, conns, args.duration, check)
    cpu_us = _per(cpu.used * 1e6, batch.events)
    report.figures["batch"] = _load_figures(batch) | {
        "items_per_request": args.batch_items,
        "api_cpu_us_per_event": cpu_us,
    }
    report.line(
        f"batch POST /api/v1/batch ({args.batch_items}/req)",
        f"{batch.events_per_s:>8,.0f} events/s  {batch.requests_per_s:.1f} req/s, "
        f"p50 {batch.p50_ms:.0f} ms, p99 {batch.p99_ms:.0f} ms, {conns} conns, "
        f"{batch.generator} (client CPU {batch.client_cpu_share:.0%} of a core), "
        f"{_errors(batch, api, BATCH_PATH, batches[0], 'all accepted')}; "
        f"API CPU {cpu_us:.0f} us/event",
    )
    return warmup.events + batch.events


def _per(total: float, count: int) -> float:
    return total / count if count else float("nan")


def _errors(result: LoadResult, api: Api, path: str, body: bytes, ok: str = "0 errors") -> str:
    """`ok`, or the error count with one failing answer, so a broken run says why."""
    if result.errors == 0:
        return ok
    return f"{result.errors:,} FAILED requests (one answer: {sample_answer(api, path, body)})"


def sample_answer(api: Api, path: str, body: bytes) -> str:
    headers = {"Content-Type": "application/json", **api.headers}
    request = urllib.request.Request(api.base + path.removeprefix("/api/v1"), body, headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return f"HTTP {answer.status} {answer.read(200)!r}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.read(200)!r}"
    except OSError as error:
        return f"{type(error).__name__}: {error}"


def _load_figures(result: LoadResult) -> dict[str, Any]:
    return asdict(result) | {
        "requests_per_s": result.requests_per_s,
        "events_per_s": result.events_per_s,
        "client_cpu_share_of_a_core": result.client_cpu_share,
    }


def choose_generator(wanted: str) -> str:
    if wanted == "wrk" and wrk_path() is None:
        raise SystemExit("--generator wrk: wrk is not installed (apt-get install wrk)")
    if wanted == "socket" or wrk_path() is None:
        if wanted == "auto":
            print(
                "hint: wrk is not installed (apt-get install wrk); using the asyncio "
                "client, which takes CPU from the API on 2 cores",
                flush=True,
            )
        return "asyncio raw-socket"
    return f"wrk ({wrk_version()}, 1 thread)"


def single_loader(generator: str, api: Api, bodies: list[bytes], tmp: Path) -> Loader:
    """A function running the single-event load for (connections, seconds)."""
    if generator.startswith("wrk"):
        origin = api.base.removesuffix("/api/v1")

        def with_wrk(conns: int, secs: float) -> LoadResult:
            return wrk_load(origin, PAGEVIEWS_PATH, bodies, api.headers, conns, secs, tmp)

        return with_wrk
    requests = [api.request(PAGEVIEWS_PATH, body) for body in bodies]

    def with_sockets(conns: int, secs: float) -> LoadResult:
        return socket_load("127.0.0.1", api.port, requests, conns, secs, _single_check)

    return with_sockets


def _single_check(status: int, body: bytes) -> int:
    return 1 if status == 202 and b'"accepted"' in body else 0


def _batch_check(items: int) -> Callable[[int, bytes], int]:
    """Events the receipts say were accepted; 0 (an error) unless every one was."""

    def check(status: int, body: bytes) -> int:
        if status != 200:
            return 0
        answer = orjson.loads(body)
        receipts = answer["receipts"]
        ok = answer["accepted"] == items == len(receipts)
        return items if ok and all(r["status"] == "accepted" for r in receipts) else 0

    return check


def _check_alive(api: Child) -> None:
    if not api.alive():
        raise RuntimeError(f"the API died:\n{api.log_tail()}")


# ---------------------------------------------------------------- the queue


def raw_xadd(
    args: argparse.Namespace,
    report: Report,
    redis: Redis,
    servers: Servers,
    stream: str,
    entries: list[bytes],
) -> None:
    """Pipelined XADD of real payloads, a batch a round trip: what Valkey takes from Python."""
    progress(f"raw pipelined XADD, {args.xadd_entries:,} entries")
    chunk = max(1, args.batch_items)
    valkey = [pid for key, pid in servers.pids().items() if key == "valkey"]
    with CpuMeter(valkey) as cpu:
        started = time.perf_counter()
        for start in range(0, args.xadd_entries, chunk):
            pipe = redis.pipeline(transaction=False)
            for i in range(start, min(start + chunk, args.xadd_entries)):
                pipe.xadd(stream, {"d": entries[i % len(entries)]})
            pipe.execute()
        elapsed = time.perf_counter() - started
    redis.delete(stream)
    rate = args.xadd_entries / elapsed
    valkey_us = cpu.used / args.xadd_entries * 1e6
    report.figures["raw_xadd"] = {
        "entries": args.xadd_entries,
        "pipeline": chunk,
        "seconds": elapsed,
        "entries_per_s": rate,
        "valkey_cpu_us_per_entry": valkey_us,
    }
    report.line(
        f"raw pipelined XADD ({chunk}/round trip)",
        f"{rate:>8,.0f} entries/s {args.xadd_entries:,} entries, redis-py, same Valkey; "
        f"Valkey CPU {valkey_us:.1f} us/entry (the rest is redis-py)",
    )


def single_event_breakdown(
    args: argparse.Namespace,
    report: Report,
    redis: Redis,
    name: str,
    bodies: list[dict[str, Any]],
    payload: bytes,
) -> None:
    """A single POST's API CPU, split: the framework (the bridged empty FlaskApp's CPU per
    request, same workers and load) and Footfall's own, of which two steps are measured
    in-process (the model; the enqueue round trip's client side)."""
    context = payloads.received()
    count = 3000
    started = time.process_time()
    for i in range(count):
        PageView.accept(bodies[i % len(bodies)], context).message()
    accept_ms = (time.process_time() - started) / count * 1000
    streams = Streams(redis, f"{name}-probe", 60)
    started = time.process_time()
    for _ in range(count):
        streams.enqueue([Message(PAGEVIEWS.name, payload)])
    enqueue_ms = (time.process_time() - started) / count * 1000
    redis.delete(streams.stream(PAGEVIEWS.name))
    single = report.figures[f"single_{args.workers}w"]["api_cpu_ms_per_request"]
    framework = report.figures.get(f"floor_bridged_{args.workers}w", {}).get(
        "api_cpu_ms_per_request", float("nan")
    )
    footfall = single - framework
    rest = footfall - accept_ms - enqueue_ms
    report.figures["single_cpu_breakdown_ms"] = {
        "api_cpu_per_request": single,
        "framework_bridged_empty_app": framework,
        "footfall": footfall,
        "pydantic_accept_and_encode": accept_ms,
        "enqueue_client_side": enqueue_ms,
        "footfall_rest": rest,
    }
    report.line(
        "API CPU per single POST, split",
        f"{single:.3f} ms = framework {framework:.3f} ms (uvicorn, connexion, Flask: the "
        f"bridged empty app) + Footfall {footfall:.3f} ms (model accept+encode "
        f"{accept_ms:.3f}, enqueue {enqueue_ms:.3f}, the rest {rest:.3f}: key check, "
        "rate-limit layer, a bigger spec, body limit, CORS, receipt)",
    )


# ---------------------------------------------------------------- the store


def storage_phases(
    args: argparse.Namespace,
    report: Report,
    stack: ExitStack,
    servers: Servers,
    tmp: Path,
    entries: list[bytes],
) -> None:
    """Flusher end to end, then raw insert_many of the documents it stored, same MongoDB."""
    name = f"bench{uuid.uuid4().hex[:8]}"
    settings = make_settings(servers.valkey.url, servers.mongo.uri, name)
    db = mongo_database(settings.servers)
    stack.callback(db.client.close)
    init_db(db)
    redis = redis_client(settings.servers)
    stack.callback(redis.close)
    streams = Streams(redis, settings.queue.stream_prefix, settings.queue.idempotency_ttl_s)
    mongo_pid = servers.pids()["secantusdb"]
    flusher_run(report, stack, tmp, settings, streams, db, entries, mongo_pid)
    docs = stored_documents(report, db, len(entries))
    same = raw_insert(args, db, "raw_same", docs, PAGEVIEWS.indexes, PAGEVIEWS, mongo_pid)
    bare = raw_insert(args, db, "raw_bare", docs, [], None, mongo_pid)
    report.figures["raw_insert_many"] = {"same_definition": same, "log_id_index_only": bare}
    for label, figures, what in (
        ("as pageviews", same, "validator + every pageviews index"),
        ("bare", bare, "unique log_id index only, no validator"),
    ):
        report.line(
            f"raw insert_many ({args.insert_batch}/call, {label})",
            f"{figures['docs_per_s']:>8,.0f} docs/s    {what}; the flusher's documents; "
            f"SecantusDB CPU {figures['secantusdb_cpu_us_per_doc']:.0f} us/doc",
        )
    index_costs(args, report, db, docs[: args.index_docs], mongo_pid)


def stored_documents(report: Report, db: Database, count: int) -> list[dict[str, Any]]:
    """The documents the flusher stored (enriched, with locations), without their _id."""
    docs = list(db[PAGEVIEWS.name].find({}, {"_id": 0}))
    located = sum("location" in doc for doc in docs)
    report.figures["flusher"]["with_location"] = located
    progress(f"{located:,} of {count:,} stored page views have a location")
    return docs


def index_costs(
    args: argparse.Namespace,
    report: Report,
    db: Database,
    docs: list[dict[str, Any]],
    mongo_pid: int,
) -> None:
    """Documents/s with the validator and the unique log_id index, alone and with each
    other index (the defined ones, and those dropped for serving no read)."""
    log_id = [i for i in PAGEVIEWS.indexes if i.document["name"] == "log_id_unique"]
    others = [i for i in PAGEVIEWS.indexes if i.document["name"] != "log_id_unique"]
    base = raw_insert(args, db, "idx_base", docs, log_id, PAGEVIEWS, mongo_pid)
    costs: dict[str, Any] = {"validator_and_log_id_only": base}
    report.line(
        "index cost: validator + log_id only",
        f"{base['docs_per_s']:>8,.0f} docs/s    {len(docs):,} of the stored page views; "
        f"SecantusDB CPU {base['secantusdb_cpu_us_per_doc']:.0f} us/doc",
    )
    defined = {i.document["name"] for i in others}
    dropped = [i for i in DROPPED_PAGEVIEW_INDEXES if i.document["name"] not in defined]
    for index in others + dropped:
        label = index.document["name"]
        with_it = raw_insert(
            args, db, f"idx_{label}", docs, [*log_id, index], PAGEVIEWS, mongo_pid
        )
        costs[label] = with_it
        kept = "defined" if index in others else "dropped: no read uses it"
        cpu = with_it["secantusdb_cpu_us_per_doc"]
        report.line(
            f"  + {label}",
            f"{with_it['docs_per_s']:>8,.0f} docs/s    SecantusDB CPU {cpu:.0f} us/doc, "
            f"{cpu / base['secantusdb_cpu_us_per_doc']:.2f}x ({kept})",
        )
    report.figures["index_costs"] = costs


def flusher_run(
    report: Report,
    stack: ExitStack,
    tmp: Path,
    settings: Settings,
    streams: Streams,
    db: Database,
    entries: list[bytes],
    mongo_pid: int,
) -> None:
    """Warm `footfall flush` up on the first tenth of the entries, then pre-fill the rest
    and time from its first read of them until drained: a running flusher's rate.

    A new flusher process pays once for what it meets first (device-detector compiles
    its regexes lazily, as user agents need them: over half of a cold flusher's first
    seconds, py-spy); the warm-up's time is printed beside, not in the rate.
    """
    warm, entries = entries[: len(entries) // 10], entries[len(entries) // 10 :]
    streams.ensure_group(BY_STREAM)
    stream = streams.stream(PAGEVIEWS.name)
    progress(f"warming footfall flush up on {len(warm):,} events")
    _fill(streams, warm)
    flusher = start_flusher(stack, settings, tmp)
    warm_s = time_drain(streams.redis, stream, len(warm), flusher, [])
    progress(f"pre-filling the stream with {len(entries):,} events")
    _fill(streams, entries)
    progress("running footfall flush until the stream is drained")
    flusher_cpu, mongo_cpu = CpuMeter([flusher.pid]), CpuMeter([mongo_pid])
    elapsed = time_drain(streams.redis, stream, len(entries), flusher, [flusher_cpu, mongo_cpu])
    stored = db[PAGEVIEWS.name].count_documents({}) - len(warm)
    report.rss_mib["flusher"] = rss_mib(flusher.pid)
    flusher.stop()
    figures = {
        "events": len(entries),
        "stored": stored,
        "seconds": elapsed,
        "warm_up_events": len(warm),
        "warm_up_seconds": warm_s,
        "docs_per_s": stored / elapsed,
        "batch_size": settings.flusher.flush_batch_size,
        "flusher_cpu_us_per_doc": flusher_cpu.used / len(entries) * 1e6,
        "secantusdb_cpu_us_per_doc": mongo_cpu.used / len(entries) * 1e6,
    }
    report.figures["flusher"] = figures
    note = "all stored" if stored == len(entries) else f"ONLY {stored:,} STORED"
    report.line(
        "flusher end to end (footfall flush)",
        f"{figures['docs_per_s']:>8,.0f} docs/s    {len(entries):,} events in {elapsed:.2f} s, "
        f"{note}; CPU flusher {figures['flusher_cpu_us_per_doc']:.0f} us/doc, "
        f"SecantusDB {figures['secantusdb_cpu_us_per_doc']:.0f} us/doc "
        f"(after a warm-up of {len(warm):,} in {warm_s:.2f} s)",
    )


def _fill(streams: Streams, entries: list[bytes]) -> None:
    for start in range(0, len(entries), 500):
        streams.enqueue([Message(PAGEVIEWS.name, p) for p in entries[start : start + 500]])


def time_drain(
    redis: Redis, stream: str, count: int, flusher: Child, meters: list[CpuMeter]
) -> float:
    """Seconds from the flusher's first read until every entry is acked (so stored).

    The flusher's start-up (imports, connections) is left out of the clock and of the
    CPU meters: both start when the group first shows an entry delivered.
    """
    started = wait_group(redis, stream, flusher, lambda g: g["pending"] > 0 or g["lag"] < count)
    with ExitStack() as metering:
        for meter in meters:
            metering.enter_context(meter)
        ended = wait_group(
            redis, stream, flusher, lambda g: g["pending"] == 0 and g["lag"] == 0, 0.01
        )
    return ended - started


def raw_insert(
    args: argparse.Namespace,
    db: Database,
    name: str,
    docs: list[dict[str, Any]],
    indexes: list[IndexModel],
    like: Collection | None,
    mongo_pid: int,
) -> dict[str, Any]:
    """insert_many in batches, ordered=False, into a fresh collection: the store's limit.

    With `like`, its validator and `indexes`; without, only the unique log_id index.
    """
    progress(f"raw insert_many into {name}")
    if like is None:
        db.create_collection(name)
        db[name].create_index([("log_id", ASCENDING)], unique=True, name="log_id_unique")
    else:
        db.create_collection(
            name, validator=like.validator, validationLevel="strict", validationAction="error"
        )
        db[name].create_indexes(indexes)
    copies = [dict(doc) for doc in docs]  # insert_many adds _id to what it is given
    collection = db[name]
    with CpuMeter([mongo_pid]) as cpu:
        started = time.perf_counter()
        for start in range(0, len(copies), args.insert_batch):
            collection.insert_many(copies[start : start + args.insert_batch], ordered=False)
        elapsed = time.perf_counter() - started
    stored = collection.count_documents({})
    db.drop_collection(name)
    return {
        "docs": stored,
        "seconds": elapsed,
        "docs_per_s": stored / elapsed,
        "secantusdb_cpu_us_per_doc": cpu.used / len(copies) * 1e6,
    }


# ---------------------------------------------------------------- summary


def summarise(args: argparse.Namespace, report: Report) -> None:
    f = report.figures
    print()
    report.ratios = ratios(args, f)
    for key, value in report.ratios.items():
        report.line(f"ratio {RATIO_LABELS[key]}", f"{value:>8.2f}")
    print()
    rows = [
        (
            f"single POST / floor, {args.workers} workers >=",
            report.ratios.get("single_over_floor", float("nan")),
            TARGET_SINGLE_OVER_FLOOR,
            True,
        ),
        (
            "batch events/s / raw XADD >=",
            report.ratios["batch_events_over_raw_xadd"],
            TARGET_BATCH_OVER_XADD,
            True,
        ),
        ("batch API CPU us/event <=", f["batch"]["api_cpu_us_per_event"], TARGET_BATCH_CPU_US,
         False),
        (
            "p99 / p50 at half the max rate <=",
            report.ratios["p99_over_p50_at_half_rate"],
            TARGET_P99_OVER_P50,
            False,
        ),
        (
            "flusher / insert_many bare >=",
            report.ratios["flusher_over_raw_insert_bare"],
            TARGET_FLUSH_OVER_BARE,
            True,
        ),
    ]
    for label, value, bound, at_least in rows:
        met = value >= bound if at_least else value <= bound
        verdict = "PASS" if met else "MISSED"
        report.targets.append({"target": label, "value": value, "bound": bound, "verdict": verdict})
        report.line(f"target {label} {bound:g}", f"{value:>8.2f}  {verdict}")
    print()
    print_rss(report)


def ratios(args: argparse.Namespace, f: dict[str, Any]) -> dict[str, float]:
    flush = f["flusher"]["docs_per_s"]
    raw = f["raw_insert_many"]
    xadd = f["raw_xadd"]["entries_per_s"]
    flusher = f["flusher"]
    # The flusher loop is serial (read, decode, insert, ack), so per document it costs its
    # own CPU plus the store's; from CPU alone the ratio hardly moves on a busy machine.
    flusher_cpu = flusher["flusher_cpu_us_per_doc"] + flusher["secantusdb_cpu_us_per_doc"]
    found: dict[str, float] = {}
    single, floor = f[f"single_{args.workers}w"], f.get(f"floor_default_{args.workers}w")
    if floor:
        found["single_over_floor"] = single["events_per_s"] / floor["requests_per_s"]
        found["single_cpu_over_floor_cpu"] = (
            single["api_cpu_ms_per_request"] / floor["api_cpu_ms_per_request"]
        )
    half = f["single_half_rate"]
    return found | {
        "flusher_over_raw_insert_as_pageviews": flush / raw["same_definition"]["docs_per_s"],
        "flusher_over_raw_insert_as_pageviews_from_cpu": (
            raw["same_definition"]["secantusdb_cpu_us_per_doc"] / flusher_cpu
        ),
        "flusher_over_raw_insert_bare": flush / raw["log_id_index_only"]["docs_per_s"],
        "batch_events_over_raw_xadd": f["batch"]["events_per_s"] / xadd,
        "p99_over_p50_at_half_rate": half["p99_ms"] / half["p50_ms"],
    }


def print_rss(report: Report) -> None:
    def mib(value: float | None) -> str:
        return "gone" if value is None else f"{value:.0f} MiB"

    api = ", ".join(f"{role} {mib(v)}" for role, v in report.rss_mib.get("api", {}).items())
    report.line("RSS API after the load (pid)", api)
    report.line("RSS flusher after the drain", mib(report.rss_mib.get("flusher")))
    servers = ", ".join(f"{k} {mib(v)}" for k, v in report.rss_mib.get("servers", {}).items())
    report.line("RSS servers at the end", servers)


if __name__ == "__main__":
    sys.exit(main())
