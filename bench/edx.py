"""edX import bench: parse and map alone, the import end to end beside raw insert_many,
and the import's peak memory for a file and one ten times larger.

Run: `.venv/bin/python bench/edx.py` (see `--help`); a few minutes on 2 cores.

The tracking logs are generated (bench/edx_data.py, gzip) in a temporary directory, and
an embedded SecantusDB is started there, as `tests/conftest.py` does. Figures are
printed, never asserted:

- parse + map: `footfall.edx.mapping.parse_line` and the IP step
  (`footfall.edx.privacy`) over lines already in memory, one thread: lines/s on one core
  (target >= 50,000);
- import end to end: `Importer.run` on the gzip file (read, decompress, parse, map,
  insert, checkpoints) into a fresh database, beside `insert_many` of the same
  documents (mapped outside the clock) in batches of the same size into another fresh
  database with the same validator and indexes: documents/s each, and their ratio
  (target >= 0.8);
- peak memory: `footfall import edx` as a user runs it, on the file and on one ten
  times larger, each into a fresh database; VmHWM of the process (target: within 20%).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.edx_data import write
from bench.servers import make_settings, settings_env
from footfall.connections import mongo_database
from footfall.edx.errors import ErrorReport
from footfall.edx.importer import Importer
from footfall.edx.mapping import LineError, parse_line
from footfall.edx.privacy import EdxPrivacy
from footfall.edx.progress import Progress
from footfall.edx.reader import sources
from footfall.embedded import EmbeddedMongo
from footfall.settings import Settings
from footfall.store.collections import EDX_EVENTS
from footfall.store.schema import init_db


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def read_lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as data:
        return [line.strip() for line in data]


def parse_and_map(path: Path, settings: Settings, batch: int) -> float:
    lines = read_lines(path)
    privacy = EdxPrivacy(settings)
    started = time.process_time()
    wall = time.perf_counter()
    docs = []
    for line in lines:
        try:
            docs.append(parse_line(line))
        except LineError:
            continue
        if len(docs) == batch:
            privacy.apply(docs)
            docs = []
    privacy.apply(docs)
    cpu = time.process_time() - started
    wall = time.perf_counter() - wall
    log(f"parse+map: {len(lines):,} lines in {cpu:.2f} s CPU ({wall:.2f} s wall)")
    return len(lines) / cpu


def import_end_to_end(path: Path, settings: Settings, batch: int) -> tuple[float, int]:
    db = mongo_database(settings.servers)
    init_db(db)
    importer = Importer(db, settings, ErrorReport(None), Progress(io.StringIO()), batch_size=batch)
    started = time.perf_counter()
    summary = importer.run(sources([str(path)]))
    elapsed = time.perf_counter() - started
    stored = db[EDX_EVENTS.name].count_documents({})
    assert stored == summary.stored, (stored, summary.stored)
    db.client.close()
    return summary.stored / elapsed, summary.stored


def raw_insert_many(path: Path, settings: Settings, batch: int) -> tuple[float, int]:
    privacy = EdxPrivacy(settings)
    documents = [parse_line(line) for line in read_lines(path)]
    privacy.apply(documents)
    batches = [documents[i : i + batch] for i in range(0, len(documents), batch)]
    db = mongo_database(settings.servers)
    init_db(db)
    mongo = db[EDX_EVENTS.name]
    started = time.perf_counter()
    for chunk in batches:
        mongo.insert_many(chunk, ordered=False)
    elapsed = time.perf_counter() - started
    assert mongo.count_documents({}) == len(documents)
    db.client.close()
    return len(documents) / elapsed, len(documents)


def peak_memory(path: Path, settings: Settings, workdir: Path) -> tuple[int, float, dict]:
    """VmHWM (KiB) of `footfall import edx` on `path`, its duration and its summary."""
    command = [sys.executable, "-m", "footfall", "import", "edx", str(path), "--json"]
    command += ["--errors", str(workdir / "errors.jsonl")]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=settings_env(settings),
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    peak = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    out, _ = process.communicate()
    assert process.returncode == 0, process.returncode
    return peak, time.perf_counter() - started, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000, help="lines of the base file")
    parser.add_argument("--rounds", type=int, default=2, help="raw and import runs, alternated")
    parser.add_argument(
        "--scale", type=int, default=10, help="the larger file is this many times larger"
    )
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    figures: dict[str, object] = {"lines": args.lines, "scale": args.scale, "load_average": load}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="edx-bench-")))
        large_lines = args.lines * args.scale
        log(f"load average {load:.2f}; generating {args.lines:,} and {large_lines:,} lines")
        base = write(workdir / "tracking.log.gz", args.lines)
        big = write(workdir / "tracking-big.log.gz", args.lines * args.scale, seed=13)
        mongo = EmbeddedMongo(workdir / "mongo").start()
        stack.callback(mongo.stop)

        def settings(name: str) -> Settings:
            return make_settings("redis://127.0.0.1:1/0", mongo.uri, name)

        rate = parse_and_map(base, settings("parse"), args.batch_size)
        figures["parse_map_lines_per_s"] = round(rate)
        print(f"parse + map, one core:          {rate:>10,.0f} lines/s   (target >= 50,000)")

        # Alternated, best of each: the first writes to a cold server, and a shared
        # machine's load moves from second to second.
        imported = raw = 0.0
        for round_ in range(args.rounds):
            raw_rate, inserted = raw_insert_many(base, settings(f"raw{round_}"), args.batch_size)
            rate, stored = import_end_to_end(base, settings(f"imported{round_}"), args.batch_size)
            log(f"round {round_ + 1}: raw {raw_rate:,.0f} docs/s, import {rate:,.0f} docs/s")
            raw, imported = max(raw, raw_rate), max(imported, rate)
        ratio = imported / raw
        figures.update(
            import_docs_per_s=round(imported), raw_docs_per_s=round(raw), ratio=round(ratio, 3)
        )
        print(
            f"import end to end:              {imported:>10,.0f} docs/s    ({stored:,} documents)"
        )
        print(f"raw insert_many, same docs:     {raw:>10,.0f} docs/s    ({inserted:,} documents)")
        print(f"ratio import / raw:             {ratio:>10.2f}           (target >= 0.80)")

        small_kib, small_s, small = peak_memory(base, settings("memsmall"), workdir)
        log(f"base file: peak {small_kib} KiB, {small_s:.1f} s, {small['stored']:,} stored")
        large_kib, large_s, large = peak_memory(big, settings("memlarge"), workdir)
        growth = large_kib / small_kib - 1
        figures.update(
            peak_kib=small_kib,
            peak_kib_large=large_kib,
            growth=round(growth, 3),
            large_import_docs_per_s=round(large["stored"] / large_s),
        )
        print(f"peak RSS, {args.lines:>9,} lines:     {small_kib / 1024:>10.1f} MiB")
        print(
            f"peak RSS, {large_lines:>9,} lines:     {large_kib / 1024:>10.1f} MiB"
            f"   ({growth:+.1%}; target within 20%)"
        )
        print(
            f"import of the larger file:      {large['stored'] / large_s:>10,.0f} docs/s"
            "    (the whole command, start-up included)"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
