"""Who is sending, as an event sees it: a trusted server, or a browser and its learner.

A server key (`ingest`) may send any kind of event for any user. A browser key may send
only the kinds a page sends (`Event.browser`), and it names a learner only through a
learner token: the username comes from the verified token, a username in the body must
be the token's own, and without a token the event is anonymous. So a page cannot post
for someone else, however its script is changed.

No HTTP here: `footfall.security.identity.caller` tells who the current request's
caller is; `footfall.ingest` asks the caller what it may send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from footfall.pointers import FieldError
from footfall.security import tokens

if TYPE_CHECKING:
    from footfall.security.ratelimit import Draw


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
    #: The request's rate-limit draw, not made yet: the enqueue makes it (one round trip).
    draw: Draw | None = None

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


#: A trusted server: what a caller with an `ingest` key is, and what a script or a test
#: that calls the ingest core directly says it is (never a default: it must be said).
SERVER = Caller()
