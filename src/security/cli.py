"""`footfall keys ...`: create, list, revoke and mirror API keys; and the dev mode's own key."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from pymongo.database import Database
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from footfall.connections import mongo_database, redis_client
from footfall.security import keys, scopes
from footfall.security.keymirror import KeyMirror
from footfall.settings import Settings
from footfall.store.schema import init_db

DEV_KEY_FILE = "dev-api-key"
log = logging.getLogger(__name__)


@click.group("keys")
def keys_group() -> None:
    """API keys: who may call which operations (scopes), from where (origins), how often."""


@keys_group.command("create")
@click.option("--name", required=True, help="What the key is for, e.g. the site or tool.")
@click.option(
    "--scope",
    "scope_names",
    multiple=True,
    required=True,
    type=click.Choice(scopes.ALL),
    help="ingest, browser, read, metrics or admin (admin implies ingest, read and metrics).",
)
@click.option("--origin", "origins", multiple=True, help="A browser key's page origin. Repeatable.")
@click.option("--rate", type=click.FloatRange(min=0), help="Requests per second (0: no limit).")
@click.option("--burst", type=click.IntRange(min=1), help="Requests at once [2 x rate].")
def create(
    name: str,
    scope_names: tuple[str, ...],
    origins: tuple[str, ...],
    rate: float | None,
    burst: int | None,
) -> None:
    """Make a key and print it, once: only its hash is stored."""
    if scopes.BROWSER in scope_names and len(set(scope_names)) > 1:
        raise click.UsageError("a browser key is public: give it no other scope")
    if origins and scopes.BROWSER not in scope_names:
        raise click.UsageError("--origin is for browser keys")
    limit = None
    if rate is not None or burst is not None:
        if rate is None:
            raise click.UsageError("--burst needs --rate")
        limit = keys.Rate(rate, burst or max(1, int(rate * 2)))
    db = _database()
    try:
        created = keys.create(db, name, scope_names, origins, limit)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    finally:
        db.client.close()
    _mirror(created.key)
    click.echo(f"key: {created.secret}")
    click.echo(f"key id: {created.key.key_id}")
    if created.token_secret:
        click.echo(f"learner token secret: {created.token_secret}")
    click.echo("shown once: store it now (only a hash is kept)", err=True)


@keys_group.command("list")
def list_keys() -> None:
    """Every key: id, name, scopes, origins, rate, created, revoked (never a secret)."""
    db = _database()
    try:
        found = keys.all_keys(db)
    finally:
        db.client.close()
    if not found:
        click.echo("no key yet: footfall keys create --name N --scope S")
        return
    for key in found:
        rate = f"{key.rate.per_s:g}/s burst {key.rate.burst}" if key.rate else "default"
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        click.echo(
            f"{key.key_id}  {key.name}  scopes={','.join(sorted(key.scopes))}  "
            f"origins={','.join(sorted(key.origins)) or '-'}  rate={rate}  "
            f"created {key.created_at:%Y-%m-%d %H:%M}  {revoked}"
        )


@keys_group.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke a key; API workers stop accepting it within KEY_CACHE_TTL_S."""
    settings = Settings()
    db = mongo_database(settings.servers)
    try:
        done = keys.revoke(db, key_id)
        record = keys.get(db, key_id)
    finally:
        db.client.close()
    if record is not None and not _mirror(record):
        raise click.ClickException(
            f"{key_id} is revoked in MongoDB, but its Redis mirror still says active: while"
            " MongoDB is down it would be accepted. Run `footfall keys sync` once Redis answers."
        )
    if not done:
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"revoked {key_id} (in effect within {settings.security.key_cache_ttl_s:g} s)")


@keys_group.command("sync")
def sync() -> None:
    """Copy every key from MongoDB into its Redis mirror (`footfall serve` does it at start)."""
    db = _database()
    try:
        found = keys.all_keys(db)
    finally:
        db.client.close()
    if not _mirror(*found):
        raise click.ClickException("Redis cannot be reached: the mirror is not updated")
    click.echo(f"{len(found)} keys mirrored into Redis")


def sync_mirror(db: Database, settings: Settings) -> None:
    """Mirror every key (at `footfall serve`'s start): a key made while Redis was down, or
    before the mirror existed, is checked without MongoDB too. Logged, never fatal."""
    redis = redis_client(settings.servers)
    try:
        KeyMirror(redis, settings.queue.stream_prefix).sync(keys.all_keys(db))
    except (RedisError, PyMongoError) as error:
        log.warning("API keys not mirrored into Redis (%s): run `footfall keys sync`", error)
    finally:
        redis.close()


def _mirror(*records: keys.ApiKey) -> bool:
    """Write keys to the Redis mirror; False (and a warning) when Redis does not answer."""
    settings = Settings()
    redis = redis_client(settings.servers)
    try:
        KeyMirror(redis, settings.queue.stream_prefix).put(*records)
        return True
    except RedisError as error:
        click.echo(f"warning: the Redis key mirror is not updated ({error})", err=True)
        return False
    finally:
        redis.close()


def dev_key(db: Database, data_dir: Path, origins: list[str]) -> str:
    """The dev mode's key with every scope: the same across restarts while it is valid.

    Its secret is kept in DATA_DIR (readable by the owner only), since the database
    keeps only a hash and the developer needs the key itself again.
    """
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        secret = path.read_text().strip()
        key = keys.find(db, secret)
        if key is not None and set(scopes.ALL) <= key.scopes:
            return secret
    created = keys.create(db, "footfall dev", scopes.ALL, origins)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(created.secret + "\n")
    return created.secret


def _database() -> Database:
    db = mongo_database(Settings().servers)
    init_db(db)
    return db
