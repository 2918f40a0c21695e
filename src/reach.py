"""Where the `footfall` commands find Redis and MongoDB, and one line when they cannot.

`footfall dev` records the URLs of its embedded servers in `DATA_DIR/servers.json`
(with its process id) while it runs; a command started without REDIS_URL or MONGO_URI
(from the environment or `.env`) uses them, so the README's commands work next to
`scripts/dev` as they are. Before a command runs, each server it needs is pinged with a
short timeout; one that does not answer is one line on stderr naming the server, the URL
tried (without its password) and the setting that changes it, and a non-zero exit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click
import pymongo.errors
import redis.exceptions
from pymongo import MongoClient
from redis import Redis

from footfall.settings import Settings

RECORD = "servers.json"
#: How long a command waits for a server before saying it cannot be reached.
REACH_TIMEOUT_S = 1.0
#: Errors that mean a server stopped answering while a command ran.
CONNECTION_ERRORS = (pymongo.errors.ConnectionFailure, redis.exceptions.ConnectionError)


@dataclass(frozen=True)
class Server:
    name: str
    setting: str
    field: str


REDIS = Server("Redis", "REDIS_URL", "redis_url")
MONGODB = Server("MongoDB", "MONGO_URI", "mongo_uri")


def record(data_dir: Path, redis_url: str, mongo_uri: str, api: str) -> Path:
    """Written by `footfall dev` once its servers answer; readable by the owner only."""
    path = data_dir / RECORD
    values = {"pid": os.getpid(), "redis_url": redis_url, "mongo_uri": mongo_uri, "api": api}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(values, file)
    return path


def forget(data_dir: Path) -> None:
    (data_dir / RECORD).unlink(missing_ok=True)


def use_dev_servers() -> Path | None:
    """Point this process at a running `footfall dev`'s servers, for each URL not set.

    Returns the record used, or None (no record, its `footfall dev` is gone, or both
    URLs are set)."""
    settings = Settings()
    path = settings.embedded.data_dir.resolve() / RECORD
    unset = [s for s in (REDIS, MONGODB) if s.field not in settings.servers.model_fields_set]
    if not unset or not path.is_file():
        return None
    try:
        values = json.loads(path.read_text())
        os.kill(int(values["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable, or left by a `footfall dev` that no longer runs
    for server in unset:
        os.environ[server.setting] = values[server.field]
    return path


def require(settings: Settings, servers: Iterable[Server], dev_record: Path | None) -> None:
    """Ping each server with a short timeout; ClickException (one line) for the first
    that does not answer."""
    for server in servers:
        try:
            if server is MONGODB:
                timeout_ms = int(REACH_TIMEOUT_S * 1000)
                with MongoClient(
                    settings.servers.mongo_uri, serverSelectionTimeoutMS=timeout_ms
                ) as c:
                    c.admin.command("ping")
            else:
                timeout = REACH_TIMEOUT_S
                client = Redis.from_url(
                    settings.servers.redis_url,
                    socket_timeout=timeout,
                    socket_connect_timeout=timeout,
                )
                with client:
                    client.ping()
        except (*CONNECTION_ERRORS, redis.exceptions.TimeoutError) as error:
            raise unreachable(settings, server, dev_record) from error


def server_of(error: BaseException) -> Server:
    return MONGODB if isinstance(error, pymongo.errors.PyMongoError) else REDIS


def unreachable(
    settings: Settings, server: Server, dev_record: Path | None
) -> click.ClickException:
    url = _without_password(getattr(settings.servers, server.field))
    if dev_record is not None:
        how = f"recorded by `footfall dev` in {dev_record}; set {server.setting} to use another"
    else:
        how = f"set {server.setting}, or start `scripts/dev` here to use its servers"
    return click.ClickException(f"{server.name} cannot be reached at {url} ({how})")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
