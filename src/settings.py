"""Every setting Footfall reads, in one typed object.

Values come from the environment, then from a `.env` file in the working directory
(python-dotenv format), then from the defaults below. `.env.example` documents each one.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # Servers
    redis_url: str = "redis://127.0.0.1:6379/0"
    mongo_uri: str = "mongodb://127.0.0.1:27017/"
    mongo_db: str = "footfall"
    stream_prefix: str = "footfall"
    mongo_timeout_ms: int = Field(default=5_000, ge=100)

    # API
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=2, ge=1)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_event_bytes: int = Field(default=64 * 1024, ge=256)
    max_batch_items: int = Field(default=500, ge=1, le=500)
    future_tolerance_s: int = Field(default=300, ge=0)
    trusted_proxies: Annotated[list[IPNetwork], NoDecode] = Field(default_factory=list)
    idempotency_ttl_s: int = Field(default=86_400, ge=1)
    retry_after_s: int = Field(default=5, ge=1)
    redis_timeout_s: float = Field(default=2.0, gt=0)
    validate_responses: bool = False

    # Input limits of free-form objects (view_kwargs, request_data, view_args), per field.
    max_object_depth: int = Field(default=8, ge=1, le=64)
    max_object_keys: int = Field(default=200, ge=1)
    # Overload: past this many queued (not yet stored) events in one stream, writes are
    # refused with 503; the length is read at most every STREAM_CHECK_MS per worker.
    max_stream_length: int = Field(default=1_000_000, ge=1)
    stream_check_ms: int = Field(default=250, ge=0)

    # Security (footfall.security): key cache, learner tokens, rate limits, CORS.
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

    # Flusher
    flush_batch_size: int = Field(default=500, ge=1)
    flush_max_wait_ms: int = Field(default=200, ge=1)
    flush_claim_idle_ms: int = Field(default=60_000, ge=100)
    flush_retry_max_s: float = Field(default=30.0, gt=0)
    flush_consumer: str | None = None

    # Tutorial progress (footfall.progress): the share of a tutorial's minutes a learner
    # must watch for it to complete by itself.
    completion_threshold: float = Field(default=0.8, gt=0, le=1)

    # Embedded servers (`footfall dev`)
    data_dir: Path = Path(".footfall")
    dev_redis_port: int = 6390
    dev_mongo_port: int = 27090
    redis_appendfsync: Literal["always", "everysec", "no"] = "everysec"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def environ(self) -> dict[str, str]:
        """These settings as the environment variables that reproduce them, for a
        `footfall` child process (`footfall dev`, the tests and the bench start them)."""
        env = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, list):
                value = ",".join(str(item) for item in value)
            elif isinstance(value, bool):
                value = str(value).lower()
            env[name.upper()] = str(value)
        return env

    @cached_property
    def consumer_name(self) -> str:
        """This flusher's name in the consumer group: stable per process, unique per host."""
        if self.flush_consumer:
            return self.flush_consumer
        import os
        import socket

        return f"{socket.gethostname()}-{os.getpid()}"

    # --- Enrichment in the flusher (issue 3; see footfall.enrich) ---------------------------
    # Parsed user agents kept per process, in a bounded LRU.
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
    visitor_key_secret: str = Field(default="footfall-dev-secret-change-me", min_length=1)
    # A visitor seen within this many days (sliding) is returning, else first-time.
    returning_window_days: int = Field(default=180, ge=1)
    # The stored IP: its /24 (IPv4) or /48 (IPv6) network, a keyed hash, or the address.
    ip_storage: Literal["truncate", "hash", "full"] = "truncate"
    # Key of the IP hash (IP_STORAGE=hash); same development default and warning.
    ip_hash_secret: str = Field(default="footfall-dev-secret-change-me", min_length=1)
    # Keys of request_data / view_kwargs whose values become "[redacted]", at any depth: a
    # key matches when, lowercased without "_", "-", "." and spaces, it contains an entry.
    # Comma-separated in the environment; an empty value turns redaction off.
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
    # Requests with DNT: 1 / Sec-GPC: 1. "reduce": keep the view without IP, user agent and
    # what derives from them; "drop": store nothing; "ignore": enrich them like any other.
    dnt_policy: Literal["reduce", "drop", "ignore"] = "reduce"

    # --- Statistics (footfall.stats) -------------------------------------------------------
    # A visit ends after this many minutes without a view.
    visit_idle_minutes: float = Field(default=30, gt=0, le=1440)
    # At most this often (seconds) a flusher recomputes the hour, day and month rollups
    # that changed; until then queries read the finer periods (never a stale sum).
    stats_compact_s: float = Field(default=2.0, ge=0)

    @field_validator("redact_keys", mode="before")
    @classmethod
    def _split_redact_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
