"""Query parameters shared by list endpoints: times and page links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import flask

from footfall.web.problems import BadParameters


def parse_time(text: str) -> datetime:
    """An RFC 3339 text as an aware UTC datetime (no offset: UTC); ValueError or
    OverflowError when it is none. The parameter validator checks `date-time` with it."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def time_param(text: str | None, name: str) -> datetime | None:
    """A `date-time` query parameter, already checked by the parameter validator."""
    if text is None:
        return None
    try:
        return parse_time(text)
    except (ValueError, OverflowError):
        detail = "must be an RFC 3339 time"
        raise BadParameters([{"parameter": name, "in": "query", "detail": detail}]) from None


def page_links(page: int, per_page: int, total: int) -> dict[str, str | None]:
    """self/first/last/prev/next for the current request, other parameters kept."""
    last = max(1, -(-total // per_page))

    def link(number: int) -> str:
        args = flask.request.args.to_dict(flat=False)
        args.pop("page", None)
        args.pop("per_page", None)
        args["page"], args["per_page"] = [str(number)], [str(per_page)]
        return f"{flask.request.path}?{urlencode(args, doseq=True)}"

    return {
        "self": link(page),
        "first": link(1),
        "last": link(last),
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < last else None,
    }
