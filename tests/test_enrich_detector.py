"""The RE2-prefiltered detector answers exactly as device-detector's own, and its hooks hold.

The prefilter may only skip regexes that cannot match; if it skipped one that can (RE2
reading a pattern otherwise than the `regex` module), a field would differ here. The
agents are a seeded sample of Matomo's fixtures as device-detector ships them (client
hints included) with every bot; the stock detector takes some 10 s for them on one core.
"""

from __future__ import annotations

import inspect
import random
from importlib import resources
from typing import Any

import pytest
import yaml
from device_detector import DeviceDetector
from device_detector.parser import Parser
from device_detector.parser.device.device import Device

from footfall.enrich.detector import Candidates, Detector, _Prefiltered, _without_lookarounds

PER_FILE = 15
SAMSUNG_PHONE = (
    "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.113 Mobile Safari/537.36"
)


def fixtures() -> list[tuple[str, dict[str, str] | None]]:
    folder = resources.files("device_detector") / "tests" / "fixtures" / "upstream"
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".yml"))
    assert len(files) > 50, f"device-detector's fixtures not found in {folder}"
    rng = random.Random(14)
    chosen = []
    for file in files:
        entries = yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        if len(entries) > PER_FILE and file.name != "bots.yml":
            entries = rng.sample(entries, PER_FILE)
        for entry in entries:
            headers = {
                k: "" if v is None else str(v) for k, v in (entry.get("headers") or {}).items()
            }
            chosen.append((str(entry["user_agent"] or ""), headers or None))
    return chosen


#: Once answered differently: the prefilter left a brand with no models, which the
#: Device parser then matched as a brand without models ("Alcatel" for the stock "").
HINTED = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/117.0.0.0 Mobile Safari/537.36",
    {
        "Sec-CH-UA-Platform": "Android",
        "Sec-CH-UA-Mobile": "?1",
        "Sec-CH-UA-Platform-Version": "11.0.0",
        "Sec-CH-UA-Model": "4063T",
    },
)


def details(detector: type[DeviceDetector], agent: str, headers: Any) -> str:
    found = detector(agent, headers=headers, check_cache=False).parse()
    return repr(found.all_details)


def test_answers_equal_device_detectors_own_on_matomos_fixtures() -> None:
    agents = [*fixtures(), HINTED]
    differ = [
        agent
        for agent, headers in agents
        if details(Detector, agent, headers) != details(DeviceDetector, agent, headers)
    ]
    assert len(agents) > 2_000
    assert differ == []


def test_a_device_lookup_walks_a_handful_of_the_two_thousand_brands() -> None:
    stock = Device(SAMSUNG_PHONE, None).regex_list
    walked = next(p for p in Detector.DEVICE_PARSERS if p.__name__ == "Device")(
        SAMSUNG_PHONE, None
    ).regex_list
    assert len(stock) > 1_500
    assert len(walked) < 10
    assert "Samsung" in [entry.get("brand") for entry in walked]
    samsung = next(entry for entry in walked if entry.get("brand") == "Samsung")
    assert 0 < len(samsung["models"]) < 10  # of several hundred


def test_the_librarys_hooks_still_hold() -> None:
    """What the prefilter relies on in device-detector (pinned below 7): if this fails, the
    detector still answers right (the test above) but walks the whole lists again."""
    # The parsers walk `self.regex_list`, which the prefiltered classes override.
    assert "self.regex_list" in inspect.getsource(Parser._parse)
    assert "self.regex_list" in inspect.getsource(Device._parse)
    # Every parser the detector runs is a prefiltered one.
    phone = Detector(SAMSUNG_PHONE).parse()
    for parser in (phone.os, phone.client, phone.device):
        assert isinstance(parser, _Prefiltered), parser
    bot = Detector("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    assert isinstance(bot.parse().bot, _Prefiltered)
    assert bot.is_bot()
    # The normalizing regexes are prefiltered too, and patterns are read uncompiled.
    assert len(phone._normalized_regex_list) < len(
        DeviceDetector(SAMSUNG_PHONE)._normalized_regex_list
    )


@pytest.mark.parametrize(
    ("pattern", "relaxed"),
    [
        (r"FeedR(?!eader)(?:/([\d.]+))?", r"FeedR(?:/([\d.]+))?"),
        (r"^(?!Apple).*?\b(?<!Apple-)(?:iPod|(?<!TV; )iPhone)", r"^.*?\b(?:iPod|iPhone)"),
        (r"a(?=[)(])b(?<=\)b)c", "abc"),
        (r"[(?!x](?!y)", "[(?!x]"),
        (r"[]a](?!b)[[:alpha:]](?<!c)", "[]a][[:alpha:]]"),
        (r"\(?!x\)", r"\(?!x\)"),
    ],
)
def test_re2_gets_patterns_without_their_lookarounds(pattern: str, relaxed: str) -> None:
    assert _without_lookarounds(pattern) == relaxed


def test_agents_that_are_not_printable_ascii_walk_the_whole_list() -> None:
    entries = Device(SAMSUNG_PHONE, None).regex_list
    prefilter = Candidates(entries)
    assert len(prefilter(SAMSUNG_PHONE)) < 10
    assert prefilter(SAMSUNG_PHONE.replace("SM-A536B", "SM-A536B\u00a0")) is entries
    assert prefilter(SAMSUNG_PHONE + "\t") is entries


def test_a_hinted_model_is_looked_for_among_the_brands_models() -> None:
    hints = {"Sec-CH-UA-Model": '"SM-A536B"', "Sec-CH-UA-Platform": '"Android"'}
    found = Detector("Mozilla/5.0 (Linux; Android 10; K)", headers=hints).parse()
    assert (found.device_brand(), found.device_model()) == ("Samsung", "Galaxy A53 5G")
    walked = found.device.regex_list
    assert "Samsung" in [entry.get("brand") for entry in walked]
    assert len(walked) < 20
