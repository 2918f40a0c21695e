"""`/stats/...`: statistics from the rollups (`footfall.stats`), as JSON or CSV."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import flask
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from footfall.stats import export, params, query
from footfall.stats.query import Query
from footfall.stats.rollup import LIVE_WINDOW_S, live_key
from footfall.web.context import services
from footfall.web.problems import unavailable_on
from footfall.web.responses import Answer, answer

_API = "/api/v1"


def summary(
    zone: str = "UTC",
    bucket: str = "day",
    bots: str = "exclude",
    compare: bool = False,
    format: str | None = None,
    **given: Any,
) -> Answer:
    q = _query(zone, bucket, bots, given)
    with _mongo():
        body = {**_echo(q), **query.summary(services().db, q)}
        if compare:
            body["previous"] = {**_echo(q.previous()), **query.summary(services().db, q.previous())}
    return _as(format, "summary", body, export.summary_rows(body))


def top(
    dimension: str,
    zone: str = "UTC",
    bucket: str = "day",
    bots: str = "exclude",
    compare: bool = False,
    limit: int = 10,
    from_page: str | None = None,
    format: str | None = None,
    **given: Any,
) -> Answer:
    q = _query(zone, bucket, bots, given)
    with _mongo():
        body = {**_echo(q), **query.top(services().db, q, dimension, limit, from_page)}
        if dimension == "courses":  # the course-team figures of each course
            for row in body["rows"]:
                row["links"] = {"figures": f"{_API}/courses/{quote(row['value'], safe='')}/figures"}
        if compare:
            before = query.top(services().db, q.previous(), dimension, 1_000_000, from_page)
            counts = {row["value"]: row["count"] for row in before["rows"]}
            for row in body["rows"]:
                row["previous_count"] = counts.get(row["value"], 0)
            body["previous_total"] = before["total"]
    return _as(format, dimension, body, export.top_rows(body))


def visitor_map(
    zone: str = "UTC",
    bucket: str = "day",
    bots: str = "exclude",
    format: str | None = None,
    **given: Any,
) -> Answer:
    q = _query(zone, bucket, bots, given)
    with _mongo():
        body = query.visitor_map(services().db, q)
    if _wants_csv(format):
        return _as(format, "map", body, export.map_rows(body))
    return body, 200, {"Content-Type": "application/geo+json"}


def live() -> Answer:
    """Views and visitors of the last five minutes (humans), from Redis."""
    app = services()
    since = int(time.time() * 1000) - LIVE_WINDOW_S * 1000
    with unavailable_on(RedisError, "Redis", app.settings.api.retry_after_s):
        pipe = app.redis.pipeline(transaction=False)
        for what in ("views", "visitors"):
            pipe.zcount(live_key(app.settings.queue.stream_prefix, what), since, "+inf")
        views, visitors = pipe.execute()
    return answer(
        {
            "window_s": LIVE_WINDOW_S,
            "pageviews": views,
            "visitors": visitors,
            "at": datetime.now(UTC).isoformat(),
        }
    )


def _query(zone: str, bucket: str, bots: str, given: dict[str, Any]) -> Query:
    filters = {name: given.get(name) for name in ("event", "course", "country", "device")}
    return params.parse(
        start=given.get("start"),
        end=given.get("end"),
        zone=zone,
        bucket=bucket,
        bots=bots,
        filters=filters,
    )  # type: ignore[arg-type]


def _echo(q: Query) -> dict[str, Any]:
    return {
        "start": q.start.astimezone(q.zone).isoformat(),
        "end": q.end.astimezone(q.zone).isoformat(),
        "zone": q.zone.key,
        "bucket": q.bucket,
        "bots": q.bots,
        "filter": None if q.filter is None else {"name": q.filter[0], "value": q.filter[1]},
    }


def _mongo():  # type: ignore[no-untyped-def]
    return unavailable_on(PyMongoError, "MongoDB", services().settings.api.retry_after_s)


def _wants_csv(format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    accept = flask.request.accept_mimetypes
    return (
        accept.best_match(["application/json", "text/csv"]) == "text/csv"
        and accept["text/csv"] > accept["application/json"]
    )


def _as(format: str | None, name: str, body: dict[str, Any], table: export.Table) -> Answer:
    if not _wants_csv(format):
        return answer(body)
    return (
        export.csv_text(table),
        200,
        {  # type: ignore[return-value]
            "Content-Type": "text/csv",
            "Content-Disposition": f'attachment; filename="footfall-{name}.csv"',
        },
    )
