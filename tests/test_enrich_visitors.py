"""First-time or returning, across flusher processes sharing one Redis, and on replays."""

from __future__ import annotations

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.retry import Retry

from footfall.enrich import Enricher
from footfall.enrich.visitors import VisitorLog
from footfall.settings import Settings

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"


def view(log_id: str, ip: str = "81.2.69.142", ua: str = CHROME, **fields: object) -> dict:
    return {"log_id": log_id, "path": "/", "ip": ip, "user_agent": ua, **fields}


def firsts(docs: list[dict]) -> list[bool | None]:
    return [doc.get("first_visit") for doc in docs]


@pytest.fixture
def flushers(settings: Settings, redis: Redis) -> tuple[Enricher, Enricher]:
    """Two enrichers, as two flusher processes have, on one Redis."""
    return Enricher(settings, redis), Enricher(settings, redis)


def test_a_visitor_is_first_time_once_then_returning_across_processes(
    flushers: tuple[Enricher, Enricher],
) -> None:
    one, two = flushers
    assert firsts(one.enrich([view("a1")])) == [True]
    assert firsts(two.enrich([view("a2")])) == [False]
    assert firsts(one.enrich([view("a3")])) == [False]


def test_ip_and_user_agent_together_make_the_visitor(flushers: tuple[Enricher, Enricher]) -> None:
    one, two = flushers
    assert firsts(one.enrich([view("1"), view("2", ua=FIREFOX), view("3", ip="8.8.8.8")])) == [
        True,
        True,
        True,
    ]
    assert firsts(two.enrich([view("4"), view("5", ua=FIREFOX), view("6", ip="8.8.8.8")])) == [
        False,
        False,
        False,
    ]


def test_views_of_one_visitor_in_one_batch_are_answered_in_order(
    flushers: tuple[Enricher, Enricher],
) -> None:
    assert firsts(flushers[0].enrich([view("1"), view("2"), view("3")])) == [True, False, False]


def test_a_replayed_batch_gets_the_same_answers(flushers: tuple[Enricher, Enricher]) -> None:
    one, two = flushers
    batch = [view("1"), view("2"), view("3", ip="8.8.8.8")]
    first_time = firsts(one.enrich([dict(doc) for doc in batch]))
    two.enrich([view("4")])  # the visitor comes back in between
    replayed = firsts(two.enrich([dict(doc) for doc in batch]))  # claimed after a crash
    assert first_time == replayed == [True, False, True]


def test_visitor_id_sent_by_the_client_identifies_the_visitor(
    flushers: tuple[Enricher, Enricher],
) -> None:
    one, two = flushers
    assert firsts(one.enrich([view("1", visitor_id="v-1")])) == [True]
    # same visitor on another network and browser; a new visitor behind the same address
    assert firsts(two.enrich([view("2", visitor_id="v-1", ip="8.8.8.8", ua=FIREFOX)])) == [False]
    assert firsts(two.enrich([view("3", visitor_id="v-2")])) == [True]


def test_the_client_first_visit_is_kept(flushers: tuple[Enricher, Enricher]) -> None:
    one, two = flushers
    assert firsts(one.enrich([view("1", first_visit=False)])) == [False]
    # recorded all the same: the next view without the flag is returning
    assert firsts(two.enrich([view("2")])) == [False]
    assert firsts(two.enrich([view("3", first_visit=True)])) == [True]


def test_a_view_without_ip_or_visitor_id_gets_no_first_visit(
    flushers: tuple[Enricher, Enricher],
) -> None:
    assert firsts(flushers[0].enrich([{"log_id": "1", "path": "/"}])) == [None]


def test_every_view_renews_the_window_and_redis_keeps_no_address(
    settings: Settings, redis: Redis, flushers: tuple[Enricher, Enricher]
) -> None:
    one, _ = flushers
    one.enrich([view("1")])
    (key,) = redis.scan_iter(f"{settings.queue.stream_prefix}:visitor:*")
    window = settings.enrichment.returning_window_days * 86_400
    assert window - 5 <= redis.ttl(key) <= window
    assert b"81.2.69" not in key and redis.get(key) == b"1"
    redis.expire(key, 60)
    one.enrich([view("2")])
    assert redis.ttl(key) > window - 5


def test_a_visitor_unseen_for_the_whole_window_is_first_time_again(
    settings: Settings, redis: Redis, flushers: tuple[Enricher, Enricher]
) -> None:
    one, two = flushers
    one.enrich([view("1")])
    for key in redis.scan_iter(f"{settings.queue.stream_prefix}:visitor:*"):
        redis.delete(key)  # what the TTL does after RETURNING_WINDOW_DAYS
    assert firsts(two.enrich([view("2")])) == [True]


def test_a_batch_costs_one_redis_round_trip_whatever_its_size(
    redis: Redis, flushers: tuple[Enricher, Enricher], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, _ = flushers
    one.enrich([view("warm-up")])
    trips: list[str] = []
    execute, command = Pipeline.execute, Redis.execute_command

    def pipeline_trip(self: Pipeline, *args: object, **kwargs: object) -> object:
        trips.append("pipeline")
        return execute(self, *args, **kwargs)

    def command_trip(self: Redis, *args: object, **kwargs: object) -> object:
        trips.append(str(args[0]))
        return command(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "execute", pipeline_trip)
    monkeypatch.setattr(Redis, "execute_command", command_trip)
    one.enrich([view(f"v{i}", ip=f"81.2.69.{i}") for i in range(200)])
    assert trips == ["pipeline"]


def test_visitor_keys_depend_on_the_secret(redis: Redis) -> None:
    a = VisitorLog(redis, "p", 180, "one").key(visitor_id=None, ip="1.2.3.4", user_agent="x")
    b = VisitorLog(redis, "p", 180, "two").key(visitor_id=None, ip="1.2.3.4", user_agent="x")
    assert a != b and a.startswith("p:visitor:")


def test_when_redis_fails_views_are_kept_with_the_reason(settings: Settings) -> None:
    unreachable = Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    (doc,) = Enricher(settings, unreachable).enrich([view("1")])
    assert "first_visit" not in doc
    assert doc["enrich_errors"][0].startswith("first_visit: ConnectionError")
    assert doc["browser"]["family"] == "Chrome"
