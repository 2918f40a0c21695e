"""`/learners/{username}/courses/{course_id}/...`: one learner's progress and completions.

Readable with a `read` key, or by the learner themself: a browser key whose learner
token names that very username (a page showing a learner their own progress).
"""

from __future__ import annotations

from pymongo.errors import PyMongoError

from footfall.reads import learner_progress
from footfall.security.identity import caller
from footfall.web.context import services
from footfall.web.problems import Forbidden, unavailable_on
from footfall.web.responses import Answer, answer


def course_progress(username: str, course_id: str, language: str | None = None) -> Answer:
    _only_themself(username)
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        body = learner_progress.course_progress(app.db, username, course_id, language)
    return answer(body)


def completion(
    username: str, course_id: str, tutorial_id: str, language: str | None = None
) -> Answer:
    _only_themself(username)
    app = services()
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        body = learner_progress.completion(app.db, username, course_id, tutorial_id, language)
    return answer(body)


def _only_themself(username: str) -> None:
    """A browser key reads only the progress of the learner its token names."""
    who = caller()
    if who.browser and who.learner != username:
        raise Forbidden(
            "a browser key reads only its own learner's progress (X-Learner-Token)"
            if who.learner is None
            else "the learner token names another learner"
        )
