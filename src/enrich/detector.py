"""device-detector's `DeviceDetector`, its regex lists prefiltered by RE2: same answers, faster.

device-detector (the Python port of Matomo's classifier) finds a bot, an OS, a client or a
device by trying the regexes of a YAML list one after the other until one matches: some
850 bots, 350 operating systems, 600 browsers, 2,000 device brands, each a backtracking
search of the `regex` module (and a compilation, the first time a pattern is tried). That
walk is most of what a new agent costs. Matomo's PHP tests one regex combining a whole
list before walking it; here each list is compiled once into an RE2 `Filter` (google-re2,
Google's FilteredRE2: the literal atoms of every pattern are found in one pass over the
agent, and only the patterns whose atoms occur are run, by a linear-time engine). The
library's parsers then walk only the entries that RE2 says match, in the list's order, and
confirm each with the library's own regex: the first match, its captures and all that the
parsers derive from it are the library's own.

RE2 can say "no" wrongly only where its semantics differ from the `regex` module's, so:
- RE2 has no lookarounds: a pattern with some is given to RE2 without them (it then
  matches wherever the pattern does: an assertion only narrows a match); what RE2 still
  cannot run (conditionals, a few of 20,000) stays a candidate for every agent;
- the `regex` module's boundary prefix of every pattern (`BOUNDED_REGEX`) is left out of
  the RE2 copy: a pattern without it matches wherever the bounded one does;
- an agent with anything but printable ASCII gets the whole list: RE2's `\\d`, `\\w`, `\\s`
  are ASCII, the `regex` module's are Unicode;
- when client hints carry a device model, the `Device` parser also matches the brands'
  model regexes against it: it walks the brands and models that can match the agent or
  the model.
`tests/test_enrich_detector.py` checks that the answers equal the stock `DeviceDetector`'s
on Matomo's fixtures.

The hooks are device-detector's own: the detector's `CLIENT_PARSERS` and `DEVICE_PARSERS`
tuples (subclasses of its parsers, same names: it loads per-class word lists by class
name), the parsers' `regex_list` property, and `parse_bot`/`parse_os` (four lines each,
copied, as they name their parser classes directly). Two reach into its internals: the
detector's list of normalizing regexes (`_normalized_regex_list`, prefiltered the same
way), and reading a pattern without compiling it (past `RegexLazy.__getattribute__`);
pyproject pins device-detector below 7, and the test fails if a hook stops holding.
"""

from __future__ import annotations

import threading
from typing import Any

import re2
from device_detector import DeviceDetector
from device_detector.parser import OS, Bot, Device, Parser
from device_detector.settings import BOUNDED_REGEX
from device_detector.yaml_loader import normalized_regex_list

Entry = dict[str, Any]

_PREFIX, _SUFFIX = BOUNDED_REGEX.split("{}")
_NORMALIZE = "local/device/normalize.yml"  # DeviceDetector's, loaded once
_IGNORECASE = 2  # regex.IGNORECASE, the flag of device-detector's RegexLazyIgnore
_MODELS_WORTH_A_FILTER = 16  # shorter model lists are walked as they are
_CHUNK = 2_500  # patterns per RE2 filter: one of 15,000 model regexes fails to compile


def _pattern(lazy: Any) -> tuple[str, bool]:
    """A `RegexLazy`'s pattern and whether it ignores case, without compiling it."""
    pattern = object.__getattribute__(lazy, "pattern")
    flags = object.__getattribute__(lazy, "flags")
    return pattern, bool(flags & _IGNORECASE)


