"""Processors: functions an event passes through before it is queued.

A processor takes the event (a dict, `kind` included) and returns it, changed or not, or
None to drop it. They run in order, in the thread that emits; one that raises drops
nothing: the error is logged and the event goes on unchanged (tracking never breaks a site).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

Event = dict[str, Any]
Processor = Callable[[Event], Event | None]


class NameFilter:
    """Allow and block lists of regular expressions on a name field (`kind` by default;
    `name` for Open edX events). A pattern matches from the start of the name, as
    event-tracking's `RegexFilter` does. With an allow list, only names it matches pass;
    the block list then removes some of them. An event without the field is kept."""

    def __init__(
        self, allow: Iterable[str] = (), block: Iterable[str] = (), field: str = "kind"
    ) -> None:
        self.allow = [re.compile(p) for p in allow]
        self.block = [re.compile(p) for p in block]
        self.field = field

    def __call__(self, event: Event) -> Event | None:
        name = event.get(self.field)
        if not isinstance(name, str):
            return event
        if self.allow and not any(p.match(name) for p in self.allow):
            return None
        if any(p.match(name) for p in self.block):
            return None
        return event
