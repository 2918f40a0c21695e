"""The queue as Prometheus sees it, read from Redis at each scrape: per stream, its length,
the age of its oldest entry, entries not yet read by the flushers (lag), and entries read
but not acked, per flusher (consumer)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError, ResponseError

from footfall.store.streams import GROUP


class QueueCollector(Collector):
    def __init__(self, redis: Redis, prefix: str, streams: list[str]) -> None:
        self.redis = redis
        self.prefix = prefix
        self.streams = streams

    def collect(self) -> Iterator[GaugeMetricFamily]:
        length = GaugeMetricFamily(
            "footfall_queue_length", "Entries in the stream (not stored yet).", labels=["stream"]
        )
        age = GaugeMetricFamily(
            "footfall_queue_oldest_age_seconds",
            "Age of the stream's oldest entry (0 when empty).",
            labels=["stream"],
        )
        lag = GaugeMetricFamily(
            "footfall_queue_lag", "Entries no flusher has read yet.", labels=["stream"]
        )
        pending = GaugeMetricFamily(
            "footfall_queue_pending",
            "Entries a flusher read and has not acked yet, per flusher.",
            labels=["stream", "consumer"],
        )
        up = GaugeMetricFamily("footfall_redis_up", "1 when Redis answered this scrape.")
        try:
            seconds, micros = self.redis.time()
            now_ms = seconds * 1000 + micros // 1000
            for stream in self.streams:
                self._stream(stream, now_ms, length, age, lag, pending)
            up.add_metric([], 1)
        except RedisError:
            up.add_metric([], 0)
        yield from (length, age, lag, pending, up)

    def _stream(
        self,
        stream: str,
        now_ms: int,
        length: GaugeMetricFamily,
        age: GaugeMetricFamily,
        lag: GaugeMetricFamily,
        pending: GaugeMetricFamily,
    ) -> None:
        name = f"{self.prefix}:{stream}"
        entries = int(self.redis.xlen(name))
        length.add_metric([stream], entries)
        oldest = self.redis.xrange(name, count=1)
        first_ms = int(oldest[0][0].split(b"-")[0]) if oldest else now_ms
        age.add_metric([stream], max(0, now_ms - first_ms) / 1000)
        try:
            groups = self.redis.xinfo_groups(name)
        except ResponseError:  # no stream yet
            groups = []
        group = next((g for g in groups if g["name"] in (GROUP, GROUP.encode())), None)
        # No group yet: no flusher ever read the stream, so nothing in it was read.
        lag.add_metric([stream], int(group.get("lag") or 0) if group else entries)
        if group and int(group["pending"]):
            summary = self.redis.xpending(name, GROUP)
            for consumer in summary.get("consumers") or []:
                who = consumer["name"]
                who = who.decode() if isinstance(who, bytes) else who
                pending.add_metric([stream, who], int(consumer["pending"]))
