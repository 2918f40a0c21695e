"""Build the Redis and MongoDB clients from settings; called by the app factory and the CLI."""

from __future__ import annotations

import logging
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.cluster import RedisCluster

from footfall.settings import ServerSettings

#: A REDIS_URL with one of these schemes names a Redis Cluster (any of its nodes).
CLUSTER_SCHEMES = ("redis-cluster://", "rediss-cluster://")


def redis_client(settings: ServerSettings) -> Redis:
    """A client of one Redis, or of a Redis Cluster (`redis-cluster://host:port`), which
    finds its nodes and slots when it is built, so the cluster must answer then."""
    if is_cluster_url(settings.redis_url):
        url = settings.redis_url.replace("-cluster://", "://", 1)
        return RedisCluster.from_url(url, **_redis_options(settings))  # type: ignore[return-value]
    return Redis.from_url(settings.redis_url, **_redis_options(settings))


def async_redis_client(settings: ServerSettings) -> AsyncRedis:
    """An asyncio client of one Redis, with the same options: the API's ingest writes
    await their round trips with it on the event loop (`footfall.store.streams`)."""
    return AsyncRedis.from_url(settings.redis_url, **_redis_options(settings))


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


def _redis_options(settings: ServerSettings) -> dict[str, Any]:
    return {
        "socket_timeout": settings.redis_timeout_s,
        "socket_connect_timeout": settings.redis_timeout_s,
        "health_check_interval": 30,
    }


def mongo_database(settings: ServerSettings) -> Database:
    # pymongo's DEBUG logs print whole command replies, api_keys records (learner token
    # secrets) included: they stay quiet whatever LOG_LEVEL or an embedding app says.
    logging.getLogger("pymongo").setLevel(logging.INFO)
    client: MongoClient = MongoClient(
        settings.mongo_uri,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        tz_aware=True,
        connect=False,
        w=_write_concern(settings.mongo_write_concern),
    )
    return client[settings.mongo_db]


def _write_concern(text: str) -> int | str:
    """`MONGO_WRITE_CONCERN`: a number of members, or "majority" / a tag set's name."""
    return int(text) if text.isdigit() else text
