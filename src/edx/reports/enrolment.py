"""When learners enrol: the hour of the day and the day of the week (UTC)."""

from __future__ import annotations

from footfall.edx.reports.base import Pipeline, Report, rounded
from footfall.edx.reports.completion import ENROLLED
from footfall.edx.reports.query import Query

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: The hour of day with its minutes, 9:30 being 9.5.
_HOUR = {"$add": [{"$hour": "$time"}, {"$divide": [{"$minute": "$time"}, 60]}]}


def _enrolments(query: Query) -> Pipeline:
    return [
        query.match(event_type=ENROLLED),
        {"$set": {"hour": _HOUR, "weekday": {"$isoDayOfWeek": "$time"}}},
    ]


def _rows(query: Query) -> Pipeline:
    return [
        *_enrolments(query),
        {"$group": {"_id": "$weekday", "enrolments": {"$sum": 1}, "hour": {"$avg": "$hour"}}},
        {"$sort": {"_id": 1}},
        {
            "$project": {
                "_id": 0,
                "weekday": {"$arrayElemAt": [list(WEEKDAYS), {"$subtract": ["$_id", 1]}]},
                "enrolments": 1,
                "average_hour": rounded("$hour", 2),
            }
        },
    ]


def _summary(query: Query) -> Pipeline:
    return [
        *_enrolments(query),
        {
            "$facet": {
                "all": [
                    {
                        "$group": {
                            "_id": None,
                            "enrolments": {"$sum": 1},
                            "hour": {"$avg": "$hour"},
                            "weekday": {"$avg": "$weekday"},
                        }
                    }
                ],
                "busiest": [
                    {"$group": {"_id": "$weekday", "n": {"$sum": 1}}},
                    {"$sort": {"n": -1, "_id": 1}},
                    {"$limit": 1},
                ],
            }
        },
        {"$unwind": "$all"},
        {"$unwind": "$busiest"},
        {
            "$project": {
                "enrolments": "$all.enrolments",
                "average_hour": rounded("$all.hour", 2),
                "average_weekday": rounded("$all.weekday", 2),
                "busiest_weekday": {
                    "$arrayElemAt": [list(WEEKDAYS), {"$subtract": ["$busiest._id", 1]}]
                },
            }
        },
    ]


ENROLMENT_TIME = Report(
    name="enrolment_time",
    title="Average enrolment hour and weekday",
    definition="Enrolments (edx.course.enrollment.activated) per ISO weekday with their "
    "average hour of day (UTC, 9:30 = 9.5). The summary: all enrolments, the average "
    "hour, the average ISO weekday number (1 Monday ... 7 Sunday) and the busiest weekday.",
    columns=("weekday", "enrolments", "average_hour"),
    rows=_rows,
    summary=_summary,
)
