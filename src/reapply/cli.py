"""`footfall progress recompute` and `footfall redact`: resumable, with a progress bar."""

from __future__ import annotations

import click
from pymongo.database import Database

from footfall.connections import mongo_database
from footfall.reapply import checkpoint, recompute, redact
from footfall.settings import Settings

_RESTART = click.option(
    "--restart", is_flag=True, help="Start over instead of resuming an interrupted run."
)
_BATCH = click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Documents per write (and per checkpoint).",
)


def _run(
    db: Database, title: str, job: checkpoint.Pass, step: checkpoint.Step, batch: int, restart: bool
) -> checkpoint.Outcome:
    from rich.progress import (  # only these commands draw a bar: not loaded by every command
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(title), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(title, total=checkpoint.total(db, job))
        return checkpoint.run(
            db,
            job,
            step,
            batch=batch,
            restart=restart,
            progress=lambda done: bar.advance(task, done),
        )


def _report(what: str, outcome: checkpoint.Outcome) -> None:
    resumed = f" ({outcome.resumed} done by an earlier run)" if outcome.resumed else ""
    click.echo(f"{what}: {outcome.processed} read{resumed}, {outcome.changed} changed")


@click.group("progress")
def progress() -> None:
    """Tutorial progress kept in MongoDB."""


@progress.command("recompute")
@click.option("--course", "course_id", help="Only this course's states.")
@click.option("--learner", "username", help="Only this learner's states.")
@_RESTART
@_BATCH
def recompute_command(
    course_id: str | None, username: str | None, restart: bool, batch: int
) -> None:
    """Derive tutorial states again under the current COMPLETION_THRESHOLD.

    Resumes where an interrupted run stopped; running it again changes nothing.
    """
    settings = Settings()
    threshold = settings.progress.completion_threshold
    db = mongo_database(settings.servers)
    try:
        job = recompute.scope(threshold, course_id, username)
        outcome = _run(db, "states", job, recompute.Recompute(db, threshold), batch, restart)
    finally:
        db.client.close()
    _report("tutorial states", outcome)


@click.command("redact")
@click.option(
    "--collection",
    "names",
    multiple=True,
    type=click.Choice([c.name for c in redact.redactable()]),
    help="Only this collection (repeatable) [every one with redactable fields].",
)
@_RESTART
@_BATCH
def redact_command(names: tuple[str, ...], restart: bool, batch: int) -> None:
    """Apply the current REDACT_KEYS to stored documents (free-form fields, URL queries).

    Resumes where an interrupted run stopped; running it again changes nothing.
    """
    settings = Settings()
    db = mongo_database(settings.servers)
    try:
        for collection in redact.redactable():
            if names and collection.name not in names:
                continue
            job = redact.scope(collection, settings.privacy)
            step = redact.Redact(db, collection, settings.privacy)
            _report(collection.name, _run(db, collection.name, job, step, batch, restart))
    finally:
        db.client.close()
