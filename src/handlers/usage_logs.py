"""`/usage-logs`: tool usage sessions. Writes are queued; reads come from MongoDB."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pymongo.errors import PyMongoError

from footfall import ingest
from footfall.events import UsageLog
from footfall.events.usage_log import UsageLogChange, UsageLogPatch, deletion
from footfall.handlers import queue_event
from footfall.reads import usage
from footfall.store.streams import Message
from footfall.web.context import received, services
from footfall.web.problems import Invalid, NotFound, from_pydantic, unavailable_on
from footfall.web.query import page_links, time_param
from footfall.web.responses import Answer, answer


def create(body: dict[str, Any]) -> Answer:
    return queue_event(UsageLog, body)


def update(log_id: str, body: dict[str, Any]) -> Answer:
    request = received()
    try:
        patch = UsageLogPatch.model_validate(body, context={"received": request})
    except ValidationError as error:
        raise Invalid(from_pydantic(error)) from None
    return _queue(patch.change(log_id, request))


def delete(log_id: str, hard: bool = False) -> Answer:
    return _queue(deletion(log_id, received(), hard=hard))


def read(log_id: str, include_deleted: bool = False) -> Answer:
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.retry_after_s):
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
    with unavailable_on(PyMongoError, "MongoDB", app.settings.retry_after_s):
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


def _queue(change: UsageLogChange) -> Answer:
    app = services()
    ingest.enqueue(
        app.streams, [Message(UsageLog.collection, change.message())], app.settings.retry_after_s
    )
    return answer(ingest.Receipt("accepted", change.log_id).json(), 202)
