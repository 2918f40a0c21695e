"""Fixtures: real Valkey and SecantusDB servers for the session, isolated names per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from footfall.app import create_app
from footfall.clients import mongo_database, redis_client
from footfall.embedded import EmbeddedMongo, EmbeddedValkey
from footfall.settings import Settings
from footfall.store.flusher import Flusher
from footfall.store.schema import init_db
from pymongo.database import Database
from redis import Redis


@pytest.fixture(scope="session")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def valkey(server_dir: Path) -> Iterator[EmbeddedValkey]:
    server = EmbeddedValkey(server_dir / "valkey").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo(server_dir: Path) -> Iterator[EmbeddedMongo]:
    server = EmbeddedMongo(server_dir / "mongo").start()
    yield server
    server.stop()


@pytest.fixture
def settings(valkey: EmbeddedValkey, mongo: EmbeddedMongo) -> Settings:
    """Each test gets its own streams and database on the shared servers."""
    name = f"t{uuid.uuid4().hex[:12]}"
    return make_settings(valkey.url, mongo.uri, name)


def make_settings(redis_url: str, mongo_uri: str, name: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": redis_url,
        "mongo_uri": mongo_uri,
        "mongo_db": name,
        "stream_prefix": name,
        "flush_max_wait_ms": 50,
        "flush_claim_idle_ms": 500,
        "flush_retry_max_s": 0.5,
        "mongo_timeout_ms": 2000,
        "redis_timeout_s": 1.0,
        "validate_responses": True,  # every answer in the tests must match the spec
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a `footfall` subprocess use these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "MONGO", "FLUSH"))}
    for name, value in settings.model_dump(exclude={"trusted_proxies"}).items():
        if value is not None:
            env[name.upper()] = str(value)
    return env


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = mongo_database(settings)
    init_db(database)
    yield database
    database.client.drop_database(database.name)
    database.client.close()


@pytest.fixture
def redis(settings: Settings) -> Iterator[Redis]:
    client = redis_client(settings)
    yield client
    keys = list(client.scan_iter(f"{settings.stream_prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def app(settings: Settings, db: Database, redis: Redis):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def flush(settings: Settings, db: Database, redis: Redis):  # type: ignore[no-untyped-def]
    """Run a flusher until the streams are empty; returns it (for its counters)."""

    def run(**overrides: object) -> Flusher:
        flusher = Flusher(settings.model_copy(update=overrides), redis, db)
        flusher.streams.ensure_group(flusher.collections)
        while batch := flusher.next_batch():
            assert flusher.store(batch)
        return flusher

    return run
