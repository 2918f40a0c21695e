"""Time spent in a course, from the gaps between a learner's events.

A learner's events, in time order, form sessions: a gap longer than `gap_minutes`
(30 by default) starts a new one. The time between two consecutive events of a session
counts as time spent, on the day (UTC) of the later event; a session of one event adds
none.
"""

from __future__ import annotations

from footfall.edx.reports.base import DAY, LEARNER, Pipeline, Report, count_of, rounded
from footfall.edx.reports.query import Query


def _gaps(query: Query) -> Pipeline:
    """Each event with `spent` (seconds since the learner's previous one, 0 when that
    starts a session), `new_session` and its `day`."""
    limit_s = query.gap_minutes * 60
    return [
        query.match(**LEARNER),
        {
            "$setWindowFields": {
                "partitionBy": "$username",
                "sortBy": {"time": 1},
                "output": {"previous": {"$shift": {"output": "$time", "by": -1}}},
            }
        },
        {
            "$set": {
                "gap_s": {
                    "$cond": [
                        {"$eq": [{"$ifNull": ["$previous", None]}, None]},
                        None,
                        {"$divide": [{"$subtract": ["$time", "$previous"]}, 1000]},
                    ]
                },
                "day": DAY,
            }
        },
        {
            "$set": {
                "new_session": {"$or": [{"$eq": ["$gap_s", None]}, {"$gt": ["$gap_s", limit_s]}]}
            }
        },
        {"$set": {"spent": {"$cond": ["$new_session", 0, "$gap_s"]}}},
    ]


_SESSIONS = {"$sum": {"$cond": ["$new_session", 1, 0]}}


def _per_learner(query: Query) -> Pipeline:
    return [
        *_gaps(query),
        {
            "$group": {
                "_id": "$username",
                "sessions": _SESSIONS,
                "seconds": {"$sum": "$spent"},
                "days": {"$addToSet": "$day"},
                "events": {"$sum": 1},
            }
        },
        {"$sort": {"seconds": -1, "_id": 1}},
        {
            "$project": {
                "_id": 0,
                "username": "$_id",
                "sessions": 1,
                "seconds": rounded("$seconds"),
                "days": {"$size": "$days"},
                "events": 1,
            }
        },
    ]


def _per_day(query: Query) -> Pipeline:
    return [
        *_gaps(query),
        {
            "$group": {
                "_id": "$day",
                "learners": {"$addToSet": "$username"},
                "sessions": _SESSIONS,
                "seconds": {"$sum": "$spent"},
            }
        },
        {"$sort": {"_id": 1}},
        {
            "$project": {
                "_id": 0,
                "day": "$_id",
                "learners": count_of("learners"),
                "sessions": 1,
                "seconds": rounded("$seconds"),
            }
        },
    ]


TIME_PER_LEARNER = Report(
    name="time_per_learner",
    title="Time spent per learner",
    definition="Per learner: sessions (runs of events with no gap over gap_minutes), "
    "seconds spent (the gaps within sessions), days with events, events; most time first.",
    columns=("username", "sessions", "seconds", "days", "events"),
    rows=_per_learner,
    uses=("gap_minutes",),
)

TIME_PER_DAY = Report(
    name="time_per_day",
    title="Time spent per day",
    definition="Per day (UTC): learners with events, sessions started, and seconds spent "
    "(a gap within a session counts on the day of its later event).",
    columns=("day", "learners", "sessions", "seconds"),
    rows=_per_day,
    uses=("gap_minutes",),
)
