"""The kinds of event Footfall ingests, by the name a batch item gives in `kind`.

Adding a kind means: a model here, its schema in the spec, a collection definition in
`footfall.store.collections`, and a handler. The queue and flusher need no change.
"""

from footfall.events.base import Event, Received
from footfall.events.edx import EdxEvent
from footfall.events.exit_link import ExitLink
from footfall.events.pageview import PageView
from footfall.events.progress import TutorialCompletion, TutorialProgress
from footfall.events.usage_log import UsageLog

KINDS: dict[str, type[Event]] = {
    kind.kind: kind
    for kind in (PageView, ExitLink, UsageLog, TutorialProgress, TutorialCompletion, EdxEvent)
}

__all__ = [
    "KINDS",
    "EdxEvent",
    "Event",
    "ExitLink",
    "PageView",
    "Received",
    "TutorialCompletion",
    "TutorialProgress",
    "UsageLog",
]
