"""`/users/{user_id}/usage`: how long a user used each tool."""

from __future__ import annotations

from pymongo.errors import PyMongoError

from footfall.reads import usage
from footfall.web.context import services
from footfall.web.problems import unavailable_on
from footfall.web.query import time_param
from footfall.web.responses import Answer, answer


def usage_totals(
    user_id: str,
    tool_id: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Answer:
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        totals = usage.per_tool(
            app.db,
            user_id,
            tool_ids=tool_id or [],
            since=time_param(since, "since"),
            until=time_param(until, "until"),
        )
    return answer(totals)
