"""Course-team figures: per tutorial, who watched, completed and came back; per course,
how far learners got.

A learner counts once per tutorial whatever the languages they watched it in: completed
in any language is completed, and visits add up. Everything is aggregated in MongoDB
from the derived fields the flusher stores, so the cost does not grow with events.
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from footfall.reads.values import percent
from footfall.store.collections import TUTORIAL_PROGRESS
from footfall.tutorials import catalogue
from footfall.tutorials.catalogue import CatalogueTutorial

_DONE = {"$max": {"$cond": [{"$eq": ["$completed", True]}, 1, 0]}}


def course_figures(
    db: Database, course_id: str, language: str | None, *, page: int, per_page: int
) -> tuple[dict[str, Any], int]:
    """One page of per-tutorial figures (catalogue order) and the course's distribution;
    returns it with the number of tutorials, for the page links."""
    course = catalogue.tutorials(db, course_id, language)
    shown = course.tutorials[(page - 1) * per_page : page * per_page]
    rows = _per_tutorial(db, course_id, language, [t.tutorial_id for t in shown])
    learners, distribution = _distribution(db, course_id, language, course.ids)
    body = {
        "course_id": course_id,
        "language": language,
        "tutorials_source": course.source,
        "learners": learners,
        "completion_distribution": distribution,
        "tutorials": [_figures(t, rows.get(t.tutorial_id)) for t in shown],
    }
    return body, len(course.tutorials)


def _match(course_id: str, language: str | None, tutorial_ids: list[str]) -> dict[str, Any]:
    match: dict[str, Any] = {"course_id": course_id, "tutorial_id": {"$in": tutorial_ids}}
    if language is not None:
        match["language"] = language
    return match


def _per_learner_tutorial() -> dict[str, Any]:
    """One row per (tutorial, learner), languages folded together."""
    return {
        "$group": {
            "_id": {"t": "$tutorial_id", "u": "$username"},
            "done": _DONE,
            "visits": {"$sum": {"$ifNull": ["$visit_count", 0]}},
        }
    }


def _per_tutorial(
    db: Database, course_id: str, language: str | None, tutorial_ids: list[str]
) -> dict[str, dict[str, Any]]:
    if not tutorial_ids:
        return {}
    pipeline = [
        {"$match": _match(course_id, language, tutorial_ids)},
        _per_learner_tutorial(),
        {
            "$group": {
                "_id": "$_id.t",
                "viewers": {"$sum": 1},
                "completions": {"$sum": "$done"},
                "rewatchers": {"$sum": {"$cond": [{"$gt": ["$visits", 1]}, 1, 0]}},
                "visits": {"$sum": "$visits"},
            }
        },
    ]
    return {row["_id"]: row for row in db[TUTORIAL_PROGRESS.name].aggregate(pipeline)}


def _figures(tutorial: CatalogueTutorial, row: dict[str, Any] | None) -> dict[str, Any]:
    viewers = row["viewers"] if row else 0
    completions = row["completions"] if row else 0
    visits = row["visits"] if row else 0
    return {
        "tutorial_id": tutorial.tutorial_id,
        "title": tutorial.title,
        "viewers": viewers,
        "completions": completions,
        "completion_rate": percent(completions, viewers),
        "rewatchers": row["rewatchers"] if row else 0,
        "average_visits": 0.0 if viewers == 0 else round(visits / viewers, 2),
    }


def _distribution(
    db: Database, course_id: str, language: str | None, tutorial_ids: list[str]
) -> tuple[int, list[dict[str, Any]]]:
    """Learners who opened any tutorial of the course, by how many they completed
    (0 to all, every count listed), with the course percentage that count means."""
    counts: dict[int, int] = {}
    if tutorial_ids:
        pipeline = [
            {"$match": _match(course_id, language, tutorial_ids)},
            _per_learner_tutorial(),
            {"$group": {"_id": "$_id.u", "done": {"$sum": "$done"}}},
            {"$group": {"_id": "$done", "learners": {"$sum": 1}}},
        ]
        counts = {
            row["_id"]: row["learners"] for row in db[TUTORIAL_PROGRESS.name].aggregate(pipeline)
        }
    total = len(tutorial_ids)
    distribution = [
        {
            "completed_tutorials": done,
            "completion_percent": percent(done, total),
            "learners": counts.get(done, 0),
        }
        for done in range(total + 1)
    ]
    return sum(counts.values()), distribution
