"""What happened in a course, and how many learners were there: event types, events
per day, active learners per day."""

from __future__ import annotations

from footfall.edx.reports.base import DAY, LEARNER, Pipeline, Report, count_of
from footfall.edx.reports.query import Query


def _event_types(query: Query) -> Pipeline:
    return [
        query.match(),
        {
            "$group": {
                "_id": "$event_type",
                "family": {"$first": "$family"},
                "events": {"$sum": 1},
                "learners": {"$addToSet": "$username"},
            }
        },
        {"$sort": {"events": -1, "_id": 1}},
        {
            "$project": {
                "_id": 0,
                "event_type": "$_id",
                "family": 1,
                "events": 1,
                "learners": count_of("learners"),
            }
        },
    ]


def _events_per_day(query: Query) -> Pipeline:
    return [
        query.match(),
        {"$group": {"_id": DAY, "events": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
        {"$project": {"_id": 0, "day": "$_id", "events": 1}},
    ]


def _active_learners_per_day(query: Query) -> Pipeline:
    return [
        query.match(**LEARNER),
        {"$group": {"_id": DAY, "learners": {"$addToSet": "$username"}, "events": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
        {"$project": {"_id": 0, "day": "$_id", "learners": {"$size": "$learners"}, "events": 1}},
    ]


EVENT_TYPES = Report(
    name="event_types",
    title="Event types present, with counts",
    definition="Every event type of the course's events in the window, its family, its "
    "number of events and of distinct learners; most frequent first.",
    columns=("event_type", "family", "events", "learners"),
    rows=_event_types,
)

EVENTS_PER_DAY = Report(
    name="events_per_day",
    title="Events per day",
    definition="The number of the course's events on each day (UTC) that has any.",
    columns=("day", "events"),
    rows=_events_per_day,
)

ACTIVE_LEARNERS_PER_DAY = Report(
    name="active_learners_per_day",
    title="Active learners per day",
    definition="On each day (UTC), the learners (distinct usernames) with at least one "
    "event in the course, and their events.",
    columns=("day", "learners", "events"),
    rows=_active_learners_per_day,
)
