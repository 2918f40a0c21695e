"""What one stored document adds to the rollups: counters in cells, and visitor registers.

A cell is (segment, dimension, value). The segment is what a query may filter by: bots
in or out (`h` humans, `b` bots), combined with nothing (`*`) or with one of event name
(`e:`), course (`c:`), country (`k:`) or device type (`d:`). Every figure is a sum over
views, so rollups only ever add (see docs/statistics.md for the derivations):

- `p` page views, `v` visits (on the entry view), on every dimension of the view;
- on the total (`t`): `f` first-time visits, `n` visits with a second view (not a bounce),
  `d` seconds between consecutive views of a visit (its duration);
- `x` on `exit`: +1 for a view's page, -1 for the page before it in the visit, so the sum
  over a range is the number of visits whose last view was that page;
- `trail` (the first three pages of a visit): +1 for the pages so far, -1 for one page
  fewer, so the sum counts visits by their opening sequence;
- `flow`: page → next page, one per view after the first;
- `la`/`lo` on `city`: coordinate sums, for the average position of a city's views.

Visit-level counters use the segment of the visit's entry view (its event and course), so
that a filtered bounce rate compares visits with visits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from footfall.stats import sketch
from footfall.stats.sources import classify, host_of

#: Dimensions a query may report (top N), by name in the API.
DIMENSIONS = (
    "page",
    "event",
    "course",
    "tutorial",
    "language",
    "country",
    "region",
    "city",
    "browser",
    "os",
    "device",
    "referrer",
    "domain",
    "source",
    "campaign",
    "exit",
    "flow",
    "trail",
    "link",
    "link_domain",
)
#: Filters, by name in the API, and the segment prefix each uses.
FILTERS = {"event": "e", "course": "c", "country": "k", "device": "d"}

#: What decides a view's segments: (bot, event, course, country, device); `segments`
#: expands it. Additions are gathered per key and expanded once per batch (cheaper).
SegKey = tuple[bool, str | None, str | None, str | None, str | None]
#: (segments, dimension, value, counter, amount, at_start): at_start adds are counted in
#: the period of the visit's start rather than the view's, so a visit's figures stay together.
Add = tuple[SegKey, str, str, str, float, bool]
NO_SEGMENT: SegKey = (False, None, None, None, None)


def segments(
    bot: bool, event: str | None, course: str | None, country: str | None, device: str | None
) -> list[str]:
    who = "b" if bot else "h"
    found = [f"{who}*"]
    for prefix, value in (("e", event), ("c", course), ("k", country), ("d", device)):
        if value:
            found.append(f"{who}{prefix}:{value}")
    return found


def pageview(doc: dict[str, Any]) -> tuple[list[Add], tuple[SegKey, int, int] | None]:
    """The counter additions of a page view, and its visitor's (segments, index, rank)."""
    bot = bool(doc.get("is_bot"))
    country = (doc.get("country") or {}).get("iso_code")
    device = (doc.get("device") or {}).get("type")
    visit = doc.get("visit") or {"seq": 1, "gap_s": 0, "trail": [_page(doc)]}
    own: SegKey = (bot, doc.get("event_name"), doc.get("course"), country, device)
    entry: SegKey = (bot, visit.get("entry_event"), visit.get("entry_course"), country, device)
    adds: list[Add] = []
    seq = visit["seq"]

    def add(
        key: SegKey, dim: str, value: str, counter: str, amount: float = 1, at_start: bool = False
    ) -> None:
        adds.append((key, dim, value, counter, amount, at_start))

    page = _page(doc)
    for dim, value in _view_values(doc, page):
        add(own, dim, value, "p")
        if seq == 1:
            add(own, dim, value, "v")
    if (location := doc.get("location")) and doc.get("city"):
        longitude, latitude = location["coordinates"]
        add(own, "city", _city(doc), "la", latitude)
        add(own, "city", _city(doc), "lo", longitude)
    add(own, "exit", page, "x", at_start=True)
    if seq == 1:
        if doc.get("first_visit"):
            add(own, "t", "", "f")
        source = classify(doc["path"], doc.get("referrer"))
        for dim, value in (
            ("source", source.category),
            ("referrer", source.referrer),
            ("domain", source.domain),
            ("campaign", source.campaign),
        ):
            if value:
                add(own, dim, value, "p")
                add(own, dim, value, "v")
    else:
        if seq == 2:
            add(entry, "t", "", "n", at_start=True)
        add(entry, "t", "", "d", visit.get("gap_s", 0), at_start=True)
        add(own, "flow", f"{visit.get('prev_path', '')}\t{page}", "p")
        prev: SegKey = (bot, visit.get("prev_event"), visit.get("prev_course"), country, device)
        add(prev, "exit", visit.get("prev_path", ""), "x", -1, at_start=True)
    trail = visit.get("trail") or [page]
    if seq <= 3:
        add(entry, "trail", "\t".join(trail[:seq]), "v", at_start=True)
        if seq >= 2:
            add(entry, "trail", "\t".join(trail[: seq - 1]), "v", -1, at_start=True)
    registers = None
    if visitor := doc.get("visitor"):
        index, rank = sketch.register(visitor)
        registers = (own, index, rank)
    return adds, registers


def exit_link(doc: dict[str, Any]) -> list[Add]:
    """An exit-link click: counted by link and by its host (no enrichment, no filters)."""
    return [
        (NO_SEGMENT, "link", doc["url"], "p", 1, False),
        (NO_SEGMENT, "link_domain", host_of(doc["url"]), "p", 1, False),
    ]


def _view_values(doc: dict[str, Any], page: str) -> Iterator[tuple[str, str]]:
    yield "t", ""
    yield "page", page
    for dim, value in (
        ("event", doc.get("event_name")),
        ("course", doc.get("course")),
        ("language", doc.get("tutorial_language")),
        ("browser", (doc.get("browser") or {}).get("family")),
        ("os", (doc.get("os") or {}).get("family")),
        ("device", (doc.get("device") or {}).get("type")),
    ):
        if value:
            yield dim, value
    if doc.get("course") and doc.get("tutorial"):
        yield "tutorial", f"{doc['course']}/{doc['tutorial']}"
    country = doc.get("country") or {}
    if country.get("iso_code"):
        yield "country", f"{country['iso_code']}|{country.get('name', '')}"
        region = doc.get("region") or {}
        if region.get("iso_code") or region.get("name"):
            code = f"{country['iso_code']}-{region.get('iso_code', '')}"
            yield "region", f"{code}|{region.get('name', '')}"
        if doc.get("city"):
            yield "city", _city(doc)


def _city(doc: dict[str, Any]) -> str:
    return f"{(doc.get('country') or {}).get('iso_code', '')}|{doc['city']}"


def _page(doc: dict[str, Any]) -> str:
    return doc["path"].split("?", 1)[0].split("#", 1)[0]


# MongoDB field names may not contain "." nor start with "$", nor be empty: segments and
# values are escaped ("%" alone, which escaping never makes, stands for the empty value).
def field(text: str) -> str:
    if not text:
        return "%"
    return text.replace("%", "%25").replace(".", "%2E").replace("$", "%24").replace("\0", "%00")


def unfield(text: str) -> str:
    return "" if text == "%" else unquote(text)
