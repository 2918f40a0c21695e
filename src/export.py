"""`footfall export KIND --from --to`: stored events of one collection as NDJSON, for a
warehouse; gzip optional.

The range is on the collection's event time (`Collection.retention.time`, the indexed
time its TTL uses): from inclusive, to exclusive, in time order, streamed a batch at a
time through its index.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO

import click
from pymongo.database import Database

from footfall import ndjson
from footfall.connections import mongo_database
from footfall.settings import Settings
from footfall.store.collections import ALL, Collection

#: What can be exported: every collection with an event time.
KINDS: dict[str, Collection] = {c.name: c for c in ALL if c.retention is not None}


def lines(db: Database, collection: Collection, start: datetime, end: datetime) -> Iterator[bytes]:
    assert collection.retention is not None
    field = collection.retention.time
    cursor = db[collection.name].find({field: {"$gte": start, "$lt": end}}).sort(field, 1)
    for document in cursor:
        yield ndjson.line(document)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@click.command("export")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.option(
    "--from",
    "start",
    type=click.DateTime(),
    required=True,
    help="From this time, inclusive (UTC unless it says otherwise).",
)
@click.option("--to", "end", type=click.DateTime(), required=True, help="To this time, exclusive.")
@click.option("--gzip", "compress", is_flag=True, help="gzip the output.")
@click.option("-o", "--output", type=click.File("wb"), default="-", help="File [stdout].")
def export(kind: str, start: datetime, end: datetime, compress: bool, output: BinaryIO) -> None:
    """Stored events of KIND (a collection) between two times, as NDJSON."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    db = mongo_database(Settings().servers)
    sink: BinaryIO = gzip.GzipFile(fileobj=output, mode="wb") if compress else output
    count = 0
    try:
        for line in lines(db, KINDS[kind], start, end):
            sink.write(line)
            count += 1
    finally:
        if compress:
            sink.close()
        db.client.close()
    click.echo(f"{count} {kind} exported", err=True)
