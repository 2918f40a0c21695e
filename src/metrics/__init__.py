"""Prometheus metrics: the API's (every worker of `footfall serve`, through
prometheus-client's multiprocess mode), each flusher's (on a port of its own), and the
queue's (read from Redis at each scrape).

prometheus-client chooses, when it is first imported, whether values live in process
memory or in files under `PROMETHEUS_MULTIPROC_DIR` (shared by the workers). So the
modules that import it (`api`, `flusher`, `queue`) are imported only by what runs in a
worker or a flusher (`footfall.app`, `footfall.flusher`), after `footfall serve` has set
the directory (`multiprocess_dir`); `tally` is what the ingest core uses, and imports
nothing of it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path:
    """The directory the API workers share their values in, emptied of a previous run's:
    PROMETHEUS_MULTIPROC_DIR when set, else a new temporary one (set for the workers)."""
    given = os.environ.get(ENV)
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="footfall-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[ENV] = str(path)
    return path


def multiprocess() -> bool:
    return bool(os.environ.get(ENV))
