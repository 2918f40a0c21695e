"""Metrics: exact counts after a known sequence of requests and a flusher run, across the
worker processes of a real `footfall serve --workers 2`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from footfall.embedded import free_port
from tests.conftest import make_key, settings_env

API = "/api/v1"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_one_app_counts_requests_and_events_by_kind_outcome_and_reason(app, client, anonymous):
    def view(**body: str) -> int:
        return client.post(f"{API}/pageviews", json={"path": "/", **body}).status_code

    for i in range(3):
        assert view(log_id=f"v{i}") == 202
    assert view(log_id="v0") == 202  # a duplicate
    assert view(path="no-slash") == 422
    link = {"url": "https://a.example/", "page": "/"}
    assert anonymous.post(f"{API}/exit-links", json=link).status_code == 401
    items = [{"kind": "pageview", "path": "/b"}, {"kind": "exit_link", "url": "x"}, {"kind": "?"}]
    assert client.post(f"{API}/batch", json={"items": items}).status_code == 200

    scraped = client.get(f"{API}/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(scraped.text)
    rejected, requests = "footfall_events_rejected_total", "footfall_http_requests_total"
    assert value(found, "footfall_events_accepted_total", kind="pageview") == 4
    assert value(found, "footfall_events_duplicate_total", kind="pageview") == 1
    assert value(found, rejected, kind="pageview", reason="schema") == 1
    assert value(found, rejected, kind="exit_link", reason="schema") == 1
    assert value(found, rejected, kind="exit_link", reason="auth") == 1
    assert value(found, rejected, kind="unknown", reason="schema") == 1  # not the client's word
    assert value(found, requests, operation="pageviews.create", status="202") == 4
    assert value(found, requests, operation="pageviews.create", status="422") == 1
    latency = "footfall_http_request_duration_seconds_count"
    assert value(found, latency, operation="pageviews.create") == 5
    assert value(found, "footfall_queue_length", stream="pageviews") == 4
    assert value(found, "footfall_queue_lag", stream="pageviews") == 4


def wait_for(condition, timeout: float = 60.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def call(url: str, body: dict | None = None, key: str | None = None) -> tuple[int, str]:  # type: ignore[type-arg]
    """One request on a connection of its own, so that the workers share them."""
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json", **({"X-API-Key": key} if key else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def answers(url: str) -> bool:
    try:
        return call(url)[0] == 200
    except OSError:
        return False


def worker_pids(directory: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[-1] for path in directory.glob("counter_*.db")}


@pytest.fixture
def started():  # type: ignore[no-untyped-def]
    """Processes a test starts, stopped (SIGTERM, then SIGKILL) when it ends."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_two_api_workers_and_a_flusher_report_exact_counts(settings, db, redis, tmp_path, started):
    api_port, internal_port, flusher_port = free_port(), free_port(), free_port()
    env = {
        **settings_env(settings),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "METRICS_PORT": str(internal_port),
        "FLUSH_METRICS_PORT": str(flusher_port),
    }
    serve = [sys.executable, "-m", "footfall", "serve", "--workers", "2", "--port", str(api_port)]
    started.append(subprocess.Popen(serve, env=env))
    base = f"http://127.0.0.1:{api_port}{API}"
    wait_for(lambda: answers(f"{base}/health"), what="the API")
    ingest, metrics_key = make_key(db, "ingest"), make_key(db, "metrics")

    # Page views until both workers have counted some (each request on a new connection).
    sent = 0
    while len(worker_pids(tmp_path / "prometheus")) < 2:
        assert sent < 400, "one worker took every connection"
        assert call(f"{base}/pageviews", {"path": "/", "log_id": f"v{sent}"}, ingest)[0] == 202
        sent += 1
    assert call(f"{base}/pageviews", {"path": "/", "log_id": "v0"}, ingest)[0] == 202  # duplicate
    assert call(f"{base}/pageviews", {"path": "no-slash"}, ingest)[0] == 422
    assert call(f"{base}/pageviews", {"path": "/"})[0] == 401
    assert call(f"{base}/metrics", key=ingest)[0] == 403

    for text in (
        call(f"{base}/metrics", key=metrics_key)[1],
        call(f"http://127.0.0.1:{internal_port}/metrics")[1],
    ):
        found = samples(text)
        assert value(found, "footfall_events_accepted_total", kind="pageview") == sent
        assert value(found, "footfall_events_duplicate_total", kind="pageview") == 1
        assert value(found, "footfall_events_rejected_total", kind="pageview", reason="schema") == 1
        assert value(found, "footfall_events_rejected_total", kind="pageview", reason="auth") == 1
        requests = "footfall_http_requests_total"
        assert value(found, requests, operation="pageviews.create", status="202") == sent + 1
        assert value(found, requests, operation="metrics.scrape", status="403") == 1
        latency = "footfall_http_request_duration_seconds_count"
        assert value(found, latency, operation="pageviews.create") == sent + 3
        assert value(found, "footfall_queue_length", stream="pageviews") == sent

    # A replayed entry (stored already by then) and one that does not decode.
    stream = f"{settings.queue.stream_prefix}:pageviews"
    [(_, first)] = redis.xrange(stream, count=1)
    redis.xadd(stream, first)
    redis.xadd(stream, {"d": b"not json"})
    started.append(subprocess.Popen([sys.executable, "-m", "footfall", "flush"], env=env))
    wait_for(lambda: redis.xlen(stream) == 0, what="the flusher")
    wait_for(lambda: answers(f"http://127.0.0.1:{flusher_port}/metrics"), what="its metrics")
    found = samples(call(f"http://127.0.0.1:{flusher_port}/metrics")[1])
    entries = "footfall_flusher_entries_total"
    assert value(found, entries, stream="pageviews", outcome="stored") == sent + 1
    assert value(found, entries, stream="pageviews", outcome="dead_letter") == 1
    assert value(found, "footfall_flusher_duplicates_total", collection="pageviews") == 1
    assert value(found, "footfall_flusher_batches_total") == 1  # all were queued before it started
    assert value(found, "footfall_flusher_write_seconds_count") == 1
    assert value(found, "footfall_flusher_enrich_errors_total") == 0
    assert value(found, "footfall_queue_length", stream="pageviews") == 0
    assert db.pageviews.count_documents({}) == sent


def test_the_grafana_dashboard_names_only_metrics_footfall_exports(redis, settings):
    from prometheus_client import REGISTRY, CollectorRegistry

    from footfall.metrics import flusher  # noqa: F401 - registers the flusher's metrics
    from footfall.metrics.api import ApiMetrics
    from footfall.metrics.queue import QueueCollector

    registry = CollectorRegistry()
    ApiMetrics(registry)
    registry.register(QueueCollector(redis, settings.queue.stream_prefix, ["pageviews"]))
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
    exported = {
        family.name + suffix
        for source in (registry, REGISTRY)
        for family in source.collect()
        for suffix in suffixes.get(family.type, [])
    }
    dashboard = (Path(__file__).parent.parent / "docs" / "grafana-dashboard.json").read_text()
    named = set(re.findall(r"footfall_[a-z_]+", dashboard))
    assert named and named <= exported, named - exported
