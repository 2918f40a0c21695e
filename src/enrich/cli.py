"""`footfall events ...`: operators' commands about event names."""

from __future__ import annotations

import click

from footfall.connections import mongo_database
from footfall.enrich.unmapped import parse_since, table, unmapped_paths
from footfall.settings import Settings


@click.group("events")
def events() -> None:
    """Event names: which paths the rules (EVENT_RULES) leave unmapped."""


@events.command("unmapped")
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Rows."
)
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="How far back: 90m, 24h, 7d, 2w, or an ISO date such as 2024-05-01.",
)
def unmapped(limit: int, since: str) -> None:
    """The most viewed paths that no rule names (stored as EVENT_DEFAULT_NAME)."""
    default_name = Settings().enrichment.event_default_name
    try:
        start = parse_since(since)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from error
    db = mongo_database(Settings().servers)
    try:
        rows = unmapped_paths(db, default_name, start, limit)
    finally:
        db.client.close()
    if not rows:
        click.echo(f"no page view named {default_name} since {start:%Y-%m-%d %H:%M} UTC")
        return
    click.echo(f"paths named {default_name} since {start:%Y-%m-%d %H:%M} UTC:")
    click.echo(table(rows))
