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


def multiprocess_dir(port: int) -> Path:
    """The directory the API workers share their values in, emptied of a previous run's:
    PROMETHEUS_MULTIPROC_DIR when set, else one of this user's for this port (reused by
    the next `serve` on it, so none pile up), set for the workers."""
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
    else:
        base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
        path = base / f"footfall-metrics-{os.getuid()}-{port}"
        path.mkdir(mode=0o700, exist_ok=True)
        if path.is_symlink() or path.stat().st_uid != os.getuid():
            raise PermissionError(f"{path} is not this user's own directory")
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[ENV] = str(path)
    return path


def multiprocess() -> bool:
    return bool(os.environ.get(ENV))
