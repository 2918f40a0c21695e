"""Every error the API gives is `application/problem+json` (RFC 9457).

Validation errors carry `errors`: a list of `{pointer, detail}` where `pointer` is an
RFC 6901 JSON pointer into the request body, so a client can show which field is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from connexion.exceptions import BadRequestProblem, ProblemException
from pydantic import ValidationError

FieldError = dict[str, str]


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(path: Iterable[str | int], prefix: str = "") -> str:
    return prefix + "".join(f"/{escape(token)}" for token in path)


def from_pydantic(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """Pydantic's errors as pointers; a nested key refused inside a free-form object
    carries its own pointer below the field (see `footfall.events.base`)."""
    errors = []
    for item in error.errors(include_url=False):
        where = pointer(item["loc"], prefix) + (item.get("ctx") or {}).get("pointer", "")
        errors.append({"pointer": where, "detail": item["msg"]})
    return errors


class Invalid(ProblemException):
    """422: the body is JSON but breaks the schema."""

    def __init__(self, errors: list[FieldError], **ext: Any) -> None:
        count = len(errors)
        super().__init__(
            status=422,
            title="Unprocessable Content",
            detail=f"{count} field{'s' if count != 1 else ''} invalid: "
            + "; ".join(f"{e['pointer'] or '/'}: {e['detail']}" for e in errors[:5]),
            ext={"errors": errors, **ext},
        )


class BadParameters(BadRequestProblem):
    """400 naming every bad query parameter by pointer (`/query/<name>`)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(detail="; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:5]))
        self.ext = {"errors": errors}


class TooLarge(ProblemException):
    def __init__(self, what: str, size: int, limit: int, at: str = "") -> None:
        super().__init__(
            status=413,
            title="Content Too Large",
            detail=f"{what} is {size} bytes; the limit is {limit}",
            ext={"errors": [{"pointer": at, "detail": f"larger than {limit} bytes"}]},
        )


class Unavailable(ProblemException):
    """503 with Retry-After: a server Footfall depends on cannot be reached."""

    def __init__(self, what: str, retry_after_s: int, ext: dict[str, Any] | None = None) -> None:
        super().__init__(
            status=503,
            title="Service Unavailable",
            detail=f"{what} cannot be reached; nothing was stored, retry later",
            headers={"Retry-After": str(retry_after_s)},
            ext=ext,
        )


class NotFound(ProblemException):
    def __init__(self, detail: str) -> None:
        super().__init__(status=404, title="Not Found", detail=detail)


class Unauthenticated(ProblemException):
    """401: no believable credential (never echoing the one sent)."""

    def __init__(self, detail: str) -> None:
        super().__init__(status=401, title="Unauthorized", detail=detail)


class Forbidden(ProblemException):
    """403: the credential is good but does not allow this (`errors` when a field says why)."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(
            status=403, title="Forbidden", detail=detail, ext={"errors": errors} if errors else None
        )


class TooManyRequests(ProblemException):
    """429 with Retry-After: a rate limit of `footfall.security.ratelimit`."""

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(
            status=429,
            title="Too Many Requests",
            detail=detail,
            headers={"Retry-After": str(retry_after_s)},
        )


class Overloaded(ProblemException):
    """503 with Retry-After: the queue is longer than MAX_STREAM_LENGTH."""

    def __init__(self, collection: str, retry_after_s: int) -> None:
        super().__init__(
            status=503,
            title="Service Unavailable",
            detail=f"the {collection} queue is full; nothing was stored, retry later",
            headers={"Retry-After": str(retry_after_s)},
        )


async def send_problem(
    send: Any, status: int, title: str | None, detail: str | None, headers: Any = None
) -> None:
    """Answer a problem from ASGI middleware that sits outside connexion's error handling."""
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
    extra = [(name.lower().encode(), str(v).encode()) for name, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@contextmanager
def unavailable_on(
    errors: type[Exception] | tuple[type[Exception], ...], what: str, retry_after_s: int
) -> Iterator[None]:
    """A server out of reach is a 503 with Retry-After for the client, never a 500."""
    try:
        yield
    except errors:
        raise Unavailable(what, retry_after_s) from None