class Candidates:
    """The entries of one regex list that can match an agent, in the list's order."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.always: list[int] = []  # what RE2 cannot run: always walked
        # RE2 filters of up to _CHUNK patterns, each with its patterns' entry indexes.
        self._filters: list[tuple[re2.Filter, list[int]]] = []
        options = re2.Options()
        options.log_errors = False
        options.never_capture = True
        for index, entry in enumerate(entries):
            pattern, ignore_case = _pattern(entry["regex"])
            if pattern.startswith(_PREFIX) and pattern.endswith(_SUFFIX):
                pattern = pattern[len(_PREFIX) : -len(_SUFFIX)]
            options.case_sensitive = not ignore_case
            if not self._filters or len(self._filters[-1][1]) == _CHUNK:
                self._filters.append((re2.Filter(), []))
            chunk, indexes = self._filters[-1]
            for relaxed in (pattern, _without_lookarounds(pattern)):
                try:
                    chunk.Add(relaxed, options)
                except re2.error:
                    continue
                indexes.append(index)
                break
            else:
                self.always.append(index)
        self._filters = [(chunk, indexes) for chunk, indexes in self._filters if indexes]
        for chunk, _ in self._filters:
            chunk.Compile()

    def __call__(self, text: str) -> list[Entry]:
        if (indexes := self.indexes(text)) is None:
            return self.entries
        return [self.entries[i] for i in indexes]

    def indexes(self, text: str) -> list[int] | None:
        """The indexes of the entries that can match, in order; None for all of them."""
        if not (self._filters and text.isascii() and text.isprintable()):
            return None
        found = set(self.always)
        for chunk, indexes in self._filters:
            found.update(indexes[i] for i in chunk.Match(text) or ())
        return sorted(found)


_LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")


def _without_lookarounds(pattern: str) -> str:
    """The pattern without its lookahead and lookbehind groups."""
    kept = []
    at = 0
    while at < len(pattern):
        if pattern.startswith(_LOOKAROUNDS, at):
            at = _token_end(pattern, at)
            continue
        end = _token_end(pattern, at) if pattern[at] in "\\[" else at + 1
        kept.append(pattern[at:end])
        at = end
    return "".join(kept)


def _token_end(pattern: str, at: int) -> int:
    """Where the escape, character class or group that starts at `at` ends."""
    if pattern[at] == "\\":
        return at + 2
    if pattern[at] == "[":
        at += 2 if pattern.startswith("[^", at) else 1
        at += 1 if pattern.startswith("]", at) else 0  # a leading "]" is a member
        while at < len(pattern) and pattern[at] != "]":
            if pattern.startswith("[:", at):  # a POSIX class: [:alpha:]
                end = pattern.find(":]", at + 2)
                at = end + 2 if end >= 0 else len(pattern)
                continue
            at += 2 if pattern[at] == "\\" else 1
        return at + 1
    depth, at = 1, at + 1  # a group
    while at < len(pattern) and depth:
        if pattern[at] in "\\[":
            at = _token_end(pattern, at)
            continue
        depth += {"(": 1, ")": -1}.get(pattern[at], 0)
        at += 1
    return at


_built: dict[int, Candidates] = {}
_lock = threading.Lock()


def candidates(entries: list[Entry]) -> Candidates:
    """The prefilter of one of device-detector's lists, built once.

    device-detector loads each list once; the prefilter keeps it, so its id is never reused.
    """
    if (found := _built.get(id(entries))) is None:
        with _lock:
            if (found := _built.get(id(entries))) is None:
                found = _built[id(entries)] = Candidates(entries)
    return found


class _Prefiltered(Parser):
    """A device-detector parser that walks only the entries its list's prefilter passes."""

    __slots__ = ()

    @property
    def regex_list(self) -> list[Entry]:
        entries = super().regex_list
        if not entries:
            return entries
        if isinstance(self, Device) and self.client_hints and self.client_hints.model:
            return _for_hinted_model(entries, self.user_agent, self.client_hints.model)
        return [
            _with_models(entry, self.user_agent) for entry in candidates(entries)(self.user_agent)
        ]


def _with_models(entry: Entry, user_agent: str) -> Entry:
    """A brand's entry with only the models that can match (its model list walked after it).

    A brand's model list gets its prefilter the first time the brand matches an agent:
    most of the 1,450 brands are rare, and their filters would take memory for nothing.
    """
    models = entry.get("models")
    if models is None or len(models) < _MODELS_WORTH_A_FILTER:
        return entry
    return {**entry, "models": _some(candidates(models)(user_agent), models)}


def _some(kept: list[Entry], models: list[Entry]) -> list[Entry]:
    """`kept`, or one model that cannot match: `Device._parse` tells a brand with models
    from one without by the list's truth (a brand without models is matched otherwise)."""
    return kept or models[:1]


