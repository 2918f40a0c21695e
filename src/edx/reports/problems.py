"""Problem attempts and success rate, from the server's `problem_check` events (their
`event` says `problem_id`, `success`: "correct" or "incorrect", and `attempts`; the
browser's `problem_check` carries only the answers and is not counted)."""

from __future__ import annotations

from footfall.edx.reports.base import Pipeline, Report, count_of, rounded
from footfall.edx.reports.query import Query

_CORRECT = {"$eq": ["$event.success", "correct"]}


def _rows(query: Query) -> Pipeline:
    return [
        query.match(event_type="problem_check", **{"event.success": {"$type": "string"}}),
        {
            "$group": {
                "_id": "$block",
                "attempts": {"$sum": 1},
                "correct": {"$sum": {"$cond": [_CORRECT, 1, 0]}},
                "learners": {"$addToSet": "$username"},
                "solvers": {"$addToSet": {"$cond": [_CORRECT, "$username", None]}},
            }
        },
        {"$sort": {"_id": 1}},
        {
            "$project": {
                "_id": 0,
                "problem": "$_id",
                "attempts": 1,
                "correct": 1,
                "success_rate": rounded(
                    {"$multiply": [100, {"$divide": ["$correct", "$attempts"]}]}
                ),
                "learners": count_of("learners"),
                "learners_correct": count_of("solvers"),
            }
        },
    ]


PROBLEMS = Report(
    name="problems",
    title="Problem attempts and success rate per problem",
    definition="Per problem (server problem_check events): attempts, correct attempts, "
    "success rate (correct / attempts, in percent), learners who tried and learners "
    "who got it right at least once.",
    columns=("problem", "attempts", "correct", "success_rate", "learners", "learners_correct"),
    rows=_rows,
)
