"""Every setting Footfall reads: one typed block per component.

Values come from the environment, then from a `.env` file in the working directory
(python-dotenv format), then from the defaults below; `.env.example` documents each.
The environment names are flat (`FLUSH_BATCH_SIZE`, not `FLUSHER__BATCH_SIZE`): each
block reads its own names, and a component is handed only its block (the flusher its
`FlusherSettings`, the enricher its `EnrichmentSettings`), so what a component can be
configured by is what its block says.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: The default of the hashing secrets: for development only (a warning says so).
DEVELOPMENT_SECRET = "footfall-dev-secret-change-me"


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class _Block(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)


class ServerSettings(_Block):
    """Where Redis and MongoDB are, and how long to wait for them."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    mongo_uri: str = "mongodb://127.0.0.1:27017/"
    mongo_db: str = "footfall"
    mongo_timeout_ms: int = Field(default=5_000, ge=100)
    # Acknowledged by how many replica set members a write is: "majority" (a failover
    # cannot roll it back), a number ("1": the primary alone), or a tag set's name.
    mongo_write_concern: str = Field(default="majority", min_length=1)
    redis_timeout_s: float = Field(default=2.0, gt=0)


class QueueSettings(_Block):
    """The Redis streams between the API and the flushers."""

    stream_prefix: str = "footfall"
    idempotency_ttl_s: int = Field(default=86_400, ge=1)
    # Overload: past this many queued (not yet stored) events in one stream, writes are
    # refused with 503; the length is read at most every STREAM_CHECK_MS per worker.
    max_stream_length: int = Field(default=1_000_000, ge=1)
    stream_check_ms: int = Field(default=250, ge=0)


class ApiSettings(_Block):
    """The HTTP API: where it listens, and what a request may hold."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=2, ge=1)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_event_bytes: int = Field(default=64 * 1024, ge=256)
    max_batch_items: int = Field(default=500, ge=1, le=500)
    future_tolerance_s: int = Field(default=300, ge=0)
    trusted_proxies: Annotated[list[IPNetwork], NoDecode] = Field(default_factory=list)
    retry_after_s: int = Field(default=5, ge=1)
    validate_responses: bool = False
    # Threads per worker for requests that may block long (MongoDB reads); the ingest
    # handlers run on the event loop (footfall.web.bridge).
    blocking_threads: int = Field(default=10, ge=1)
    # Input limits of free-form objects (view_kwargs, request_data, view_args), per field.
    max_object_depth: int = Field(default=8, ge=1, le=64)
    max_object_keys: int = Field(default=200, ge=1)

    _split_networks = field_validator("trusted_proxies", mode="before")(_comma_list)


class SecuritySettings(_Block):
    """Keys (footfall.security): key cache, learner tokens, rate limits, CORS."""

    key_cache_ttl_s: float = Field(default=5.0, ge=0)
    key_cache_size: int = Field(default=10_000, ge=1)
    learner_token_audience: str = Field(default="footfall", min_length=1)
    learner_token_max_ttl_s: int = Field(default=3_600, ge=1)
    # Token buckets: sustained requests per second and burst; 0 per second: no limit.
    rate_key_per_s: float = Field(default=5_000, ge=0)
    rate_key_burst: int = Field(default=10_000, ge=1)
    rate_browser_key_per_s: float = Field(default=200, ge=0)
    rate_browser_key_burst: int = Field(default=400, ge=1)
    rate_ip_per_s: float = Field(default=20, ge=0)
    rate_ip_burst: int = Field(default=100, ge=1)
    cors_max_age_s: int = Field(default=600, ge=0)


class FlusherSettings(_Block):
    """The flushers: batch size and wait, claims of a dead flusher's entries, retries."""

    flush_batch_size: int = Field(default=500, ge=1)
    flush_max_wait_ms: int = Field(default=200, ge=1)
    flush_claim_idle_ms: int = Field(default=60_000, ge=100)
    flush_retry_max_s: float = Field(default=30.0, gt=0)
    flush_consumer: str | None = None

    @cached_property
    def consumer_name(self) -> str:
        """This flusher's name in the consumer group: stable per process, unique per host."""
        return self.flush_consumer or f"{socket.gethostname()}-{os.getpid()}"


class ProgressSettings(_Block):
    """Tutorial progress (footfall.tutorials)."""

    # The share of a tutorial's minutes a learner must watch for it to complete by itself.
    completion_threshold: float = Field(default=0.8, gt=0, le=1)