class _AllModels:
    """Every model regex of a brand list in one prefilter, each with its brand's index."""

    def __init__(self, entries: list[Entry]) -> None:
        models = [
            (index, model)
            for index, entry in enumerate(entries)
            for model in entry.get("models", [])
        ]
        self.brands = [index for index, _ in models]
        self.candidates = Candidates([model for _, model in models])


_all_models: dict[int, _AllModels] = {}


def _for_hinted_model(entries: list[Entry], user_agent: str, model: str) -> list[Entry]:
    """The brands (and their models) that can match an agent or its client hints' model.

    With a `Sec-CH-UA-Model` hint, device-detector's `Device` parser tries, for a brand
    whose regex does not match the agent, every one of its model regexes on the hinted
    model (or the brand's own regex, for a brand without models): all 15,000 of them
    unfiltered. Those that can match are found with one prefilter over every model,
    built the first time a hint carries a model (0.5 s, once per process).
    """
    brands = candidates(entries)
    if (all_models := _all_models.get(id(entries))) is None:
        with _lock:
            if (all_models := _all_models.get(id(entries))) is None:
                all_models = _all_models[id(entries)] = _AllModels(entries)
    on_agent = brands.indexes(user_agent)
    on_model = brands.indexes(model)
    models = all_models.candidates.indexes(model)
    if on_agent is None or on_model is None or models is None:
        return entries
    hinted = {id(all_models.candidates.entries[i]) for i in models}
    matches_agent = set(on_agent)
    chosen = []
    for index in sorted({*on_agent, *on_model, *(all_models.brands[i] for i in models)}):
        entry = entries[index]
        if "models" in entry:
            # Walked on the hinted model, or on the agent once the brand matched it.
            kept = set(hinted)
            if index in matches_agent:
                kept.update(id(m) for m in _with_models(entry, user_agent)["models"])
            walked = [m for m in entry["models"] if id(m) in kept]
            entry = {**entry, "models": _some(walked, entry["models"])}
        chosen.append(entry)
    return chosen


def _prefiltered(parser: type[Parser]) -> type[Parser]:
    return type(parser.__name__, (_Prefiltered, parser), {"__slots__": ()})


_PrefilteredBot = _prefiltered(Bot)
_PrefilteredOS = _prefiltered(OS)


class Detector(DeviceDetector):
    """`DeviceDetector` with every parser prefiltered; construct it as the library's."""

    __slots__ = ()
    CLIENT_PARSERS = tuple(map(_prefiltered, DeviceDetector.CLIENT_PARSERS))
    DEVICE_PARSERS = tuple(map(_prefiltered, DeviceDetector.DEVICE_PARSERS))
    PARSERS = (_PrefilteredBot, _PrefilteredOS, *CLIENT_PARSERS, *DEVICE_PARSERS)

    def __new__(cls, *args: Any, **kwargs: Any) -> Detector:
        # The library's own LRU of 1,024 agents would hand back a stock DeviceDetector.
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # normalize() tries every regex of normalize.yml on every agent with sub(): only
        # those that match can change it.
        self._normalized_regex_list = candidates(self._normalized_regex_list)(self.user_agent)

    def parse_bot(self) -> None:
        if (
            not self.skip_bot_detection
            and not self.bot
            and (bot := _PrefilteredBot(self.user_agent, self.client_hints).parse())
        ):
            self.bot = bot
            self.all_details["bot"] = bot.ua_data

    def parse_os(self) -> None:
        if not self.os and (os := _PrefilteredOS(self.user_agent, self.client_hints).parse()):
            self.os = os
            self.all_details["os"] = os.ua_data

    @classmethod
    def prepare(cls) -> None:
        """Build the prefilters of the lists every agent meets (0.3 to 2 s, once a process)."""
        for parser in cls.PARSERS:
            instance = parser("", None)
            if entries := super(_Prefiltered, instance).regex_list:  # type: ignore[misc]
                candidates(entries)
        candidates(normalized_regex_list(_NORMALIZE))
