"""`footfall learners export|erase USERNAME`: a learner's data request, from a shell."""

from __future__ import annotations

import getpass
import sys

import click
import orjson

from footfall.connections import mongo_database, redis_client
from footfall.learners import erasure, export
from footfall.learners.subject import Subject
from footfall.settings import Settings

_USER_IDS = click.option(
    "--user-id",
    "user_ids",
    multiple=True,
    help="The learner's user id in the tools that post usage logs (repeatable).",
)


@click.group("learners")
def learners() -> None:
    """One learner's data: export it all, or erase it (data-protection requests)."""


@learners.command("export")
@click.argument("username")
@_USER_IDS
@click.option("-o", "--output", type=click.File("wb"), default="-", help="NDJSON file [stdout].")
def export_command(username: str, user_ids: tuple[str, ...], output: click.utils.LazyFile) -> None:
    """Every document naming USERNAME, as NDJSON, the manifest last."""
    db = mongo_database(Settings().servers)
    try:
        for line in export.lines(db, Subject(username, user_ids)):
            output.write(line)
    finally:
        db.client.close()


@learners.command("erase")
@click.argument("username")
@_USER_IDS
@click.option("--reference", help="Your reference for the request, kept in the audit record.")
@click.confirmation_option(prompt="Erase every document of this learner, for good?")
def erase_command(username: str, user_ids: tuple[str, ...], reference: str | None) -> None:
    """Erase every document naming USERNAME; prints what was erased (JSON)."""
    settings = Settings()
    db, redis = mongo_database(settings.servers), redis_client(settings.servers)
    try:
        done = erasure.erase(
            db,
            redis,
            settings,
            Subject(username, user_ids),
            by=f"cli:{getpass.getuser()}",
            reference=reference,
        )
    finally:
        db.client.close()
        redis.close()
    body = {"username": username, "user_ids": list(user_ids), **done.audit()}
    sys.stdout.write(orjson.dumps({**body, "audit_id": done.audit_id}).decode() + "\n")
    if done.in_flight:
        click.echo(
            f"{done.in_flight} events were in a flusher's hands and not finished: "
            "erase again once the flushers run",
            err=True,
        )
