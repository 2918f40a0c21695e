"""`/courses/{course_id}`: the course catalogue, and course-team figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pymongo.errors import PyMongoError

from footfall.pointers import from_pydantic
from footfall.reads import course_figures
from footfall.reads.values import iso
from footfall.tutorials import catalogue
from footfall.web.context import services
from footfall.web.problems import Invalid, NotFound, unavailable_on
from footfall.web.query import page_links
from footfall.web.responses import Answer, answer


def register(course_id: str, body: dict[str, Any]) -> Answer:
    """Replace the course's tutorials; 200 with the course once MongoDB holds it."""
    try:
        course = catalogue.Course.model_validate(body)
    except ValidationError as error:
        raise Invalid(from_pydantic(error)) from None
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        stored = catalogue.register(app.db, course_id, course, datetime.now(UTC))
    return answer(_record(stored))


def read(course_id: str) -> Answer:
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        stored = catalogue.registered(app.db, course_id)
    if stored is None:
        raise NotFound(f"no course {course_id!r} is registered")
    return answer(_record(stored))


def figures(
    course_id: str, language: str | None = None, page: int = 1, per_page: int = 50
) -> Answer:
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        body, total = course_figures.course_figures(
            app.db, course_id, language, page=page, per_page=per_page
        )
    links = page_links(page, per_page, total)
    return answer({**body, "total": total, "page": page, "per_page": per_page, "links": links})


def _record(stored: dict[str, Any]) -> dict[str, Any]:
    return {**stored, "updated_at": iso(stored["updated_at"])}
