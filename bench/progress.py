"""Progress bench: tutorial progress events/s through the flusher, beside raw insert_many.

Run: `.venv/bin/python bench/progress.py` (see `--help`). About a minute on 2 cores.

Everything runs on servers the bench starts itself (embedded Valkey and SecantusDB, as
`tests/conftest.py` does) and `footfall flush` as production runs it. The stream is
pre-filled with progress events through `Streams.enqueue`, the flusher is started, and
the clock runs from its first read until nothing is pending: every event is then kept
raw in `progress_events`, merged into its state, and the state's derived fields stored.

Two orders of the same events are measured:
- live: every batch holds one event per state (learners' players each report a minute,
  interleaved), so a batch of N events is N upserts; the usual shape of traffic;
- backfill: each learner's minutes arrive together (a client replaying its buffer), so
  the events of one state are combined into one upsert.

Beside them, the store's own limit for these events: `insert_many` of the same events
into a collection with the `progress_events` validator and indexes. Figures are
printed, never asserted; throughput on a busy 2-core machine moves by a factor of 2.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo.database import Database
from redis import Redis
from servers import Child, CpuMeter, make_settings, start_flusher, start_servers, wait_group

from footfall.connections import mongo_database, redis_client
from footfall.events import Received, TutorialProgress
from footfall.sinks import BY_STREAM
from footfall.store.collections import PROGRESS_EVENTS, TUTORIAL_PROGRESS
from footfall.store.schema import init_db
from footfall.store.streams import Entry, Message, Streams

LABEL_WIDTH = 36
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MINUTES = 10  # a 10-minute tutorial: one event per minute watched


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Tutorial progress events/s through `footfall flush`, on embedded servers.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--learners", type=int, default=1000, help="learners, one state each")
    parser.add_argument("--batch", type=int, default=500, help="FLUSH_BATCH_SIZE")
    return parser.parse_args(argv)


def progress(text: str) -> None:
    """Progress to stderr, figures to stdout."""
    print(f"  .. {text}", file=sys.stderr, flush=True)


def line(label: str, text: str) -> None:
    print(f"{label:<{LABEL_WIDTH}} {text}", flush=True)


def payloads(learners: int, run: str, *, interleaved: bool) -> list[bytes]:
    """Each learner watches one 10-minute tutorial, one event a minute, as queued."""
    received = Received(at=datetime.now(UTC))
    order = (
        [(minute, learner) for minute in range(MINUTES) for learner in range(learners)]
        if interleaved
        else [(minute, learner) for learner in range(learners) for minute in range(MINUTES)]
    )
    return [_event(run, learner, minute, received) for minute, learner in order]


def _event(run: str, learner: int, minute: int, received: Received) -> bytes:
    body = {
        "log_id": f"{run}-{learner}-{minute}",
        "username": f"{run}-learner-{learner}",
        "course_id": "python",
        "tutorial_id": "getting-started",
        "language": "English",
        "visit_id": f"visit-{learner}",
        "at": (T0 + timedelta(minutes=minute, seconds=learner % 60)).isoformat(),
        "position_s": minute * 60 + 5,
        "duration_s": 600,
    }
    return TutorialProgress.accept(body, received).message()


def flush_run(
    stack: ExitStack, workdir: Path, settings: Any, name: str, entries: list[bytes], mongo_pid: int
) -> dict[str, Any]:
    """Pre-fill the stream, run `footfall flush`, time its first read to drained."""
    redis, db = redis_client(settings.servers), mongo_database(settings.servers)
    init_db(db)
    streams = Streams(redis, settings.queue.stream_prefix, settings.queue.idempotency_ttl_s)
    streams.ensure_group(BY_STREAM)
    progress(f"{name}: pre-filling the stream with {len(entries):,} progress events")
    for start in range(0, len(entries), 500):
        chunk = entries[start : start + 500]
        streams.enqueue([Message(TUTORIAL_PROGRESS.name, payload) for payload in chunk])
    progress(f"{name}: running footfall flush until the stream is drained")
    flusher = start_flusher(stack, settings, workdir)
    stream = streams.stream(TUTORIAL_PROGRESS.name)
    meters = CpuMeter([flusher.pid]), CpuMeter([mongo_pid])
    elapsed = time_drain(redis, stream, len(entries), flusher, meters)
    flusher.stop()
    return {
        "events": len(entries),
        "seconds": elapsed,
        "events_per_s": len(entries) / elapsed,
        "flusher_cpu_us": meters[0].used / len(entries) * 1e6,
        "secantusdb_cpu_us": meters[1].used / len(entries) * 1e6,
        "check": check(db, len(entries)),
    }


def time_drain(
    redis: Redis, stream: str, count: int, flusher: Child, meters: tuple[CpuMeter, ...]
) -> float:
    """From the group's first delivery (start-up left out) to nothing pending or unread."""
    started = wait_group(redis, stream, flusher, lambda g: g["pending"] > 0 or g["lag"] < count)
    with ExitStack() as metering:
        for meter in meters:
            metering.enter_context(meter)
        ended = wait_group(redis, stream, flusher, lambda g: g["pending"] == 0 and g["lag"] == 0)
    return ended - started