class EnrichmentSettings(_Block):
    """What the flusher adds to a page view (footfall.enrich)."""

    # Classified user agents kept per process, in a bounded LRU (and as many device lookups).
    ua_cache_size: int = Field(default=20_000, ge=1)
    # A MaxMind City database; None: the GeoLite2 City file of `maxminddb-geolite2`.
    geoip_db: Path | None = None
    # "snapshot": the C reader on a private copy of the file (fast, immune to the file being
    # rewritten); "memory": the pure-Python reader, file in memory (MODE_MEMORY, as geoip2's
    # Reader offers it; about 6x slower per lookup).
    geoip_mode: Literal["snapshot", "memory"] = "snapshot"
    # At most this often (seconds) a batch checks whether GEOIP_DB was replaced.
    geoip_check_s: float = Field(default=5.0, ge=0)
    # Locations kept per process, by address, in a bounded LRU (emptied on a new database).
    geoip_cache_size: int = Field(default=50_000, ge=1)
    # Ordered {pattern, name} rules, YAML or JSON; None: the shipped e-learning rules.
    event_rules: Path | None = None
    # The event name of a path that no rule matches (the view is kept).
    event_default_name: str = Field(default="event.unmapped", min_length=1, max_length=128)
    # Key of the visitor hash (IP + user agent, or visitor_id). The default is for
    # development only: a warning is logged while it is in use.
    visitor_key_secret: str = Field(default=DEVELOPMENT_SECRET, min_length=1)
    # A visitor seen within this many days (sliding) is returning, else first-time.
    returning_window_days: int = Field(default=180, ge=1)


class PrivacySettings(_Block):
    """What is kept of a visitor, for every stored kind (footfall.enrich.privacy)."""

    # The stored IP: its /24 (IPv4) or /48 (IPv6) network, a keyed hash, or the address.
    ip_storage: Literal["truncate", "hash", "full"] = "truncate"
    # Key of the IP hash (IP_STORAGE=hash); same development default and warning.
    ip_hash_secret: str = Field(default=DEVELOPMENT_SECRET, min_length=1)
    # Keys of free-form fields and URL query strings whose values become "[redacted]", at
    # any depth: a key matches when, lowercased without "_", "-", "." and spaces, it
    # contains an entry. Comma-separated in the environment; empty turns redaction off.
    redact_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "password",
            "passwd",
            "pwd",
            "secret",
            "token",
            "csrfmiddlewaretoken",
            "apikey",
            "authorization",
            "cookie",
            "sessionid",
            "cardnumber",
            "creditcard",
            "ccnum",
            "cvv",
            "cvc",
        ]
    )
    # Requests with DNT: 1 / Sec-GPC: 1. "reduce": keep the event without IP, user agent and
    # what derives from them; "drop": store nothing; "ignore": treat them like any other.
    dnt_policy: Literal["reduce", "drop", "ignore"] = "reduce"

    _split_keys = field_validator("redact_keys", mode="before")(_comma_list)


class RetentionSettings(_Block):
    """How long each collection keeps a document, and how an erasure meets the queue
    (footfall.store.retention, footfall.learners)."""

    # Days a document is kept after its event time (a TTL index); 0 keeps it forever.
    retention_days_pageviews: int = Field(default=0, ge=0)
    retention_days_exit_links: int = Field(default=0, ge=0)
    retention_days_visit_durations: int = Field(default=0, ge=0)
    retention_days_edx_events: int = Field(default=0, ge=0)
    retention_days_usage_logs: int = Field(default=0, ge=0)
    retention_days_progress_events: int = Field(default=0, ge=0)
    # A tutorial state, by its last activity: its facts outlive the events they merge.
    retention_days_tutorial_states: int = Field(default=0, ge=0)
    retention_days_dead_letters: int = Field(default=0, ge=0)
    # How long an erasure waits for the events a flusher held when it began (at most).
    erasure_settle_s: float = Field(default=10.0, ge=0)


class MetricsSettings(_Block):
    """Prometheus metrics (footfall.metrics). `/api/v1/metrics` always needs a key with the
    `metrics` (or `admin`) scope; these ports serve metrics without a key, so bind them
    to an internal address."""

    # Where the keyless listeners below bind.
    metrics_host: str = "127.0.0.1"
    # `footfall serve`'s own listener: every API worker's metrics and the queue's. None: none.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # A flusher's listener: its metrics and the queue's; one port per flusher process.
    flush_metrics_port: int | None = Field(default=None, ge=1, le=65535)


