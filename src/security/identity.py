"""Who is sending, as an event sees it: a trusted server, or a browser and its learner.

A server key (`ingest`) may send any kind of event for any user. A browser key may send
only the kinds a page sends (`Event.browser`), and it names a learner only through a
learner token: the username comes from the verified token, a username in the body must
be the token's own, and without a token the event is anonymous. So a page cannot post
for someone else, however its script is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flask
from connexion.context import context

from footfall.security import tokens
from footfall.security.scopes import BROWSER
from footfall.web.context import services
from footfall.web.problems import FieldError, Unauthenticated


class Denied(Exception):
    """This caller may not send this event; `errors` point at the reason."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Caller:
    key_id: str | None = None
    browser: bool = False
    #: The verified username of a browser request's learner token.
    learner: str | None = None

    def admit(self, kind: type[Any], body: dict[str, Any], at: str = "") -> dict[str, Any]:
        """The body as this caller may send it: the learner filled in; Denied otherwise."""
        if not self.browser:
            return body
        if not getattr(kind, "browser", False):
            detail = f"a browser key cannot send {kind.kind}"
            raise Denied([{"pointer": f"{at}/kind", "detail": detail}])
        field = getattr(kind, "learner_field", None)
        if field is None:
            return body
        named = body.get(field)
        if named is not None and named != self.learner:
            detail = (
                f"{field} is not the learner token's"
                if self.learner
                else f"a browser key names a learner only with an {tokens.HEADER} header"
            )
            raise Denied([{"pointer": f"{at}/{field}", "detail": detail}])
        return {**body, field: self.learner} if self.learner else body


#: What a call without the security layer (a test, a script) is: a trusted server.
SERVER = Caller()


def caller() -> Caller:
    """The caller of the current request; 401 for a learner token that cannot be believed."""
    try:
        info = context.get("token_info")
    except RuntimeError:  # outside a request through connexion
        return SERVER
    if not isinstance(info, dict) or "sub" not in info:
        return SERVER
    if info.get("role") != BROWSER:
        return Caller(key_id=info["sub"])
    token = flask.request.headers.get(tokens.HEADER)
    if not token:
        return Caller(key_id=info["sub"], browser=True)
    app = services()
    key = app.keys.get(info["sub"])
    if key is None or key.token_secret is None:
        raise Unauthenticated("this browser key has no token secret")
    try:
        learner = tokens.verify(
            token,
            key.token_secret,
            app.settings.learner_token_audience,
            app.settings.learner_token_max_ttl_s,
        )
    except tokens.LearnerTokenError as error:
        raise Unauthenticated(error.reason) from None
    return Caller(key_id=info["sub"], browser=True, learner=learner)
