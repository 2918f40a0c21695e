"""Where a course's tutorials come from: the catalogue registered through the API, or,
for a course nobody registered, the tutorials learners have been seen watching.

A course percentage counts every tutorial of the course, opened or not, so it needs a
list that does not depend on the learner: the registered one when there is one (in its
order, with titles and durations), else every tutorial any learner sent progress for.
Registering is a low-volume configuration write, so it goes straight to MongoDB and is
answered 200 once stored (read-your-write), not through the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import model_validator
from pydantic_core import PydanticCustomError
from pymongo.database import Database

from footfall.events.base import SpecModel
from footfall.store.collections import COURSES, TUTORIAL_PROGRESS

Source = Literal["catalogue", "events"]


class CatalogueTutorial(SpecModel, schema="CourseTutorial"):
    """One tutorial of a course; `languages` absent: every language."""


class Course(SpecModel, schema="Course"):
    """`PUT /courses/{course_id}`: the course's tutorials, in course order."""

    @model_validator(mode="after")
    def _unique_tutorials(self) -> Self:
        seen: set[str] = set()
        for index, tutorial in enumerate(self.tutorials):
            if tutorial.tutorial_id in seen:
                raise PydanticCustomError(
                    "duplicate_tutorial",
                    "tutorial_id {tutorial_id!r} is listed twice",
                    {
                        "tutorial_id": tutorial.tutorial_id,
                        "pointer": f"/tutorials/{index}/tutorial_id",
                    },
                )
            seen.add(tutorial.tutorial_id)
        return self


@dataclass(frozen=True)
class CourseTutorials:
    """A course's tutorials (for one language, when asked) and where the list came from."""

    source: Source
    tutorials: list[CatalogueTutorial]

    @property
    def ids(self) -> list[str]:
        return [tutorial.tutorial_id for tutorial in self.tutorials]


def register(db: Database, course_id: str, course: Course, now: datetime) -> dict[str, Any]:
    """Replace the course's catalogue entry; returns it as stored."""
    document = {"course_id": course_id, **course.model_dump(exclude_none=True), "updated_at": now}
    db[COURSES.name].replace_one({"course_id": course_id}, document, upsert=True)
    return document


def registered(db: Database, course_id: str) -> dict[str, Any] | None:
    return db[COURSES.name].find_one({"course_id": course_id}, {"_id": 0})


def tutorials(db: Database, course_id: str, language: str | None = None) -> CourseTutorials:
    """The course's tutorials: registered ones (those in `language`), else learned."""
    course = registered(db, course_id)
    if course is not None:
        listed = [CatalogueTutorial.model_validate(t) for t in course["tutorials"]]
        return CourseTutorials("catalogue", [t for t in listed if _in_language(t, language)])
    return CourseTutorials("events", _learned(db, course_id, language))


def _in_language(tutorial: CatalogueTutorial, language: str | None) -> bool:
    return language is None or not tutorial.languages or language in tutorial.languages


def _learned(db: Database, course_id: str, language: str | None) -> list[CatalogueTutorial]:
    """Every tutorial of the course some learner sent progress for, by tutorial_id."""
    match: dict[str, Any] = {"course_id": course_id}
    if language is not None:
        match["language"] = language
    rows = db[TUTORIAL_PROGRESS.name].aggregate(
        [{"$match": match}, {"$group": {"_id": "$tutorial_id"}}, {"$sort": {"_id": 1}}]
    )
    return [CatalogueTutorial(tutorial_id=row["_id"]) for row in rows]
