"""`/learners/{username}/export` and `DELETE /learners/{username}`: one learner's data,
exported or erased (`footfall.learners`). Admin only: it is another person's data."""

from __future__ import annotations

from itertools import chain

import flask
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from footfall import ndjson
from footfall.learners import erasure
from footfall.learners import export as learner_export
from footfall.learners.subject import Subject
from footfall.reads.values import iso
from footfall.security.identity import caller
from footfall.web.context import services
from footfall.web.problems import unavailable_on
from footfall.web.responses import Answer, answer


def export(username: str, user_id: list[str] | None = None) -> flask.Response:
    app = services()
    lines = learner_export.lines(app.db, Subject(username, tuple(user_id or ())))
    # The first line is read here, so that MongoDB out of reach is a 503, not a cut
    # stream; a stream cut later lacks its manifest, which is how a reader tells.
    with unavailable_on(PyMongoError, "MongoDB", app.settings.api.retry_after_s):
        first = next(lines)
    return flask.Response(chain([first], lines), mimetype=ndjson.MEDIA_TYPE)


def erase(username: str, user_id: list[str] | None = None, reference: str | None = None) -> Answer:
    app = services()
    subject = Subject(username, tuple(user_id or ()))
    retry = app.settings.api.retry_after_s
    with (
        unavailable_on(RedisError, "Redis", retry),
        unavailable_on(PyMongoError, "MongoDB", retry),
    ):
        by = f"key:{caller().key_id}"
        done = erasure.erase(app.db, app.redis, app.settings, subject, by=by, reference=reference)
    body = {
        "username": username,
        "user_ids": list(subject.user_ids),
        **done.audit(),
        "erased_at": iso(done.erased_at),
        "audit_id": done.audit_id,
    }
    return answer(body)
