"""`/edx-events` (a live Open edX event) and `/edx/reports` (the course team's reports)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from connexion.exceptions import BadRequestProblem
from pymongo.errors import PyMongoError

from footfall.edx.reports import REPORTS, Query, QueryError
from footfall.edx.reports.output import document, write_csv
from footfall.edx.reports.query import parse_bound
from footfall.events import EdxEvent
from footfall.handlers import queue_event
from footfall.security.ratelimit import draws_with_enqueue
from footfall.web.bridge import on_loop
from footfall.web.context import services
from footfall.web.problems import NotFound, unavailable_on
from footfall.web.query import page_links
from footfall.web.responses import Answer, answer


@on_loop
@draws_with_enqueue
def create(body: dict[str, Any]) -> Answer:
    return queue_event(EdxEvent, body)


def reports() -> Answer:
    listing = [
        {
            "name": r.name,
            "title": r.title,
            "definition": r.definition,
            "columns": list(r.columns),
            "needs": list(r.needs),
            "uses": list(r.uses),
        }
        for r in REPORTS.values()
    ]
    return listing, 200, {"Content-Type": "application/json"}  # type: ignore[return-value]


def report(name: str, course_id: str, **params: Any) -> Answer | tuple[str, int, dict[str, str]]:
    """`from`, `to` and `format` are Python names, so they come in `params`."""
    found = REPORTS.get(name)
    if found is None:
        raise NotFound(f"no report {name!r}")
    page, per_page = params.get("page", 1), params.get("per_page", 50)
    try:
        query = Query.build(
            course_id,
            _bound(params.get("from"), "from"),
            _bound(params.get("to"), "to", end=True),
            gap_minutes=params.get("gap_minutes"),
            learner=params.get("learner"),
            last_block=params.get("last_block"),
            completion_events=params.get("completion_event"),
        )
        found.check(query)
    except QueryError as error:
        raise BadRequestProblem(detail=f"{error.parameter}: {error.detail}") from None
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        result = found.run(app.db, query, page, per_page)
    if params.get("format") == "csv":
        text = io.StringIO()
        write_csv(text, found, result)
        return text.getvalue(), 200, {"Content-Type": "text/csv"}
    links = page_links(page, per_page, result.total)
    return answer(
        {**document(found, query, result), "page": page, "per_page": per_page, "links": links}
    )


def _bound(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    try:
        return parse_bound(value, end=end)
    except ValueError as error:
        raise BadRequestProblem(detail=f"{name}: {error}") from None