def check(db: Database, events: int) -> str:
    """Every event kept raw, every learner's state complete (10 of 10 minutes)."""
    raw = db[PROGRESS_EVENTS.name].count_documents({})
    states = db[TUTORIAL_PROGRESS.name].count_documents({})
    done = db[TUTORIAL_PROGRESS.name].count_documents({"completed": True, "watched_minutes": 10})
    ok = raw == events and states == done == events // MINUTES
    return f"{'ok' if ok else 'WRONG'}: {raw:,} raw, {states:,} states, {done:,} completed"


def raw_insert(db: Database, entries: list[bytes], batch: int, mongo_pid: int) -> dict[str, Any]:
    """insert_many of the same events into a collection defined like progress_events."""
    decoded, _ = BY_STREAM[TUTORIAL_PROGRESS.name].decode(
        [Entry(TUTORIAL_PROGRESS.name, str(i), p) for i, p in enumerate(entries)]
    )
    docs = [doc for _, doc in decoded]
    db.create_collection(
        "raw_progress",
        validator=PROGRESS_EVENTS.validator,
        validationLevel="strict",
        validationAction="error",
    )
    db["raw_progress"].create_indexes(PROGRESS_EVENTS.indexes)
    with CpuMeter([mongo_pid]) as cpu:
        started = time.perf_counter()
        for start in range(0, len(docs), batch):
            db["raw_progress"].insert_many(docs[start : start + batch], ordered=False)
        elapsed = time.perf_counter() - started
    return {
        "events_per_s": len(docs) / elapsed,
        "seconds": elapsed,
        "secantusdb_cpu_us": cpu.used / len(docs) * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    events = args.learners * MINUTES
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="footfall-bench-") as tmp:
        workdir = Path(tmp)
        servers = start_servers(stack, workdir)
        mongo_pid = servers.pids()["secantusdb"]
        line("machine", f"{sys.platform}, python {sys.version.split()[0]}")
        line(
            "events",
            f"{events:,} ({args.learners:,} learners x {MINUTES} minutes), "
            f"FLUSH_BATCH_SIZE {args.batch}",
        )
        figures = {}
        for name, interleaved in (("live", True), ("backfill", False)):
            run = f"p{uuid.uuid4().hex[:8]}"
            settings = make_settings(
                servers.valkey.url, servers.mongo.uri, run, flush_batch_size=args.batch
            )
            entries = payloads(args.learners, run, interleaved=interleaved)
            figures[name] = f = flush_run(stack, workdir, settings, name, entries, mongo_pid)
            line(
                f"flusher, {name} order",
                f"{f['events_per_s']:>8,.0f} events/s  {f['events']:,} in {f['seconds']:.2f} s; "
                f"CPU flusher {f['flusher_cpu_us']:.0f} us/event, SecantusDB "
                f"{f['secantusdb_cpu_us']:.0f} us/event; {f['check']}",
            )
        progress("raw insert_many of the same events")
        raw_db = mongo_database(make_settings(servers.valkey.url, servers.mongo.uri, "rawprog"))
        raw = raw_insert(raw_db, entries, args.batch, mongo_pid)
        line(
            "raw insert_many (progress_events)",
            f"{raw['events_per_s']:>8,.0f} events/s  SecantusDB {raw['secantusdb_cpu_us']:.0f} "
            "us/event",
        )
        for name, f in figures.items():
            line(
                f"ratio flusher {name} / insert_many",
                f"{f['events_per_s'] / raw['events_per_s']:.2f}",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
