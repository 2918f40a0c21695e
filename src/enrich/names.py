"""URL path → event name, by an ordered list of regex rules (first match wins).

The system Footfall replaces dropped every view whose URL no rule matched; here such a
view is kept under a default name, and `footfall events unmapped` lists those paths so
that operators can add rules. Rules are compiled once, at start-up, where a bad one
stops the process with its position, name and pattern rather than failing every batch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

#: The stored event_name is at most this long (the validator says so too).
MAX_NAME = 128


class RulesError(ValueError):
    """The rules file cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    pattern: str
    name: str
    regex: re.Pattern[str]


def shipped_rules() -> Path:
    """The sample rules for an e-learning site, shipped as package data."""
    return Path(str(resources.files("footfall") / "rules" / "elearning.yaml"))


class EventNamer:
    def __init__(self, rules: list[Rule], default: str, cache_size: int = 20_000) -> None:
        self.rules = rules
        self.default = default
        self._name = lru_cache(maxsize=cache_size)(self._name_uncached)

    @classmethod
    def from_file(cls, path: Path, default: str) -> EventNamer:
        return cls(load_rules(path), default)

    def name(self, path: str) -> str:
        """The event name of a URL path; its query string and fragment are not matched."""
        return self.match(path)[0]

    def match(self, path: str) -> tuple[str, dict[str, str]]:
        """The event name and the rule's named groups that matched (e.g. course,
        tutorial, language of `/watch/<course>/<tutorial>/<language>/`)."""
        return self._name(path.split("?", 1)[0].split("#", 1)[0])

    def _name_uncached(self, path: str) -> tuple[str, dict[str, str]]:
        for rule in self.rules:
            if found := rule.regex.search(path):
                groups = {k: v for k, v in found.groupdict().items() if v}
                return rule.name, groups
        return self.default, {}


def load_rules(path: Path) -> list[Rule]:
    """Read and compile the rules: a list of {pattern, name}, or {rules: [...]}.

    YAML is a superset of JSON, so one loader reads both.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulesError(f"event rules {path}: cannot be read: {error}") from error
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
    if not isinstance(data, list):
        raise RulesError(f"event rules {path}: expected a list of {{pattern, name}} rules")
    return [_compile(path, number, item) for number, item in enumerate(data, start=1)]


def _compile(path: Path, number: int, item: Any) -> Rule:
    where = f"event rules {path}: rule {number}"
    if not isinstance(item, dict) or set(item) != {"pattern", "name"}:
        raise RulesError(f"{where}: expected exactly the keys pattern and name, got {item!r}")
    pattern, name = item["pattern"], item["name"]
    where = f"{where} ({json.dumps(name)})"
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
        raise RulesError(f"{where}: name must be a string of 1 to {MAX_NAME} characters")
    if not isinstance(pattern, str) or not pattern:
        raise RulesError(f"{where}: pattern must be a non-empty string")
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise RulesError(f"{where}: bad pattern {pattern!r}: {error}") from error
    return Rule(pattern, name, regex)
