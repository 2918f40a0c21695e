"""`footfall import edx FILE...` and `footfall edx report NAME`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
import orjson

from footfall.connections import mongo_database
from footfall.settings import Settings

SUMMARY_ORDER = ("files", "lines", "blank", "stored", "already_stored", "errors", "resumed_after")


@click.group("import")
def import_group() -> None:
    """Import logs from other systems."""


@import_group.command("edx")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("edx-import-errors.jsonl"),
    show_default=True,
    help="Where the per-line error report is appended (one JSON line per bad line).",
)
@click.option(
    "--batch-size", type=click.IntRange(1, 100_000), default=None, help="Events per insert [1000]."
)
@click.option(
    "--restart", is_flag=True, help="Ignore the checkpoints: read every file from its start."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def import_edx(
    files: tuple[str, ...], errors_path: Path, batch_size: int | None, restart: bool, as_json: bool
) -> None:
    """Import Open edX tracking logs (plain, .gz, .bz2, .zip, or - for standard input).

    Each file resumes from its checkpoint (the end of its last stored line); a line
    already stored (same bytes, same log_id) is counted, not stored again. Bad lines
    go to the error report and never stop the import.
    """
    from footfall.edx.errors import ErrorReport
    from footfall.edx.importer import DEFAULT_BATCH, Importer
    from footfall.edx.progress import Progress
    from footfall.edx.reader import sources
    from footfall.store.schema import init_db

    try:
        found = sources(list(files))
    except (FileNotFoundError, OSError) as error:
        raise click.ClickException(str(error)) from None
    settings = Settings()
    db = mongo_database(settings.servers)
    init_db(db)
    report = ErrorReport(errors_path)
    importer = Importer(
        db,
        settings,
        report,
        Progress(sys.stderr),
        batch_size=batch_size or DEFAULT_BATCH,
        restart=restart,
    )
    try:
        summary = importer.run(found)
    except KeyboardInterrupt:
        click.echo("interrupted: run the same command again to resume", err=True)
        sys.exit(130)
    finally:
        report.close()
    if as_json:
        click.echo(orjson.dumps(summary.json()).decode())
        return
    values = summary.json()
    for name in SUMMARY_ORDER:
        click.echo(f"{name.replace('_', ' ')}: {values[name]}")
    for name, count in values["families"].items():
        click.echo(f"  {name}: {count}")
    if report.count:
        click.echo(f"error report: {errors_path}", err=True)
        for record in report.first:
            click.echo(f"  {record['file']}:{record['line']}: {record['reason']}", err=True)


@click.group("edx")
def edx_group() -> None:
    """Open edX learning analytics from `edx_events`."""


def _time(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    from footfall.edx.reports.query import parse_bound

    try:
        return parse_bound(value, end=end)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=name) from None


@edx_group.command("report")
@click.argument("name")
@click.option("--course", required=True, help="The course id (context.course_id).")
@click.option("--from", "start", default=None, help="From this date or time (UTC when no offset).")
@click.option("--to", "end", default=None, help="Until this date (included) or time (excluded).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.option(
    "--gap",
    "gap_minutes",
    type=click.IntRange(1, 1440),
    default=None,
    help="Session gap, minutes [30].",
)
@click.option("--learner", default=None, help="The learner (username) of learner_path.")
@click.option(
    "--last-block", default=None, help="completion: a learner reaching this block has finished."
)
@click.option(
    "--completion-event",
    "completion_events",
    multiple=True,
    help="completion: an event type that means finished (repeatable).",
)
def report_command(
    name: str,
    course: str,
    start: str | None,
    end: str | None,
    fmt: str,
    gap_minutes: int | None,
    learner: str | None,
    last_block: str | None,
    completion_events: tuple[str, ...],
) -> None:
    """Run the report NAME on a course (`footfall edx reports` lists them)."""
    from footfall.edx.reports import REPORTS, Query, QueryError
    from footfall.edx.reports.output import write

    report = REPORTS.get(name)
    if report is None:
        raise click.BadParameter(f"unknown report; one of {', '.join(REPORTS)}", param_hint="NAME")
    try:
        query = Query.build(
            course,
            _time(start, "--from"),
            _time(end, "--to", end=True),
            gap_minutes=gap_minutes,
            learner=learner,
            last_block=last_block,
            completion_events=list(completion_events) or None,
        )
        report.check(query)
    except QueryError as error:
        raise click.BadParameter(
            error.detail, param_hint=f"--{error.parameter.replace('_', '-')}"
        ) from None
    settings = Settings()
    db = mongo_database(settings.servers)
    result = report.run(db, query)
    write(sys.stdout, report, query, result, fmt)


@edx_group.command("reports")
def list_reports() -> None:
    """The reports and what each computes."""
    from footfall.edx.reports import REPORTS

    for report in REPORTS.values():
        click.echo(f"{report.name}: {report.title}")
