"""The kinds of event Footfall ingests, by the name a batch item gives in `kind`.

Each kind's fields come from its schema in the spec; a model here adds only what the
request fills in and the rules JSON Schema cannot say. Where each kind is stored is its
stream's `footfall.sinks.Sink`; the kinds by name are `footfall.sinks.KINDS`.
"""

from footfall.events.base import Event, Limits, Received
from footfall.events.edx import EdxEvent
from footfall.events.exit_link import ExitLink
from footfall.events.pageview import PageView
from footfall.events.tutorial import TutorialCompletion, TutorialProgress
from footfall.events.usage_log import UsageLog

__all__ = [
    "EdxEvent",
    "Event",
    "ExitLink",
    "Limits",
    "PageView",
    "Received",
    "TutorialCompletion",
    "TutorialProgress",
    "UsageLog",
]
