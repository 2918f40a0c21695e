"""The caller of the current request (`footfall.security.callers.Caller`), from the key
the guard accepted and, for a browser key, its verified learner token."""

from __future__ import annotations

import flask
from connexion.context import context

from footfall.security import tokens
from footfall.security.callers import SERVER, Caller
from footfall.security.ratelimit import DRAW_KEY
from footfall.security.scopes import BROWSER
from footfall.web.context import services
from footfall.web.problems import Unauthenticated


def caller() -> Caller:
    """The caller of the current request; 401 for a learner token that cannot be believed."""
    try:
        info = context.get("token_info")
    except RuntimeError:  # outside a request through connexion
        return SERVER
    if not isinstance(info, dict) or "sub" not in info:
        return SERVER
    draw = flask.request.environ.get("asgi.scope", {}).get(DRAW_KEY)
    if info.get("role") != BROWSER:
        return Caller(key_id=info["sub"], draw=draw)
    token = flask.request.headers.get(tokens.HEADER)
    if not token:
        return Caller(key_id=info["sub"], browser=True, draw=draw)
    app = services()
    key = app.keys.get(info["sub"])
    if key is None or key.token_secret is None:
        raise Unauthenticated("this browser key has no token secret")
    try:
        learner = tokens.verify(
            token,
            key.token_secret,
            app.settings.security.learner_token_audience,
            app.settings.security.learner_token_max_ttl_s,
        )
    except tokens.LearnerTokenError as error:
        raise Unauthenticated(error.reason) from None
    return Caller(key_id=info["sub"], browser=True, learner=learner, draw=draw)
