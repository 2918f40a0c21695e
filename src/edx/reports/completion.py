"""Who enrolled, started and finished a course.

Per learner seen in the course (in the window): enrolled (an
`edx.course.enrollment.activated`), started (any event outside the enrolment family),
finished (a completion event, by default `edx.course.grade.passed.first_time` or
`edx.certificate.created`; or, when `last_block` is given, instead, any event on that
block). The status is the furthest reached: finished, started_not_finished or
enrolled_not_started.
"""

from __future__ import annotations

from typing import Any

from footfall.edx.reports.base import LEARNER, Pipeline, Report
from footfall.edx.reports.query import Query

STATUSES = ("enrolled_not_started", "started_not_finished", "finished")
ENROLLED = "edx.course.enrollment.activated"


def _when(condition: Any) -> dict[str, Any]:
    """The earliest time of the learner's events meeting `condition` (null if none)."""
    return {"$min": {"$cond": [condition, "$time", None]}}


def _finished(query: Query) -> Any:
    if query.last_block is not None:
        return {"$eq": ["$block", query.last_block]}
    return {"$in": ["$event_type", list(query.completion_events)]}


def _per_learner(query: Query) -> Pipeline:
    return [
        query.match(**LEARNER),
        {
            "$group": {
                "_id": "$username",
                "enrolled_at": _when({"$eq": ["$event_type", ENROLLED]}),
                "started_at": _when({"$ne": ["$family", "enrollment"]}),
                "finished_at": _when(_finished(query)),
            }
        },
        {"$match": {"$or": [{"enrolled_at": {"$ne": None}}, {"started_at": {"$ne": None}}]}},
        {
            "$set": {
                "status": {
                    "$switch": {
                        "branches": [
                            {"case": {"$ne": ["$finished_at", None]}, "then": "finished"},
                            {
                                "case": {"$ne": ["$started_at", None]},
                                "then": "started_not_finished",
                            },
                        ],
                        "default": "enrolled_not_started",
                    }
                }
            }
        },
    ]


def _rows(query: Query) -> Pipeline:
    return [
        *_per_learner(query),
        {"$sort": {"_id": 1}},
        {
            "$project": {
                "_id": 0,
                "username": "$_id",
                "status": 1,
                "enrolled_at": 1,
                "started_at": 1,
                "finished_at": 1,
            }
        },
    ]


def _summary(query: Query) -> Pipeline:
    return [
        *_per_learner(query),
        {
            "$group": {
                "_id": None,
                "learners": {"$sum": 1},
                **{
                    status: {"$sum": {"$cond": [{"$eq": ["$status", status]}, 1, 0]}}
                    for status in STATUSES
                },
            }
        },
    ]


COMPLETION = Report(
    name="completion",
    title="Enrolled but not started, started but not finished, finished",
    definition="Per learner: status (finished, started_not_finished, enrolled_not_started) "
    "and when they enrolled, started and finished; finished by the completion events, "
    "or by reaching last_block when it is given. The summary counts each status.",
    columns=("username", "status", "enrolled_at", "started_at", "finished_at"),
    rows=_rows,
    summary=_summary,
    uses=("last_block", "completion_events"),
)
