"""`footfall dead-letters list|show|replay|purge`: the dead-letter operations, from a shell."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click

from footfall.connections import mongo_database, redis_client
from footfall.deadletters import DeadLetters, Filter, FilterError
from footfall.settings import Settings
from footfall.store.streams import Streams


@click.group("dead-letters")
def dead_letters() -> None:
    """What MongoDB refused for good: see why, replay it once fixed, or purge it."""


def _filters(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--collection", help="Only this stream (its collection's name)."),
            click.option("--reason", help="Only those whose reason contains this (any case)."),
            click.option("--since", type=click.DateTime(), help="Refused at or after (UTC)."),
            click.option("--until", type=click.DateTime(), help="Refused before (UTC)."),
        ]
    ):
        command = option(command)
    return command


@dead_letters.command("list")
@_filters
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
def list_letters(
    collection: str | None,
    reason: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> None:
    """Newest first: id, stream, when, replays, reason."""
    where = Filter(collection=collection, reason=reason, since=_utc(since), until=_utc(until))
    with _letters() as letters:
        items, total = letters.page(where, 1, limit)
    if not items:
        click.echo("no dead letter")
        return
    for item in items:
        click.echo(
            f"{item['id']}  {item['collection']}  {item['failed_at']}  "
            f"replays={item['replays']}  {item['reason']}"
        )
    if total > len(items):
        click.echo(f"... {total - len(items)} more (--limit)", err=True)


@dead_letters.command("show")
@click.argument("letter_id")
def show(letter_id: str) -> None:
    """One dead letter as JSON: MongoDB's reason and details, the original event."""
    with _letters() as letters:
        record = letters.one(letter_id)
    if record is None:
        raise click.ClickException(f"no dead letter {letter_id}")
    click.echo(json.dumps(record, indent=2, ensure_ascii=False))


@dead_letters.command("replay")
@click.argument("letter_ids", nargs=-1)
@_filters
@click.option("--all", "everything", is_flag=True, help="Every dead letter.")
def replay(letter_ids: tuple[str, ...], everything: bool, **filters: Any) -> None:
    """Queue dead letters again (by id, filter, or --all); a flusher stores them or,
    refused again, keeps them with the new reason."""
    with _letters() as letters:
        done = letters.replay(_filter(letter_ids, everything, filters))
    click.echo(f"replayed {done.replayed}")
    for skipped in done.skipped:
        click.echo(f"skipped {skipped['id']}: {skipped['detail']}", err=True)


@dead_letters.command("purge")
@click.argument("letter_ids", nargs=-1)
@_filters
@click.option("--all", "everything", is_flag=True, help="Every dead letter.")
def purge(letter_ids: tuple[str, ...], everything: bool, **filters: Any) -> None:
    """Delete dead letters (by id, filter, or --all) for good."""
    with _letters() as letters:
        purged = letters.purge(_filter(letter_ids, everything, filters))
    click.echo(f"purged {purged}")


def _filter(ids: tuple[str, ...], everything: bool, filters: dict[str, Any]) -> Filter:
    return Filter(
        ids=ids,
        collection=filters["collection"],
        reason=filters["reason"],
        since=_utc(filters["since"]),
        until=_utc(filters["until"]),
        everything=everything,
    )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


@contextmanager
def _letters() -> Iterator[DeadLetters]:
    settings = Settings()
    db = mongo_database(settings.servers)
    redis = redis_client(settings.servers)
    try:
        yield DeadLetters(db, Streams(redis, settings.queue.stream_prefix, 0))
    except FilterError as error:
        raise click.UsageError(error.detail) from None
    finally:
        db.client.close()
        redis.close()
