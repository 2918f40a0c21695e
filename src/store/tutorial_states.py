"""Progress events merged into one state per (username, course_id, tutorial_id, language).

Every fact is merged with a commutative, idempotent operator, so any order and any
number of replays give the same facts:

- `minutes.<n>` and `visits.<id>.minutes.<n>`: the earliest time minute n was watched
  (`$min`), in any visit and in that visit;
- `visits.<id>.first` / `.last`, `first_at` / `last_at`: `$min` / `$max` of event times;
- `duration_s`: the longest the player reported (`$max`);
- `resume` and `toggle`: the latest progress event / manual toggle, by `at` then
  `log_id` (a conditional set: last writer wins, ties broken the same way everywhere).

A batch's events are combined per state with the same operators, then each state is
one upsert: the operators over the stored facts, and the derived fields
(`footfall.tutorials.completion.derive`) of the stored facts read just before, merged in
Python with the same operators. So that a flusher never stores a derivation of facts
another flusher has changed since it read them, the upsert's filter names the `rev` it
read (`rev` counts merges): if the state changed, or appeared, meanwhile, the filter
matches nothing, the upsert's insert collides with the existing `_id` (a duplicate key
error), and the state is read and merged again.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pymongo import UpdateOne

from footfall.store.streams import Entry
from footfall.tutorials.completion import Facts, derive, minute_of

KEY = ("username", "course_id", "tutorial_id", "language")
Doc = dict[str, Any]

#: What a merge reads back before it writes: the facts and their revision.
READ_BACK = {name: 1 for name in ("duration_s", "minutes", "visits", "toggle", "rev")}


def state_id(key: Doc) -> str:
    """The state's `_id`: its key, so that the states of a batch are read by `_id`."""
    return orjson.dumps([key[name] for name in KEY]).decode()


def _later(candidate: Doc, current: Doc | None) -> bool:
    """Last writer wins: the later `at`, then the greater `log_id`."""
    if current is None:
        return True
    return (candidate["at"], candidate["log_id"]) > (current["at"], current["log_id"])


@dataclass
class StateDelta:
    """The facts a batch brings to one state, combined as MongoDB will combine them."""

    key: Doc
    entries: list[Entry] = field(default_factory=list)
    earliest: dict[str, datetime] = field(default_factory=dict)
    greatest: dict[str, Any] = field(default_factory=dict)
    latest: dict[str, Doc] = field(default_factory=dict)

    @property
    def state_id(self) -> str:
        return state_id(self.key)

    def add(self, entry: Entry, event: Doc) -> None:
        self.entries.append(entry)
        if event["kind"] == "tutorial_completion":
            self._last_writer("toggle", _fact(event, "completed"))
        else:
            self._progress(event)

    def _progress(self, event: Doc) -> None:
        at, visit = event["at"], f"visits.{event['visit_id']}"
        minute = minute_of(event["position_s"], event["duration_s"])
        for path in (
            "first_at",
            f"minutes.{minute}",
            f"{visit}.first",
            f"{visit}.minutes.{minute}",
        ):
            self.earliest[path] = min(at, self.earliest.get(path, at))
        for path, value in (
            ("last_at", at),
            (f"{visit}.last", at),
            ("duration_s", event["duration_s"]),
        ):
            self.greatest[path] = max(value, self.greatest.get(path, value))
        self._last_writer("resume", _fact(event, "position_s"))

    def _last_writer(self, name: str, candidate: Doc) -> None:
        if _later(candidate, self.latest.get(name)):
            self.latest[name] = candidate

    def merged(self, stored: Doc | None) -> Doc:
        """The facts after this delta, merged in Python exactly as `update` merges them."""
        state = deepcopy(stored) if stored else {}
        for path, value in self.earliest.items():
            current = _get(state, path)
            _put(state, path, value if current is None else min(value, current))
        for path, value in self.greatest.items():
            current = _get(state, path)
            _put(state, path, value if current is None else max(value, current))
        for name, value in self.latest.items():
            if _later(value, state.get(name)):
                state[name] = value
        return state

    def update(self, stored: Doc | None, threshold: float) -> UpdateOne:
        """One pipeline upsert: the operators over the stored facts, the derived fields,
        and `rev` + 1; only if `rev` is still the one read (see the module's doc)."""
        derived = derive(Facts.from_document(self.merged(stored)), threshold).document()
        merged: Doc = {name: {"$literal": value} for name, value in self.key.items()}
        for path, value in self.earliest.items():
            merged[path] = {"$min": [{"$literal": value}, f"${path}"]}
        for path, value in self.greatest.items():
            merged[path] = {"$max": [{"$literal": value}, f"${path}"]}
        for name, value in self.latest.items():
            merged[name] = {"$cond": [_newer(value, name), {"$literal": value}, f"${name}"]}
        merged |= {name: {"$literal": value} for name, value in derived.items()}
        merged["rev"] = {"$add": [{"$ifNull": ["$rev", 0]}, 1]}
        read_rev = stored["rev"] if stored else {"$exists": False}
        return UpdateOne({"_id": self.state_id, "rev": read_rev}, [{"$set": merged}], upsert=True)


def _newer(candidate: Doc, name: str) -> Doc:
    """`candidate` is later than the stored `name` (by `at`, then `log_id`), or none is."""
    at, log_id = {"$literal": candidate["at"]}, {"$literal": candidate["log_id"]}
    return {
        "$or": [
            {"$gt": [at, {"$ifNull": [f"${name}.at", None]}]},
            {"$and": [{"$eq": [at, f"${name}.at"]}, {"$gt": [log_id, f"${name}.log_id"]}]},
        ]
    }


def _fact(event: Doc, value_field: str) -> Doc:
    """A last-writer fact: when, which event, the value, in which visit."""
    return {
        "at": event["at"],
        "log_id": event["log_id"],
        value_field: event[value_field],
        "visit_id": event["visit_id"],
    }


def _get(doc: Doc, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _put(doc: Doc, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[last] = value


def deltas(events: Iterable[tuple[Entry, Doc]]) -> list[StateDelta]:
    """A batch's events grouped and combined per state, in the order states first appear."""
    by_state: dict[str, StateDelta] = {}
    for entry, event in events:
        key = {name: event[name] for name in KEY}
        by_state.setdefault(state_id(key), StateDelta(key)).add(entry, event)
    return list(by_state.values())
