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
    max_batch_items: int = Field(default=500, ge=1)
    future_tolerance_s: int = Field(default=300, ge=0)
    trusted_proxies: Annotated[list[IPNetwork], NoDecode] = Field(default_factory=list)
    idempotency_ttl_s: int = Field(default=86_400, ge=1)
    retry_after_s: int = Field(default=5, ge=1)
    redis_timeout_s: float = Field(default=2.0, gt=0)

    # Flusher
    flush_batch_size: int = Field(default=500, ge=1)
    flush_max_wait_ms: int = Field(default=200, ge=1)
    flush_claim_idle_ms: int = Field(default=60_000, ge=100)
    flush_retry_max_s: float = Field(default=30.0, gt=0)
    flush_consumer: str | None = None

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

    @cached_property
    def consumer_name(self) -> str:
        """This flusher's name in the consumer group: stable per process, unique per host."""
        if self.flush_consumer:
            return self.flush_consumer
        import os
        import socket

        return f"{socket.gethostname()}-{os.getpid()}"
