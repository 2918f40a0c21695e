"""Build the Redis and MongoDB clients from settings; called by the app factory and the CLI."""

from __future__ import annotations

import logging

from pymongo import MongoClient
from pymongo.database import Database
from redis import Redis

from footfall.settings import ServerSettings


def redis_client(settings: ServerSettings) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
        health_check_interval=30,
    )


def mongo_database(settings: ServerSettings) -> Database:
    # pymongo's DEBUG logs print whole command replies, api_keys records (learner token
    # secrets) included: they stay quiet whatever LOG_LEVEL or an embedding app says.
    logging.getLogger("pymongo").setLevel(logging.INFO)
    client: MongoClient = MongoClient(
        settings.mongo_uri,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        tz_aware=True,
        connect=False,
    )
    return client[settings.mongo_db]
