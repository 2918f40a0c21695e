"""`/usage-logs`: tool usage sessions. Writes are queued; reads come from MongoDB."""

from __future__ import annotations

from typing import Any

from pymongo.errors import PyMongoError

from footfall.events import UsageLog
from footfall.handlers import ingest_problems, queue_event
from footfall.reads import usage
from footfall.security.identity import caller
from footfall.security.ratelimit import draws_with_enqueue
from footfall.web.bridge import on_loop
from footfall.web.context import received, services
from footfall.web.problems import NotFound, unavailable_on
from footfall.web.query import page_links, time_param
from footfall.web.responses import Answer, answer


@on_loop
@draws_with_enqueue
def create(body: dict[str, Any]) -> Answer:
    return queue_event(UsageLog, body)


@on_loop
@draws_with_enqueue
def update(log_id: str, body: dict[str, Any]) -> Answer:
    with ingest_problems():
        receipt = services().ingest.patch_usage_log(log_id, body, received(), caller())
    return answer(receipt.json(), 202)


@on_loop
@draws_with_enqueue
def delete(log_id: str, hard: bool = False) -> Answer:
    with ingest_problems():
        receipt = services().ingest.delete_usage_log(log_id, received(), caller(), hard=hard)
    return answer(receipt.json(), 202)


def read(log_id: str, include_deleted: bool = False) -> Answer:
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        record = usage.one(app.db, log_id, include_deleted=include_deleted)
    if record is None:
        raise NotFound(
            f"no usage log {log_id!r} is stored"
            + ("" if include_deleted else " (or it is deleted)")
        )
    return answer(record)


def search(
    user_id: list[str] | None = None,
    tool_id: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    online: bool | None = None,
    include_deleted: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> Answer:
    app = services()
    query = usage.Filters(
        user_ids=user_id or [],
        tool_ids=tool_id or [],
        since=time_param(since, "since"),
        until=time_param(until, "until"),
        online=online,
        include_deleted=include_deleted,
    )
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        items, total = usage.page(app.db, query, page=page, per_page=per_page)
    return answer(
        {
            "items": items,
            "total": total,
            "page": page,
            "per_page": per_page,
            "links": page_links(page, per_page, total),
        }
    )
