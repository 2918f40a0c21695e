"""`/dead-letters`: what MongoDB refused for good; list, show, replay, purge (admin)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from connexion.exceptions import BadRequestProblem
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from footfall.deadletters import DeadLetters, Filter, FilterError
from footfall.web.context import services
from footfall.web.problems import Invalid, NotFound, Unavailable
from footfall.web.query import page_links, time_param
from footfall.web.responses import Answer, answer


def search(
    collection: str | None = None,
    reason: str | None = None,
    since: str | None = None,
    until: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Answer:
    where = Filter(
        collection=collection,
        reason=reason,
        since=time_param(since, "since"),
        until=time_param(until, "until"),
    )
    with _servers():
        items, total = _letters().page(where, page, per_page)
    return answer(
        {
            "items": items,
            "total": total,
            "page": page,
            "per_page": per_page,
            "links": page_links(page, per_page, total),
        }
    )


def read(letter_id: str) -> Answer:
    with _servers():
        record = _letters().one(letter_id)
    if record is None:
        raise NotFound(f"no dead letter {letter_id!r}")
    return answer(record)


def replay_one(letter_id: str) -> Answer:
    with _servers():
        replayed = _letters().replay(Filter(ids=(letter_id,)))
    if not replayed.replayed and not replayed.skipped:
        raise NotFound(f"no dead letter {letter_id!r}")
    return answer(replayed.json(), 202)


def replay(body: dict[str, Any]) -> Answer:
    where = _filter(body)
    with _servers():
        return answer(_letters().replay(where).json(), 202)


def purge_one(letter_id: str) -> Answer:
    with _servers():
        purged = _letters().purge(Filter(ids=(letter_id,)))
    if not purged:
        raise NotFound(f"no dead letter {letter_id!r}")
    return answer({"purged": purged})


def purge(body: dict[str, Any]) -> Answer:
    where = _filter(body)
    with _servers():
        return answer({"purged": _letters().purge(where)})


def _letters() -> DeadLetters:
    app = services()
    return DeadLetters(app.db, app.streams)


def _filter(body: dict[str, Any]) -> Filter:
    where = Filter(
        ids=tuple(body.get("ids", ())),
        collection=body.get("collection"),
        reason=body.get("reason"),
        since=_time(body, "since"),
        until=_time(body, "until"),
        everything=body.get("all", False),
    )
    if where.empty and not where.everything:
        raise Invalid([{"pointer": "/all", "detail": "give ids or a filter, or all: true"}])
    return where


def _time(body: dict[str, Any], name: str) -> datetime | None:
    try:
        return time_param(body.get(name), name)
    except BadRequestProblem:  # time_param's 400 is for query parameters
        raise Invalid([{"pointer": f"/{name}", "detail": "not an RFC 3339 time"}]) from None


@contextmanager
def _servers() -> Iterator[None]:
    """MongoDB (the letters) or Redis (a replay's queue) down: 503; a bad filter: 422."""
    retry_after_s = services().settings.api.retry_after_s
    try:
        yield
    except FilterError as error:
        raise Invalid([{"pointer": error.pointer, "detail": error.detail}]) from None
    except PyMongoError:
        raise Unavailable("MongoDB", retry_after_s) from None
    except RedisError:
        raise Unavailable("Redis", retry_after_s) from None
