"""Event names from ordered path rules, and `footfall events unmapped`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pymongo.database import Database
from redis import Redis

from footfall.cli import main
from footfall.enrich import Enricher
from footfall.enrich.names import EventNamer, RulesError, load_rules, shipped_rules
from footfall.enrich.unmapped import parse_since, unmapped_paths
from footfall.settings import Settings

RULES = """
- {pattern: '^/watch/[^/]+/[^/]+/[^/]+/$', name: event.video.watch}
- {pattern: '^/watch/', name: event.watch.other}
- {pattern: '^/$', name: event.home.view}
"""


def namer(tmp_path: Path, text: str = RULES, default: str = "event.unmapped") -> EventNamer:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return EventNamer.from_file(path, default)


def test_first_matching_rule_wins(tmp_path: Path) -> None:
    names = namer(tmp_path)
    assert names.name("/watch/Python/Getting-Started/English/") == "event.video.watch"
    assert names.name("/watch/Python/") == "event.watch.other"
    assert names.name("/") == "event.home.view"


def test_query_string_and_fragment_are_not_matched(tmp_path: Path) -> None:
    assert namer(tmp_path).name("/?utm_source=x#top") == "event.home.view"


def test_unmatched_path_gets_the_default_name(tmp_path: Path) -> None:
    assert namer(tmp_path, default="event.other").name("/nowhere/") == "event.other"


def test_json_rules_file_and_rules_key_are_read(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"rules": [{"pattern": "^/login/$", "name": "event.login"}]}')
    assert EventNamer.from_file(path, "event.unmapped").name("/login/") == "event.login"


def test_bad_regex_is_refused_naming_the_rule(tmp_path: Path) -> None:
    text = RULES + "- {pattern: '^/search/(unclosed$', name: event.search}\n"
    with pytest.raises(RulesError, match=r'rule 4 \("event.search"\): bad pattern'):
        namer(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {pattern: '^/$'}\n", "exactly the keys pattern and name"),
        ("- {pattern: '^/$', name: ''}\n", "name must be a string"),
        (f"- {{pattern: '^/$', name: {'e' * 129}}}\n", "name must be a string"),
        ("- {pattern: '', name: event.x}\n", "pattern must be a non-empty string"),
        ("pattern: x\n", "expected a list"),
        ("- [unclosed\n", "cannot be read"),
    ],
)
def test_malformed_rules_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        namer(tmp_path, text)


def test_enricher_refuses_to_start_with_a_bad_rule(
    tmp_path: Path, settings: Settings, redis: Redis
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- {pattern: '^/$', name: event.home}\n- {pattern: '*oops', name: event.x}\n")
    with pytest.raises(RulesError, match=r'rule 2 \("event.x"\).*\*oops'):
        Enricher(settings.replace({"event_rules": path}), redis)


def test_enricher_keeps_the_name_the_client_sent_and_names_the_rest(
    settings: Settings, redis: Redis
) -> None:
    enricher = Enricher(settings, redis)
    sent, home, unknown = enricher.enrich(
        [
            {"log_id": "1", "path": "/", "event_name": "event.custom"},
            {"log_id": "2", "path": "/"},
            {"log_id": "3", "path": "/not/a/rule/"},
        ]
    )
    assert sent["event_name"] == "event.custom"
    assert home["event_name"] == "event.home.view"
    assert unknown["event_name"] == "event.unmapped"  # kept, under the default name


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/", "event.home.view"),
        ("/home/", "event.home.view"),
        ("/watch/Python/Getting-Started/English/", "event.video.watch"),
        ("/tutorial-search/", "event.tutorial.search"),
        ("/accounts/login/", "event.login"),
        ("/cdcontent/", "event.cdcontent.download"),
        ("/media/cdimage/Python-English.zip", "event.media.cdimage"),
        ("/statistics/training/", "event.statistics.training"),
        ("/statistics/", "event.statistics.view"),
        ("/watch/Python/", "event.unmapped"),
    ],
)
def test_shipped_elearning_rules_name_the_site_pages(path: str, name: str) -> None:
    assert EventNamer(load_rules(shipped_rules()), "event.unmapped").name(path) == name


def test_unmapped_paths_are_listed_most_viewed_first(db: Database) -> None:
    now = datetime.now(UTC)
    docs = [
        {"path": "/b/", "event_name": "event.unmapped", "visited_at": now},
        {"path": "/a/", "event_name": "event.unmapped", "visited_at": now},
        {"path": "/a/", "event_name": "event.unmapped", "visited_at": now - timedelta(hours=1)},
        {"path": "/", "event_name": "event.home.view", "visited_at": now},
        {"path": "/old/", "event_name": "event.unmapped", "visited_at": now - timedelta(days=60)},
    ]
    db.pageviews.insert_many(
        [
            {**doc, "log_id": str(i), "source": "server", "method": "GET", "received_at": now}
            for i, doc in enumerate(docs)
        ]
    )
    rows = unmapped_paths(db, "event.unmapped", now - timedelta(days=30), limit=10)
    assert [(row.path, row.views) for row in rows] == [("/a/", 2), ("/b/", 1)]
    assert unmapped_paths(db, "event.unmapped", now - timedelta(days=90), limit=1)[0].path == "/a/"


def test_events_unmapped_command_prints_a_table(db: Database, settings: Settings) -> None:
    now = datetime.now(UTC)
    db.pageviews.insert_many(
        [
            {
                "log_id": str(i),
                "path": path,
                "event_name": "event.unmapped",
                "source": "server",
                "method": "GET",
                "visited_at": now,
                "received_at": now,
            }
            for i, path in enumerate(["/x/", "/x/", "/x/", "/y/"])
        ]
    )
    env = {"MONGO_URI": settings.servers.mongo_uri, "MONGO_DB": settings.servers.mongo_db}
    result = CliRunner().invoke(main, ["events", "unmapped", "--since", "1d"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("paths named event.unmapped since")
    assert lines[1].split() == ["views", "last", "seen", "(UTC)", "path"]
    assert lines[3].split()[0] == "3" and lines[3].endswith("/x/")
    assert lines[4].split()[0] == "1" and lines[4].endswith("/y/")

    result = CliRunner().invoke(main, ["events", "unmapped", "--limit", "1"], env=env)
    assert len(result.output.splitlines()) == 4
    result = CliRunner().invoke(main, ["events", "unmapped", "--since", "soon"], env=env)
    assert result.exit_code == 2 and "neither a duration" in result.output


def test_since_reads_durations_and_dates() -> None:
    now = datetime(2024, 5, 10, 12, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2024, 5, 3, 12, tzinfo=UTC)
    assert parse_since("90m", now) == datetime(2024, 5, 10, 10, 30, tzinfo=UTC)
    assert parse_since("2024-05-01", now) == datetime(2024, 5, 1, tzinfo=UTC)
