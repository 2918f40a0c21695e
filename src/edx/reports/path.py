"""A learner's path through a course: the blocks and pages they went through, in order.

Each event's location is its block (`block`: the usage key it is about), else the page
it was on (`page`), else, for a page request, its path. Consecutive events at the same
location are one step, with its first and last time and its number of events.
"""

from __future__ import annotations

from footfall.edx.reports.base import Pipeline, Report
from footfall.edx.reports.query import Query


def _rows(query: Query) -> Pipeline:
    return [
        query.match(username=query.learner),
        {"$set": {"location": {"$ifNull": ["$block", {"$ifNull": ["$page", "$event_type"]}]}}},
        {
            "$setWindowFields": {
                "sortBy": {"time": 1, "log_id": 1},
                "output": {"before": {"$shift": {"output": "$location", "by": -1}}},
            }
        },
        {"$set": {"moved": {"$cond": [{"$eq": ["$location", "$before"]}, 0, 1]}}},
        {
            "$setWindowFields": {
                "sortBy": {"time": 1, "log_id": 1},
                "output": {
                    "step": {"$sum": "$moved", "window": {"documents": ["unbounded", "current"]}}
                },
            }
        },
        {
            "$group": {
                "_id": "$step",
                "location": {"$first": "$location"},
                "first_time": {"$min": "$time"},
                "last_time": {"$max": "$time"},
                "events": {"$sum": 1},
            }
        },
        {"$sort": {"_id": 1}},
        {
            "$project": {
                "_id": 0,
                "step": "$_id",
                "location": 1,
                "first_time": 1,
                "last_time": 1,
                "events": 1,
            }
        },
    ]


LEARNER_PATH = Report(
    name="learner_path",
    title="A learner's path through the course",
    definition="The learner's locations in time order (block, else page, else the "
    "requested path), consecutive events at one location folded into a step with its "
    "first and last time and its events.",
    columns=("step", "location", "first_time", "last_time", "events"),
    rows=_rows,
    needs=("learner",),
)
