"""`/health` (the process answers) and `/ready` (it can take and store events)."""

from __future__ import annotations

import time
from typing import Any

from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from footfall import __version__
from footfall.sinks import BY_STREAM
from footfall.store.collections import DEAD_LETTERS
from footfall.web.bridge import on_loop
from footfall.web.context import services
from footfall.web.problems import Unavailable
from footfall.web.responses import Answer, answer


@on_loop
def alive() -> Answer:
    return answer({"status": "ok", "version": __version__}, 200)


def ready() -> Answer:
    app = services()
    checks: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        app.redis.ping()
        checks["redis"] = {"ok": True, "ms": _ms(started)}
        checks["streams"] = app.streams.backlog(BY_STREAM)
    except RedisError as error:
        checks["redis"] = {"ok": False, "error": type(error).__name__}
    started = time.perf_counter()
    try:
        app.db.command("ping")
        checks["mongodb"] = {"ok": True, "ms": _ms(started)}
        checks["dead_letters"] = app.db[DEAD_LETTERS.name].estimated_document_count()
    except PyMongoError as error:
        checks["mongodb"] = {"ok": False, "error": type(error).__name__}
    down = [name for name in ("redis", "mongodb") if not checks[name]["ok"]]
    if down:
        raise Unavailable(
            " and ".join(down), app.settings.api.retry_after_s, ext={"checks": checks}
        )
    return answer({"status": "ready", "checks": checks}, 200)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
