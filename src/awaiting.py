"""Synchronous code on the event loop that waits for I/O without stopping the loop.

The ingest handlers run on the loop's own thread (`footfall.web.bridge`): Flask is
synchronous, and a hop to a thread and back cost more than the handler itself. But a
synchronous Redis call there stops the loop for the whole round trip: a worker then
serves one request at a time whenever it waits for Redis, idle, while other requests
wait (measured on a busy 2-core machine: one worker 31% busy at 386 requests/s). On a
network where Redis is a host away, the same stall caps a worker at one round trip per
request.

`run(function, ...)` runs the synchronous function in a greenlet from a coroutine;
inside it, `wait_for(awaitable)` suspends that greenlet and hands the awaitable to the
coroutine, which awaits it on the loop (other requests go on meanwhile) and resumes the
greenlet with the result or the exception. The function's code stays synchronous
and runs on the loop's thread; only where it chooses to (`bridged()`), its I/O is
awaited. The greenlet runs in a copy of the task's context, so connexion's request
context and the metrics' tally are there as on the loop.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")


class _Bridged(greenlet):  # type: ignore[misc]
    """A greenlet whose parent is a coroutine on the loop, ready to await for it."""


class _Await:
    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable


async def run(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` to its end; its `wait_for` calls are awaited here."""
    child = _Bridged(function)
    child.gr_context = contextvars.copy_context()
    signal = child.switch(*args)
    while not child.dead:
        try:
            value = await signal.awaitable
        except BaseException as error:  # handed to the code that awaited, in the greenlet
            signal = child.throw(error)
        else:
            signal = child.switch(value)
    return signal  # type: ignore[no-any-return]


def bridged() -> bool:
    """True inside `run`: `wait_for` may be called."""
    return isinstance(getcurrent(), _Bridged)


def wait_for(awaitable: Awaitable[T]) -> T:
    """Await `awaitable` on the loop, from synchronous code inside `run`."""
    current = getcurrent()
    if not isinstance(current, _Bridged):
        raise RuntimeError("wait_for outside awaiting.run")
    return current.parent.switch(_Await(awaitable))  # type: ignore[no-any-return]
