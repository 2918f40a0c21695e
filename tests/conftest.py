"""Fixtures: real Valkey and SecantusDB servers for the session, isolated names per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo.database import Database
from redis import Redis

from footfall.app import create_app
from footfall.connections import mongo_database, redis_client
from footfall.embedded import EmbeddedMongo, EmbeddedValkey
from footfall.flusher import Flusher
from footfall.security import keys
from footfall.settings import Settings
from footfall.store.schema import init_db


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
    inherited = {k: v for k, v in os.environ.items() if k.upper() not in settings.environ()}
    return {**inherited, **settings.environ()}


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = mongo_database(settings.servers)
    init_db(database, settings.retention)
    yield database
    database.client.drop_database(database.name)
    database.client.close()


@pytest.fixture
def redis(settings: Settings) -> Iterator[Redis]:
    client = redis_client(settings.servers)
    yield client
    prefix = settings.queue.stream_prefix
    # Idempotency keys start with their stream's hash tag: `{<prefix>:<stream>}:seen:...`.
    keys = [*client.scan_iter(f"{prefix}:*"), *client.scan_iter(f"{{{prefix}:*")]
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def app(settings: Settings, db: Database, redis: Redis):  # type: ignore[no-untyped-def]
    return create_app(settings)


def make_key(db: Database, *scopes: str, origins: tuple[str, ...] = (), **options: object) -> str:
    """A new key in this test's database; returns the secret to send in X-API-Key."""
    name = "test-" + "-".join(scopes)
    return keys.create(db, name, scopes, origins, **options).secret  # type: ignore[arg-type]


def keyed_client(app, db: Database, *scopes: str, **client_options: object):  # type: ignore[no-untyped-def]
    """A test client sending a new key with `scopes` (default: admin) on every request."""
    secret = make_key(db, *(scopes or ("admin",)))
    return app.test_client(headers={"X-API-Key": secret}, **client_options)


@pytest.fixture
def client(app, db):  # type: ignore[no-untyped-def]
    """Authenticated as an admin (every scope but browser): the tests of what an
    operation does; tests/test_auth_matrix.py is about who may call it."""
    return keyed_client(app, db)


@pytest.fixture
def anonymous(app):  # type: ignore[no-untyped-def]
    """A test client without a key."""
    return app.test_client()


@pytest.fixture
def flush(settings: Settings, db: Database, redis: Redis):  # type: ignore[no-untyped-def]
    """Run a flusher until the streams are empty; returns it (for its counters)."""

    def run(**overrides: object) -> Flusher:
        flusher = Flusher(settings.replace(overrides), redis, db)
        flusher.streams.ensure_group(flusher.collections)
        while batch := flusher.next_batch():
            assert flusher.store(batch)
        return flusher

    return run
