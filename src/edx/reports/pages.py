"""Page visits: the server's record of each page a learner's browser requested.

Tracking logs record each request to the platform as a server event whose
`event_type` is the requested path (`/courses/<course>/courseware/...`). XBlock calls
made from within a page (`/handler/`, `/handler_noauth/`, `/xblock/`) are not visits.
"""

from __future__ import annotations

from footfall.edx.reports.base import DAY, Pipeline, Report, count_of
from footfall.edx.reports.query import Query

NOT_A_PAGE = "/(handler|handler_noauth|xblock)/"


def _visits(query: Query) -> dict[str, object]:
    return query.match(family="page", event_type={"$not": {"$regex": NOT_A_PAGE}})


def _per_day(query: Query) -> Pipeline:
    return [
        _visits(query),
        {"$group": {"_id": DAY, "visits": {"$sum": 1}, "learners": {"$addToSet": "$username"}}},
        {"$sort": {"_id": 1}},
        {"$project": {"_id": 0, "day": "$_id", "visits": 1, "learners": count_of("learners")}},
    ]


def _per_page(query: Query) -> Pipeline:
    return [
        _visits(query),
        {
            "$group": {
                "_id": "$event_type",
                "visits": {"$sum": 1},
                "learners": {"$addToSet": "$username"},
            }
        },
        {"$sort": {"visits": -1, "_id": 1}},
        {"$project": {"_id": 0, "page": "$_id", "visits": 1, "learners": count_of("learners")}},
    ]


PAGE_VISITS_PER_DAY = Report(
    name="page_visits_per_day",
    title="Page visits per day",
    definition="Per day (UTC): page requests (server events named by a path, XBlock "
    "calls left out) and the learners who made them.",
    columns=("day", "visits", "learners"),
    rows=_per_day,
)

PAGE_VISITS_PER_PAGE = Report(
    name="page_visits_per_page",
    title="Page visits per page",
    definition="Per page (the requested path): visits and distinct learners; most visited first.",
    columns=("page", "visits", "learners"),
    rows=_per_page,
)
