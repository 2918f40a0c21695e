"""User agent (and client hints) → client, OS, device type, brand and model, and bots.

Classified by [device-detector](https://pypi.org/project/device-detector/), the Python
port of Matomo's classifier, so that Footfall's device types and bots agree with the
industry's reference (`tests/test_enrich_useragent_corpus.py` measures it on Matomo's
own fixtures). Matomo's fine device types are kept in `device.fine_type`; `device.type`
keeps the coarse classes that the statistics group by (`COARSE_TYPES`).

A new agent costs device-detector's parsers a walk of its regex lists (850 bots, 600
browsers, 2,000 device brands and their models): some 2.5 ms on average here, 40 µs for
ua-parser before. `footfall.enrich.detector` prefilters every list with RE2, with the
same answers: a new agent now costs some 0.35 ms (0.6 ms the first time a process meets
a pattern, which the `regex` module then compiles), after 0.3 to 2 s of start-up to build
the prefilters (bench/enrich.py measures all of it). Three things limit how often it is
paid:
- one LRU entry per distinct (user agent, client hints): real traffic repeats agents;
- a bot is known after the bot lookup alone (Matomo stops there too: a bot's claimed
  device is not a fact about it);
- the device lookup is cached apart, keyed by the agent with its client's version
  masked: "Chrome/124.0.6367.113" and "Chrome/125.0.6422.53" on the same phone are one
  device lookup (browsers update every few weeks; phones do not change).
Absent data stays absent: an unknown client, OS, brand or model is left out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from footfall.enrich.detector import Detector
from footfall.store.devicetypes import COARSE_TYPES

#: Bots that Matomo counts as clients (or does not know), but that no person drives:
#: HTTP libraries (Matomo's "library" clients), headless browsers (Matomo's "Headless
#: Chrome"; PhantomJS and SlimerJS it takes for Safari and Firefox), and an agent of
#: which Matomo knows nothing (no client, OS or device) that does not even claim to be
#: a browser ("kube-probe/1.29"; the port names any such "Name/1.0" a "generic"
#: client): a script, not a person.
LIBRARY_CATEGORY = "HTTP Library"
HEADLESS_CATEGORY = "Headless Browser"
UNKNOWN_CATEGORY = "Unknown Client"
_HEADLESS_MARKERS = ("Headless", "PhantomJS", "SlimerJS")
_BROWSER_PREFIXES = ("mozilla/", "opera/")

Hints = Mapping[str, str]


class UserAgents:
    """Classifies user agents; one LRU entry per (string, hints), one per device lookup.

    Returned fields are shared by every document with the same agent: callers get a copy
    (`fields`) that they may change.
    """

    def __init__(self, cache_size: int) -> None:
        Detector.prepare()
        self._classify = lru_cache(maxsize=cache_size)(self._classify_uncached)
        self._devices: OrderedDict[tuple[Any, ...], dict[str, str]] = OrderedDict()
        self._devices_max = cache_size
        self.device_lookups = 0

    def fields(self, user_agent: str, hints: Hints | None = None) -> dict[str, Any]:
        """The document fields for a user agent and its client hints (a fresh copy)."""
        key = tuple(sorted(hints.items())) if hints else ()
        return {
            name: dict(value) if isinstance(value, dict) else value
            for name, value in self._classify(user_agent, key).items()
        }

    def cache_info(self) -> Any:
        return self._classify.cache_info()

    def _device(self, found: Detector, version: str, key: tuple[Any, ...]) -> dict[str, str]:
        """Matomo's device for an agent, cached by the agent with its client's version masked.

        The device parsers read the agent, the hints and the OS; the TV rules also read the
        client's name: `key` holds all of them, only the client's version is masked.
        `found` has its bot, OS and client parsed: on a miss, only the device is looked up.
        """
        user_agent = found.user_agent
        masked = user_agent.replace(f"/{version}", "/\0") if version else user_agent
        key = (masked, *key)
        if (device := self._devices.get(key)) is not None:
            self._devices.move_to_end(key)
            return device
        self.device_lookups += 1
        device = _device_lookup(found)
        self._devices[key] = device
        if len(self._devices) > self._devices_max:
            self._devices.popitem(last=False)
        return device

    def _classify_uncached(self, user_agent: str, hints: tuple[tuple[str, str], ...]) -> dict:
        # The bot lookup first, and nothing else for a bot; then OS and client (the fast
        # part of device-detector); the device lookup only for what is not a bot.
        found = Detector(user_agent, headers=dict(hints) or None, skip_device_detection=True)
        found.parse_bot()
        if found.is_bot():
            bot = found.all_details["bot"]
            return _bot(bot.get("name", ""), bot.get("category", ""))
        found.skip_bot_detection = True  # done above: parse() would look again
        found.parse()
        fields: dict[str, Any] = {}
        client, version = found.client_name(), found.client_version()
        client_type = str(found.client_type())
        if client_type == "library":
            return _bot(client, LIBRARY_CATEGORY)
        for marker in _HEADLESS_MARKERS:
            if marker in user_agent:
                return _bot(client if client.startswith(marker) else marker, HEADLESS_CATEGORY)
        if client:
            fields["browser"] = _versioned(client, version)
            fields["client_type"] = client_type
        if os_name := found.os_name():
            fields["os"] = _versioned(os_name, found.os_version())
        fields["device"] = self._device(
            found, version, (hints, os_name, found.os_version(), client)
        )
        if fields["device"]["type"] == "other" and "fine_type" not in fields["device"]:
            # The port's "generic" client is any "Name/1.0" it could not place.
            known_client = client and client_type != "generic"
            if not (known_client or os_name or user_agent.lower().startswith(_BROWSER_PREFIXES)):
                return _bot(client, UNKNOWN_CATEGORY)
            if found.uses_mobile_browser():
                # No device found, but a browser made for phones only (Opera Mini on J2ME).
                fields["device"] = {**fields["device"], "type": "mobile"}
        fields["is_bot"] = False
        return fields


def _device_lookup(found: Detector) -> dict[str, str]:
    # parse() again, with the device: bot, OS and client are parsed already, so it does only
    # what a full parse adds (the device parsers and Matomo's rules after them).
    found.skip_device_detection = False
    found.parse()
    fine = str(found.device_type())
    device = {"type": COARSE_TYPES.get(fine, "other")}
    if fine:
        device["fine_type"] = fine
    if brand := found.device_brand():
        device["brand"] = brand
    if model := found.device_model():
        device["model"] = model
    return device


def _bot(name: str, category: str) -> dict[str, Any]:
    bot = {"name": name} if name else {}
    if category:
        bot["category"] = category
    return {"device": {"type": "bot"}, "is_bot": True, "bot": bot}


def _versioned(family: str, version: str) -> dict[str, str]:
    return {"family": family, "version": version} if version else {"family": family}
