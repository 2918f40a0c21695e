"""The API's metrics: requests by operation and status, latency by operation, and events
accepted, duplicate and rejected by kind (rejections by reason).

Built once per worker by the app factory. Under `footfall serve` the values live in
PROMETHEUS_MULTIPROC_DIR, so a scrape of any worker (or of serve's own METRICS_PORT)
adds up every worker; without it (tests, a bare `create_app`) each app counts in a
registry of its own.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from connexion import FlaskApp
from connexion.middleware import MiddlewarePosition
from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client import Counter as PromCounter
from prometheus_client.multiprocess import MultiProcessCollector
from redis import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from footfall.metrics import multiprocess, tally
from footfall.metrics.queue import QueueCollector
from footfall.settings import Settings
from footfall.sinks import BY_STREAM, KINDS

#: Rejected before the ingest core saw the request, by the answer's status.
_REASON_BY_STATUS: dict[int, tally.Reason] = {
    400: "schema",
    415: "schema",
    422: "schema",
    413: "size",
    401: "auth",
    403: "auth",
    429: "rate",
    503: "unavailable",
}


class ApiMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = PromCounter(
            "footfall_http_requests",
            "API requests answered, by operation and status.",
            ["operation", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "footfall_http_request_duration_seconds",
            "Time to answer an API request, by operation.",
            ["operation"],
            registry=registry,
        )
        self.accepted = PromCounter(
            "footfall_events_accepted", "Events queued, by kind.", ["kind"], registry=registry
        )
        self.duplicate = PromCounter(
            "footfall_events_duplicate",
            "Events whose log_id was queued before (not queued again), by kind.",
            ["kind"],
            registry=registry,
        )
        self.rejected = PromCounter(
            "footfall_events_rejected",
            "Events refused, by kind and reason (schema, size, auth, rate, queue_full,"
            " unavailable); a request refused before its body was read counts once, as"
            " its operation's kind (`batch` for a batch).",
            ["kind", "reason"],
            registry=registry,
        )

    def count(self, recorded: tally.Tally) -> None:
        # Added up first: a batch's 500 events are one increment per label, not 500 (each
        # is a label lookup and, under `footfall serve`, a locked write to a shared file).
        for (kind, outcome, reason), times in Counter(recorded.events).items():
            if outcome == "accepted":
                self.accepted.labels(kind).inc(times)
            elif outcome == "duplicate":
                self.duplicate.labels(kind).inc(times)
            else:
                self.rejected.labels(kind, reason or "schema").inc(times)


#: Where the app keeps the function that gives the registry a scrape reads.
EXTENSION = "footfall.metrics"


def install(app: FlaskApp, spec: dict[str, Any], redis: Redis, prefix: str) -> None:
    """The middleware that counts (outermost: call it before adding the others), and the
    registry `GET /metrics` reads (`footfall.handlers.metrics`)."""
    metrics, registry = build(redis, prefix, list(BY_STREAM))
    kinds = {kind.__spec_schema__: name for name, kind in KINDS.items()}  # type: ignore[attr-defined]
    operations = Operations(spec, spec["servers"][0]["url"], kinds)
    app.add_middleware(
        RequestMetrics,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        metrics=metrics,
        operations=operations,
    )
    app.app.extensions[EXTENSION] = registry


def build(redis: Redis, prefix: str, streams: list[str]) -> tuple[ApiMetrics, Callable[[], Any]]:
    """This worker's metrics, and the registry a scrape of `/metrics` reads."""
    if multiprocess():
        metrics = ApiMetrics(None)  # values in files; every worker's are read at scrape
        return metrics, lambda: scrape_registry(redis, prefix, streams)
    own = CollectorRegistry()
    own.register(QueueCollector(redis, prefix, streams))
    return ApiMetrics(own), lambda: own


def scrape_registry(redis: Redis, prefix: str, streams: list[str]) -> CollectorRegistry:
    """Every API worker's values (PROMETHEUS_MULTIPROC_DIR) and the queue's."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(QueueCollector(redis, prefix, streams))
    return registry


def serve_internal(settings: Settings, redis: Redis) -> None:
    """`footfall serve`'s keyless listener on METRICS_PORT (when set), beside its workers."""
    port = settings.metrics.metrics_port
    if port is not None:
        registry = scrape_registry(redis, settings.queue.stream_prefix, list(BY_STREAM))
        start_http_server(port, addr=settings.metrics.metrics_host, registry=registry)


class Operations:
    """The spec's operations by method and path, and the event kind each one takes."""

    def __init__(self, spec: dict[str, Any], base: str, kinds_by_schema: dict[str, str]) -> None:
        self.routes: list[tuple[str, re.Pattern[str], str, str | None]] = []
        for path, item in spec["paths"].items():
            pattern = re.compile(base + re.sub(r"\{[^}]+\}", "[^/]+", path) + "/?$")
            for method, operation in item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                label = operation["operationId"].removeprefix("footfall.handlers.")
                body = operation.get("requestBody", {}).get("content", {})
                ref = body.get("application/json", {}).get("schema", {}).get("$ref", "")
                schema = ref.rsplit("/", 1)[-1]
                kind = "batch" if schema == "Batch" else kinds_by_schema.get(schema)
                self.routes.append((method.upper(), pattern, label, kind))

    def find(self, method: str, path: str) -> tuple[str, str | None]:
        for route_method, pattern, label, kind in self.routes:
            if route_method == method and pattern.match(path):
                return label, kind
        return "unmatched", None


class RequestMetrics:
    """ASGI middleware, outermost: times and counts every request, and counts its events
    from the ingest core's tally (or, refused before the core, from its status)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, operations: Operations) -> None:
        self.app = app
        self.metrics = metrics
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        recorded = tally.Tally()
        token = tally.current.set(recorded)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            tally.current.reset(token)
            operation, kind = self.operations.find(scope["method"], scope["path"])
            self.metrics.requests.labels(operation, str(status["code"])).inc()
            self.metrics.latency.labels(operation).observe(time.perf_counter() - started)
            reason = _REASON_BY_STATUS.get(status["code"])
            if kind is not None and not recorded.events and reason is not None:
                recorded.events.append((kind, "rejected", reason))
            self.metrics.count(recorded)
