"""One log line per failed request, at the level its cause deserves.

Connexion logs every 4xx at WARNING with the exception's repr, so a busy site fills
its logs with its visitors' mistakes. These handlers replace connexion's: a client
error (4xx) is one INFO line; a server error (5xx) one ERROR record with the traceback.
The answer is the same problem+json connexion gives. Problems that the outer ASGI
middleware answers itself (413, 405, a path with a control character, preflights) are
not logged.
"""

from __future__ import annotations

import logging

from connexion import FlaskApp
from connexion.exceptions import InternalServerError, ProblemException, problem
from connexion.http_facts import HTTP_STATUS_CODES
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

log = logging.getLogger("footfall.requests")


def _log(request: ConnexionRequest, status: int, detail: object, error: Exception) -> None:
    fields = {"status": status, "method": request.method, "path": request.url.path}
    message = "%s %s %s: %s"
    args = (status, request.method, request.url.path, detail)
    if status >= 500:
        log.error(message, *args, extra=fields, exc_info=error)
    else:
        log.info(message, *args, extra=fields)


def _problem(request: ConnexionRequest, error: ProblemException) -> ConnexionResponse:
    _log(request, error.status, error.detail, error)
    return error.to_problem()


def _http(request: ConnexionRequest, error: HTTPException) -> ConnexionResponse:
    _log(request, error.status_code, error.detail, error)
    return problem(
        title=HTTP_STATUS_CODES.get(error.status_code),
        detail=error.detail,
        status=error.status_code,
        headers=error.headers,
    )


def _unexpected(request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    _log(request, 500, repr(error), error)
    return InternalServerError().to_problem()


def log_errors(app: FlaskApp) -> None:
    """Answer and log every error of `app` through these handlers."""
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(HTTPException, _http)
    app.add_error_handler(Exception, _unexpected)
