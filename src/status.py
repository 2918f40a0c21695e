"""`footfall status`: one screen for an operator: Redis and MongoDB health, each stream's
backlog, the flushers and what they hold, and the dead letters.

Read-only, from the servers themselves (a flusher need not be running to be seen: the
consumer group remembers each one, with its pending entries and idle time). Exits 1 when
Redis or MongoDB does not answer, so that scripts can use it as a check.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click
from pymongo.database import Database
from pymongo.errors import PyMongoError
from redis import Redis
from redis.exceptions import RedisError, ResponseError

from footfall.connections import mongo_database, redis_client
from footfall.settings import Settings
from footfall.sinks import BY_STREAM
from footfall.store.collections import DEAD_LETTERS
from footfall.store.streams import GROUP


def gather(redis: Redis, db: Database, prefix: str) -> dict[str, Any]:
    return {"redis": _redis(redis, prefix), "mongodb": _mongo(db)}


def _redis(redis: Redis, prefix: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        redis.ping()
        ms = round((time.perf_counter() - started) * 1000, 2)
        info = redis.info()
        now_s, micros = redis.time()
        now_ms = now_s * 1000 + micros // 1000
        streams = {name: _stream(redis, f"{prefix}:{name}", now_ms) for name in BY_STREAM}
    except RedisError as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {
        "ok": True,
        "ms": ms,
        "version": _text(info.get("redis_version") or info.get("valkey_version")),
        "used_memory": _text(info.get("used_memory_human")),
        "cluster": bool(info.get("cluster_enabled")),
        "streams": streams,
    }


def _stream(redis: Redis, name: str, now_ms: int) -> dict[str, Any]:
    oldest = redis.xrange(name, count=1)
    first_ms = int(_text(oldest[0][0]).split("-")[0]) if oldest else None
    try:
        groups = redis.xinfo_groups(name)
    except ResponseError:  # no stream yet
        groups = []
    group = next((g for g in groups if _text(g["name"]) == GROUP), None)
    consumers = []
    if group is not None:
        for consumer in redis.xinfo_consumers(name, GROUP):
            consumers.append(
                {
                    "name": _text(consumer["name"]),
                    "pending": int(consumer["pending"]),
                    "idle_s": round(int(consumer["idle"]) / 1000, 1),
                }
            )
    length = int(redis.xlen(name))
    return {
        "length": length,
        "lag": (int(group.get("lag") or 0) if group else length),
        "pending": int(group["pending"]) if group else 0,
        "oldest_age_s": None if first_ms is None else round((now_ms - first_ms) / 1000, 1),
        "flushers": consumers,
    }


def _mongo(db: Database) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        db.command("ping")
        ms = round((time.perf_counter() - started) * 1000, 2)
        hello = db.client.admin.command("hello")
        letters = db[DEAD_LETTERS.name].aggregate(
            [{"$group": {"_id": "$collection", "count": {"$sum": 1}}}]
        )
        dead = {doc["_id"]: doc["count"] for doc in letters}
    except PyMongoError as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {
        "ok": True,
        "ms": ms,
        "replica_set": hello.get("setName"),
        "primary": hello.get("primary"),
        "dead_letters": dead,
    }


def render(report: dict[str, Any]) -> str:
    lines = []
    redis, mongo = report["redis"], report["mongodb"]
    if redis["ok"]:
        mode = "cluster" if redis["cluster"] else "single"
        lines.append(
            f"redis    ok  {redis['ms']} ms  version {redis['version']}  "
            f"memory {redis['used_memory']}  ({mode})"
        )
    else:
        lines.append(f"redis    DOWN  {redis['error']}")
    if mongo["ok"]:
        shape = f"replica set {mongo['replica_set']}" if mongo["replica_set"] else "standalone"
        lines.append(f"mongodb  ok  {mongo['ms']} ms  ({shape})")
    else:
        lines.append(f"mongodb  DOWN  {mongo['error']}")
    if redis["ok"]:
        lines += ["", f"{'stream':<20}{'length':>10}{'lag':>10}{'pending':>10}{'oldest':>12}"]
        for name, stream in redis["streams"].items():
            oldest = "-" if stream["oldest_age_s"] is None else f"{stream['oldest_age_s']} s"
            lines.append(
                f"{name:<20}{stream['length']:>10}{stream['lag']:>10}"
                f"{stream['pending']:>10}{oldest:>12}"
            )
        flushers = [(n, f) for n, s in redis["streams"].items() for f in s["flushers"]]
        lines += ["", "flushers" if flushers else "flushers: none has read yet"]
        for name, flusher in flushers:
            lines.append(
                f"  {flusher['name']:<30} {name:<20} pending {flusher['pending']:>6}"
                f"  idle {flusher['idle_s']} s"
            )
    if mongo["ok"]:
        dead = mongo["dead_letters"]
        total = sum(dead.values())
        by = ", ".join(f"{name} {count}" for name, count in sorted(dead.items()))
        lines += ["", f"dead letters: {total}" + (f" ({by})" if by else "")]
    return "\n".join(lines)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="The same, as JSON.")
def status(as_json: bool) -> None:
    """Streams and lag, flushers and their pending entries, dead letters, server health."""
    settings = Settings()
    redis, db = redis_client(settings.servers), mongo_database(settings.servers)
    try:
        report = gather(redis, db, settings.queue.stream_prefix)
    finally:
        redis.close()
        db.client.close()
    click.echo(json.dumps(report, indent=2) if as_json else render(report))
    if not (report["redis"]["ok"] and report["mongodb"]["ok"]):
        raise SystemExit(1)


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value
