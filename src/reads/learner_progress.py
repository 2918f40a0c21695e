"""One learner's progress in a course, and "is this tutorial completed?".

Answers come from the stored states, whose derived fields the flusher keeps current
(`footfall.store.tutorial_states`), so a read is one indexed query plus the course's tutorial
list. A tutorial the learner never opened is in the list, not completed, so the course
percentage is completed tutorials over every tutorial of the course.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pymongo.database import Database

from footfall.reads.values import iso, percent
from footfall.store.collections import TUTORIAL_PROGRESS
from footfall.tutorials import catalogue
from footfall.tutorials.catalogue import CatalogueTutorial

State = dict[str, Any]

_PROJECTION = {"_id": 0, "minutes": 0, "visits": 0, "toggle": 0, "rev": 0}


def course_progress(
    db: Database, username: str, course_id: str, language: str | None
) -> dict[str, Any]:
    """Per tutorial of the course: watched, completed, resume point, visits; the course
    percentage; and where to continue (the latest tutorial watched, at its resume point)."""
    course = catalogue.tutorials(db, course_id, language)
    by_tutorial = _states_by_tutorial(db, username, course_id, language)
    entries = [_tutorial(t, by_tutorial.get(t.tutorial_id, [])) for t in course.tutorials]
    done = sum(entry["completed"] for entry in entries)
    in_course = [s for t in course.ids for s in by_tutorial.get(t, [])]
    return {
        "username": username,
        "course_id": course_id,
        "language": language,
        "tutorials_source": course.source,
        "tutorials_total": len(entries),
        "tutorials_completed": done,
        "completion_percent": percent(done, len(entries)),
        "continue": _continue(in_course),
        "tutorials": entries,
    }


def completion(
    db: Database, username: str, course_id: str, tutorial_id: str, language: str | None
) -> dict[str, Any]:
    """Completed or not, always as a boolean; in any language unless one is asked."""
    query = {"username": username, "course_id": course_id, "tutorial_id": tutorial_id}
    if language is not None:
        query["language"] = language
    states = list(db[TUTORIAL_PROGRESS.name].find(query, _PROJECTION))
    done = sorted(
        (s for s in states if s.get("completed")), key=lambda s: (s["completed_at"], s["language"])
    )
    first = done[0] if done else None
    # Not completed: still "manual" when a toggle decided it (the README's rule, and what
    # the progress read shows per language), null only before anything decided.
    decided = [s["completion_source"] for s in states if s.get("completion_source")]
    return {
        "username": username,
        "course_id": course_id,
        "tutorial_id": tutorial_id,
        "language": first["language"] if first else language,
        "completed": first is not None,
        "completed_at": iso(first["completed_at"]) if first else None,
        "completion_source": first["completion_source"] if first else min(decided, default=None),
    }


def _states_by_tutorial(
    db: Database, username: str, course_id: str, language: str | None
) -> dict[str, list[State]]:
    query = {"username": username, "course_id": course_id}
    if language is not None:
        query["language"] = language
    grouped: dict[str, list[State]] = defaultdict(list)
    for state in db[TUTORIAL_PROGRESS.name].find(query, _PROJECTION).sort("language", 1):
        grouped[state["tutorial_id"]].append(state)
    return grouped


def _tutorial(tutorial: CatalogueTutorial, states: list[State]) -> dict[str, Any]:
    """One tutorial: its languages in detail, and a summary over them.

    Completed in any language counts; the resume point is that of the language watched
    last; visits add up over languages.
    """
    languages = [_language(state) for state in states]
    latest = _latest_resume(states)
    return {
        "tutorial_id": tutorial.tutorial_id,
        "title": tutorial.title,
        "duration_s": tutorial.duration_s,
        "opened": bool(states),
        "completed": any(entry["completed"] for entry in languages),
        "percent_watched": max((entry["percent_watched"] for entry in languages), default=0.0),
        "visits": sum(entry["visits"] for entry in languages),
        "resume_position_s": latest["resume"]["position_s"] if latest else None,
        "resume_language": latest["language"] if latest else None,
        "languages": languages,
    }


def _language(state: State) -> dict[str, Any]:
    resume = state.get("resume")
    return {
        "language": state["language"],
        "completed": bool(state.get("completed")),
        "completed_at": iso(state.get("completed_at")),
        "completion_source": state.get("completion_source"),
        "percent_watched": state.get("percent_watched", 0.0),
        "watched_minutes": state.get("watched_minutes", 0),
        "total_minutes": state.get("total_minutes"),
        "duration_s": state.get("duration_s"),
        "resume_position_s": resume["position_s"] if resume else None,
        "visits": state.get("visit_count", 0),
        "first_watched_at": iso(state.get("first_at")),
        "last_watched_at": iso(state.get("last_at")),
    }


def _latest_resume(states: list[State]) -> State | None:
    """The state watched last (by its latest event's `at`, then `log_id`)."""
    watched = [state for state in states if state.get("resume")]
    return max(watched, key=lambda s: (s["resume"]["at"], s["resume"]["log_id"]), default=None)


def _continue(states: list[State]) -> dict[str, Any] | None:
    latest = _latest_resume(states)
    if latest is None:
        return None
    return {
        "tutorial_id": latest["tutorial_id"],
        "language": latest["language"],
        "position_s": latest["resume"]["position_s"],
        "at": iso(latest["resume"]["at"]),
        "completed": bool(latest.get("completed")),
    }
