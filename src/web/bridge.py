"""How a request crosses from the event loop into Flask: whole, once, on the loop's thread.

connexion's `FlaskApp` runs Flask behind a2wsgi's `WSGIMiddleware`: each request goes to a
thread pool, the body is handed over chunk by chunk (every `wsgi.input` read waits on the
loop) and each response part comes back the same way. Measured on 2 cores, half of a
worker's time went into those two threads waiting on each other and taking the GIL from
each other, so the empty app answered less than half of what it could.

`LoopBridge` replaces that adapter under connexion (every middleware, so routing,
security, rate limits and validation, stays as it is):

- the body is read on the loop, whole, before Flask starts: `BodyLimit`
  (`footfall.web.limits`) is outside and bounds it by MAX_REQUEST_BYTES, and connexion's
  validation has usually read it already (it replays it). A client gone before the end
  of its body gets no answer and Flask never runs;
- Flask runs with the whole body in memory (`wsgi.input` is a `BytesIO`), and its whole
  answer is collected and sent in one `http.response.start` and one body message;
- an operation whose handler is marked `@on_loop` runs on the loop's own thread: its work
  is short and bounded (the ingest handlers: a model, one pipelined Redis round trip on a
  local network). Every other request, a read that queries MongoDB or a route outside the
  spec, runs in the pool, in one hop there and back: a slow query must not stall the
  other connections of the worker.

connexion's Flask views also rebuild their decorators on every request (`FlaskOperation.fn`
makes a `FlaskDecorator`, whose wrapper decorates the handler again: parameter and
response decorators, a signature inspection, several `functools.wraps`); `bridge` puts
in each view the same decorators built once (`_OnceDecorator`), which still read the
request and its operation from connexion's context on every call.

A handler exception propagates as it did through a2wsgi (connexion's error handling
answers 500 with a problem and logs it).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import io
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import flask
from a2wsgi.wsgi import build_environ
from connexion import FlaskApp
from connexion.apps.flask import FlaskOperation
from connexion.decorators import FlaskDecorator
from connexion.utils import get_function_from_name
from starlette.types import Receive, Scope, Send

from footfall import awaiting

F = TypeVar("F", bound=Callable[..., Any])

_ON_LOOP = "__footfall_on_loop__"


def on_loop(handler: F) -> F:
    """Mark a handler as short and bounded: it runs on the event loop's thread."""
    setattr(handler, _ON_LOOP, True)
    return handler


class LoopBridge:
    """ASGI to WSGI: the whole body first, then Flask inline or in one pool hop."""

    def __init__(self, flask_app: flask.Flask, threads: int) -> None:
        self.flask_app = flask_app
        self.wsgi = flask_app.wsgi_app
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="flask")
        self._views_ready = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # nothing of Flask's to start or stop
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] == "websocket":  # as a2wsgi: Flask has no websockets
            await send({"type": "websocket.close", "code": 1000})
            return
        if not self._views_ready:  # connexion adds the views when its stack is built
            _decorate_once(self.flask_app)
            self._views_ready = True
            # Everything built so far (the resolved spec, the app, the clients) lives as
            # long as the worker: out of the garbage collector's full passes, which
            # otherwise walked it all (about 50 ms, the loop stopped) now and then. The
            # start-up's garbage is collected first, so none of it is kept.
            gc.collect()
            gc.freeze()
        body = await _whole_body(receive)
        if body is None:
            return  # the client left before its body ended: nobody to answer
        environ = build_environ(scope, None)  # type: ignore[arg-type]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.input_terminated"] = True
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.errors"] = sys.stderr
        if self._runs_inline(scope):
            # In a greenlet: the handler's Redis round trips are awaited, not blocked on.
            answer = await awaiting.run(_call, self.wsgi, environ)
        else:
            # connexion's request context lives in context variables: the thread runs
            # in a copy of this task's.
            context = contextvars.copy_context()
            answer = await asyncio.get_running_loop().run_in_executor(
                self.pool, context.run, _call, self.wsgi, environ
            )
        status, headers, payload = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _runs_inline(self, scope: Scope) -> bool:
        return marked(scope, _ON_LOOP)


def marked(scope: Scope, mark: str) -> bool:
    """Whether the handler of the request's operation (connexion routed it) has `mark`."""
    operation = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
    if operation is None:  # a route outside the spec
        return False
    found = _MARKS.get((operation, mark))
    if found is None:
        found = _MARKS[(operation, mark)] = getattr(get_function_from_name(operation), mark, False)
    return found


_MARKS: dict[tuple[str, str], bool] = {}


def bridge(app: FlaskApp, threads: int) -> None:
    """Put a `LoopBridge` where connexion's FlaskApp keeps its a2wsgi adapter."""
    app._middleware_app.asgi_app = LoopBridge(app.app, threads)  # type: ignore[assignment]


def _decorate_once(flask_app: flask.Flask) -> None:
    """Each connexion view replaced by the same decorators, built once."""
    views = flask_app.view_functions
    for endpoint, view in list(views.items()):
        if isinstance(view, FlaskOperation):
            once = _OnceDecorator(pythonic_params=view.pythonic_params, jsonifier=view.jsonifier)
            views[endpoint] = once(view.__wrapped__)  # type: ignore[attr-defined]


class _OnceDecorator(FlaskDecorator):
    """connexion's `FlaskDecorator`, its decorators built once rather than per request."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated = self.decorate(function)
        parsers: list[Any] = []  # a view serves one operation: its parser, made once

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not parsers:
                parsers.append(self.uri_parser)
            return decorated(self.framework.get_request(uri_parser=parsers[0]))

        return wrapper


async def _whole_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _call(
    wsgi: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the WSGI app to the end: its status, headers and whole body."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        # Nothing is sent before the app returns, so a later call (with `exc_info`, an
        # error page) may always replace the status and headers (PEP 3333).
        started[:] = [status, headers]
        return chunks.append

    chunks: list[bytes] = []
    iterable = wsgi(environ, start_response)
    try:
        chunks.extend(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    status, headers = started
    encoded = [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers]
    return int(status.split(" ", 1)[0]), encoded, b"".join(chunks)