class StatsSettings(_Block):
    """Statistics (footfall.stats): visits, and how often the coarse rollups are folded."""

    # A visit ends after this many minutes without a view.
    visit_idle_minutes: float = Field(default=30, gt=0, le=1440)
    # At most this often (seconds) a flusher recomputes the hour, day and month rollups
    # that changed; until then queries read the finer periods (never a stale sum).
    stats_compact_s: float = Field(default=2.0, ge=0)
    # Zones whose local days and months (and hours) compaction keeps whole, so their
    # ranges read a few documents; any other zone is answered exactly, from finer ones.
    stats_zones: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["UTC", "Asia/Kolkata"], min_length=1
    )

    _split_zones = field_validator("stats_zones", mode="before")(_comma_list)

    @field_validator("stats_zones")
    @classmethod
    def _known_zones(cls, value: list[str]) -> list[str]:
        for name in value:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{name!r} is not an IANA time zone") from None
        return value


class EmbeddedSettings(_Block):
    """The embedded servers of `footfall dev`."""

    data_dir: Path = Path(".footfall")
    dev_redis_port: int = 6390
    dev_mongo_port: int = 27090
    redis_appendfsync: Literal["always", "everysec", "no"] = "everysec"


class LogSettings(_Block):
    """Logging (footfall.logs; applied by the `footfall` commands, not by create_app)."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "text": one line per record for people; "json": one JSON object per line (time,
    # level, logger, message, and fields such as status, method and path) for collectors.
    log_format: Literal["text", "json"] = "text"


class Settings(BaseModel):
    """All the blocks. `Settings(**flat)` takes flat names, as the environment does:
    `Settings(redis_url=..., flush_batch_size=100)`."""

    model_config = ConfigDict(frozen=True)

    servers: ServerSettings
    queue: QueueSettings
    api: ApiSettings
    security: SecuritySettings
    flusher: FlusherSettings
    progress: ProgressSettings
    enrichment: EnrichmentSettings
    privacy: PrivacySettings
    retention: RetentionSettings
    stats: StatsSettings
    metrics: MetricsSettings
    embedded: EmbeddedSettings
    logging: LogSettings

    def __init__(self, _env_file: str | Path | None = ".env", **values: Any) -> None:
        blocks: dict[str, Any] = {}
        for block, model in _blocks():
            if isinstance(values.get(block), model):  # a block given whole (`replace`)
                blocks[block] = values.pop(block)
                continue
            own = {name: values.pop(name) for name in list(values) if name in model.model_fields}
            blocks[block] = model(_env_file=_env_file, **own)  # type: ignore[call-arg]
        if values:
            raise TypeError(f"unknown settings: {sorted(values)}")
        super().__init__(**blocks)

    @classmethod
    def names(cls) -> Iterator[str]:
        """Every setting's flat name, as the environment spells it (lowercased)."""
        for _, model in _blocks():
            yield from model.model_fields

    def replace(self, update: Mapping[str, Any]) -> Settings:
        """A copy with some settings changed, by flat name."""
        update = dict(update)
        blocks = {}
        for block, model in _blocks():
            own = {name: update.pop(name) for name in list(update) if name in model.model_fields}
            current = getattr(self, block)
            blocks[block] = (
                model.model_validate({**current.model_dump(), **own}) if own else current
            )
        if update:
            raise TypeError(f"unknown settings: {sorted(update)}")
        return Settings(**blocks)

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> Settings:
        """`replace`: pydantic's own would set flat names beside the blocks, unread."""
        return self.replace(update or {})

    def environ(self) -> dict[str, str]:
        """These settings as the environment variables that reproduce them, for a
        `footfall` child process (`footfall dev`, the tests and the bench start them)."""
        env = {}
        for block, _ in _blocks():
            for name, value in getattr(self, block).model_dump().items():
                if value is None:
                    continue
                if isinstance(value, list):
                    value = ",".join(str(item) for item in value)
                elif isinstance(value, bool):
                    value = str(value).lower()
                env[name.upper()] = str(value)
        return env


def _blocks() -> Iterator[tuple[str, type[_Block]]]:
    for name, field in Settings.model_fields.items():
        yield name, field.annotation  # type: ignore[misc]
