"""Where each kind of event goes: one `Sink` per Redis stream.

A sink owns its stream (named after its collection), the kinds its messages carry
(each message names its kind: `footfall.serializer`), an optional prepare step that
runs on the decoded batch (enrichment, privacy) and the writer that stores it. The API
queues an event on its kind's sink's stream; the flusher reads every sink's stream and
hands each batch to its sink. Neither knows any kind by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError
from redis import Redis

from footfall import serializer
from footfall.edx.privacy import EdxPrivacy
from footfall.enrich import Enricher
from footfall.enrich.privacy import Privacy
from footfall.events import Event, ExitLink, PageView, TutorialCompletion, TutorialProgress
from footfall.events.edx import EdxEvent
from footfall.events.usage_log import UsageLog, UsageLogChange
from footfall.events.visit_duration import VisitDuration
from footfall.settings import Settings
from footfall.stats.rollup import CountedInsert
from footfall.store import collections
from footfall.store.collections import Collection
from footfall.store.streams import Entry
from footfall.store.writers import (
    DeadLetter,
    Decoded,
    Insert,
    Merge,
    TutorialStates,
    Writer,
)

Doc = dict[str, Any]


class Message(Protocol):
    """What a stream message decodes into: a kind with `document(data)`."""

    kind: str

    @classmethod
    def document(cls, data: dict[str, Any]) -> Doc: ...


#: Runs on a decoded batch before it is written: returns the documents to store, in
#: order, the same objects; one it leaves out is acked without being stored.
Prepare = Callable[[list[Doc]], list[Doc]]


def privacy(sink: Sink, settings: Settings, redis: Redis) -> Prepare:
    """The privacy rules as a prepare step: for a kind that carries a visitor's address,
    and the URLs and free-form fields its collection declares `redacted`."""
    cache_size = settings.enrichment.geoip_cache_size
    return Privacy.of(sink.collection, settings.privacy, cache_size)


def enrichment(sink: Sink, settings: Settings, redis: Redis) -> Prepare:
    """Page views' enrichment (`footfall.enrich`), which applies the privacy rules too."""
    return Enricher(settings, redis)


@dataclass(frozen=True)
class Sink:
    collection: Collection
    #: The message kinds of the stream; the first reads a message that names none.
    messages: tuple[type[Message], ...]
    #: The ingest kinds queued here (those the batch endpoint takes); default: `messages`.
    kinds: tuple[type[Event], ...] = ()
    writer: Callable[[Sink, Settings, Redis], Writer] = Insert
    prepare: Callable[[Sink, Settings, Redis], Prepare] | None = None
    _by_kind: dict[str, type[Message]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_kind", {m.kind: m for m in self.messages})
        if not self.kinds:
            object.__setattr__(self, "kinds", self.messages)

    @property
    def stream(self) -> str:
        """The stream's name (after the prefix): its collection's."""
        return self.collection.name

    def decode(self, entries: Sequence[Entry]) -> tuple[Decoded, list[DeadLetter]]:
        """Each entry's document, by the kind its message names; a dead letter for an
        entry that does not decode (it never will)."""
        decoded, dead = [], []
        for entry in entries:
            try:
                kind, data = serializer.loads(entry.payload)
                model = self._by_kind.get(kind or self.messages[0].kind)
                if model is None:
                    raise ValueError(f"no kind {kind!r} in the {self.stream} stream")
                decoded.append((entry, model.document(data)))
            except (ValidationError, ValueError) as error:
                dead.append(DeadLetter(entry, "the event does not decode", str(error)))
        return decoded, dead


SINKS: tuple[Sink, ...] = (
    Sink(collections.PAGEVIEWS, (PageView,), prepare=enrichment, writer=CountedInsert),
    Sink(collections.EXIT_LINKS, (ExitLink,), prepare=privacy, writer=CountedInsert),
    Sink(collections.VISIT_DURATIONS, (VisitDuration,), prepare=privacy),
    Sink(collections.EDX_EVENTS, (EdxEvent,), prepare=EdxPrivacy.step),
    Sink(collections.USAGE_LOGS, (UsageLogChange,), kinds=(UsageLog,), writer=Merge),
    Sink(
        collections.TUTORIAL_PROGRESS,
        (TutorialProgress, TutorialCompletion),
        writer=TutorialStates,
    ),
)

#: Every ingest kind, by the name a batch item gives.
KINDS: dict[str, type[Event]] = {kind.kind: kind for sink in SINKS for kind in sink.kinds}
#: The sink of each ingest kind, by the name a batch item gives.
BY_KIND: dict[str, Sink] = {kind.kind: sink for sink in SINKS for kind in sink.kinds}
#: The sink of each stream.
BY_STREAM: dict[str, Sink] = {sink.stream: sink for sink in SINKS}
