"""A generated data set with known answers for the statistics, and its oracle.

The events are made here (visitors, visits with known gaps, pages, referrers, places and
devices, bots, exit links) around the edges that matter: UTC and Asia/Kolkata midnights,
a visit across midnight, the end of DST in New York (2026-11-01 06:00 UTC). The oracle
answers every statistic by brute force from the events themselves (visits sessionized
here, independently of footfall.stats.visits), reading only the enrichment (country,
device, bot) from the stored views.
"""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo.database import Database

from tests.test_enrich_geo import BERLIN, PARIS, PUNE, city, write_db

MUMBAI = city(("IN", "India"), ("MH", "Maharashtra"), "Mumbai", 19.076, 72.8777, 20)
NETWORKS = {
    "81.2.69.0/24": PARIS,
    "81.2.70.0/24": PUNE,
    "81.2.71.0/24": MUMBAI,
    "81.2.72.0/24": BERLIN,
}
AGENTS = {
    "desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "mobile": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Mobile Safari/537.36",
    "tablet": "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "bot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
}
PAGES = [
    "/",
    "/watch/Python/Getting-started/English/",
    "/watch/Python/Variables/Hindi/",
    "/watch/Linux/Intro/English/",
    "/tutorial-search/",
    "/cdcontent/",
    "/about/team/",
]
REFERRERS = [
    None,
    "https://www.google.com/search?q=python",
    "https://www.facebook.com/",
    "https://mail.google.com/mail/u/0/",
    "https://blog.example.net/post/7",
    None,
]
LANDINGS = {"/?utm_source=newsletter&utm_campaign=diwali": "diwali"}
WATCH = re.compile(r"^/watch/(?P<course>[^/]+)/(?P<tutorial>[^/]+)/(?P<language>[^/]+)/$")
IDLE = timedelta(minutes=30)
START = datetime(2026, 10, 31, tzinfo=UTC)


@dataclass
class View:
    log_id: str
    at: datetime
    visitor: int
    path: str
    referrer: str | None
    doc: dict[str, Any] = field(default_factory=dict)  # as stored (enrichment)

    @property
    def page(self) -> str:
        return self.path.split("?", 1)[0]


@dataclass
class Visit:
    views: list[View]
    first_time: bool

    @property
    def start(self) -> datetime:
        return self.views[0].at


@dataclass
class DataSet:
    views: list[View]
    exits: list[dict[str, Any]]
    ips: dict[int, str]
    agents: dict[int, str]

    def items(self) -> list[dict[str, Any]]:
        """Batch items in time order, as sites post them."""
        out = []
        for v in self.views:
            item = {
                "kind": "pageview",
                "log_id": v.log_id,
                "path": v.path,
                "visited_at": v.at.isoformat(),
                "ip": self.ips[v.visitor],
                "user_agent": self.agents[v.visitor],
            }
            if v.referrer:
                item["referrer"] = v.referrer
            out.append((v.at, item))
        for e in self.exits:
            out.append(
                (
                    e["at"],
                    {
                        "kind": "exit_link",
                        "log_id": e["log_id"],
                        "url": e["url"],
                        "page": e["page"],
                        "clicked_at": e["at"].isoformat(),
                    },
                )
            )
        return [item for _, item in sorted(out, key=lambda pair: pair[0])]


def generate(seed: int = 7, visitors: int = 24) -> DataSet:
    rng = random.Random(seed)
    ips, agents, views = {}, {}, []
    kinds = ["desktop", "mobile", "tablet", "desktop", "mobile", "desktop", "desktop", "bot"]
    for n in range(visitors):
        ips[n] = f"81.2.{69 + n % 4}.{10 + n}"
        agents[n] = AGENTS[kinds[n % len(kinds)]]

    def visit(n: int, at: datetime, length: int, landing: str | None = None) -> datetime:
        for i in range(length):
            path = landing if i == 0 and landing else rng.choice(PAGES)
            referrer = rng.choice(REFERRERS) if i == 0 else "https://learn.example.org/"
            views.append(View(f"v{len(views):05d}", at, n, path, referrer))
            at += timedelta(seconds=rng.randint(20, 29 * 60))
        return at

    for n in range(visitors):
        at = START + timedelta(
            hours=rng.randint(0, 60), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)
        )
        for _ in range(rng.randint(1, 4)):
            at = visit(n, at, rng.choice([1, 1, 2, 3, 5]), rng.choice([None, None, *LANDINGS]))
            at += timedelta(minutes=rng.randint(31, 600))
    # Edges: a visit across UTC midnight, views at either side of Kolkata's midnight
    # (18:30 UTC), and a visit across the hour New York repeats (DST ends 06:00 UTC).
    visit(0, datetime(2026, 11, 1, 23, 50, tzinfo=UTC), 1)
    views.append(View("edge-1", datetime(2026, 11, 2, 0, 10, tzinfo=UTC), 0, PAGES[1], None))
    views.append(View("edge-2", datetime(2026, 11, 1, 18, 29, 59, tzinfo=UTC), 1, PAGES[2], None))
    views.append(View("edge-3", datetime(2026, 11, 1, 18, 30, tzinfo=UTC), 2, PAGES[3], None))
    visit(3, datetime(2026, 11, 1, 5, 40, tzinfo=UTC), 3)
    views.sort(key=lambda v: (v.at, v.log_id))
    exits = [
        {
            "log_id": f"x{i}",
            "url": rng.choice(
                ["https://docs.python.org/3/", "https://www.gnu.org/", "https://x.org/a"]
            ),
            "page": rng.choice(PAGES),
            "at": START + timedelta(minutes=rng.randint(0, 3000)),
        }
        for i in range(15)
    ]
    return DataSet(views, exits, ips, agents)


class Oracle:
    """Every statistic by brute force over the data set."""

    def __init__(self, data: DataSet, db: Database) -> None:
        stored = {d["log_id"]: d for d in db.pageviews.find()}
        for v in data.views:
            v.doc = stored[v.log_id]
        self.data = data
        self.visits: list[Visit] = []
        open_: dict[int, Visit] = {}
        seen: set[int] = set()
        for v in data.views:  # in time order
            current = open_.get(v.visitor)
            if current and v.at - current.views[-1].at <= IDLE:
                current.views.append(v)
            else:
                open_[v.visitor] = Visit([v], v.visitor not in seen)
                self.visits.append(open_[v.visitor])
            seen.add(v.visitor)

    # --- filters ------------------------------------------------------------------
    @staticmethod
    def matches(v: View, flt: tuple[str, str] | None, bots: str) -> bool:
        bot = bool(v.doc.get("is_bot"))
        if (bots == "exclude" and bot) or (bots == "only" and not bot):
            return False
        if flt is None:
            return True
        name, value = flt
        return {
            "event": v.doc.get("event_name"),
            "course": course_of(v.path),
            "country": (v.doc.get("country") or {}).get("iso_code"),
            "device": (v.doc.get("device") or {}).get("type"),
        }[name] == value

    def views_in(self, a: datetime, b: datetime, flt, bots) -> list[View]:  # type: ignore[no-untyped-def]
        return [v for v in self.data.views if a <= v.at < b and self.matches(v, flt, bots)]

    def visits_in(
        self, a: datetime, b: datetime, flt, bots, by=lambda visit: visit.views[0]
    ) -> list[Visit]:  # type: ignore[no-untyped-def]
        return [s for s in self.visits if a <= s.start < b and self.matches(by(s), flt, bots)]

    # --- answers ------------------------------------------------------------------
    def figures(self, a: datetime, b: datetime, flt=None, bots="exclude") -> dict[str, Any]:  # type: ignore[no-untyped-def]
        views = self.views_in(a, b, flt, bots)
        visits = self.visits_in(a, b, flt, bots)
        n = len(visits)
        longer = [s for s in visits if len(s.views) > 1]
        duration = sum((s.views[-1].at - s.views[0].at).total_seconds() for s in visits)

        def ratio(x: float, y: float) -> float | None:
            return None if not y else round(x / y, 4)

        return {
            "pageviews": len(views),
            "visits": n,
            "visitors": len({v.visitor for v in views}),
            "first_time_visits": sum(s.first_time for s in visits),
            "returning_visits": n - sum(s.first_time for s in visits),
            "views_per_visit": ratio(len(views), n),
            "visit_duration_s": ratio(duration, n),
            "bounce_rate": ratio(n - len(longer), n),
        }

    def top(
        self,
        dimension: str,
        a: datetime,
        b: datetime,
        flt=None,
        bots="exclude",  # type: ignore[no-untyped-def]
    ) -> Counter[str]:
        views = self.views_in(a, b, flt, bots)
        visits = self.visits_in(a, b, flt, bots)
        by_view = {
            "pages": lambda v: v.page,
            "events": lambda v: v.doc.get("event_name"),
            "courses": lambda v: course_of(v.path),
            "tutorials": lambda v: _watch(v.path, "{course}/{tutorial}"),
            "languages": lambda v: _watch(v.path, "{language}"),
            "countries": lambda v: (v.doc.get("country") or {}).get("iso_code"),
            "cities": lambda v: v.doc.get("city"),
            "regions": lambda v: (
                v.doc.get("region")
                and f"{v.doc['country']['iso_code']}-{v.doc['region']['iso_code']}"
            ),
            "device_types": lambda v: (v.doc.get("device") or {}).get("type"),
            "browsers": lambda v: (v.doc.get("browser") or {}).get("family"),
            "operating_systems": lambda v: (v.doc.get("os") or {}).get("family"),
        }
        if dimension in by_view:
            return Counter(x for x in map(by_view[dimension], views) if x)
        if dimension == "next_pages":
            return Counter(
                f"{s.views[i - 1].page} → {v.page}"
                for s in self.visits
                for i, v in enumerate(s.views)
                if i and v in views
            )
        if dimension == "exit_pages":
            return Counter(
                s.views[-1].page for s in self.visits_in(a, b, flt, bots, by=lambda s: s.views[-1])
            )
        by_visit = {
            "entry_pages": lambda s: s.views[0].page,
            "paths": lambda s: " → ".join(v.page for v in s.views[:3]),
            "sources": lambda s: _source(s.views[0]),
            "referring_domains": lambda s: _domain(s.views[0].referrer),
            "campaigns": lambda s: LANDINGS.get(s.views[0].path),
        }
        if dimension in by_visit:
            return Counter(x for x in map(by_visit[dimension], visits) if x)
        if dimension in ("exit_links", "exit_link_domains"):
            if flt is not None or bots == "only":
                return Counter()
            key = "url" if dimension == "exit_links" else "host"
            return Counter(_exit(e)[key] for e in self.data.exits if a <= e["at"] < b)
        raise KeyError(dimension)


def course_of(path: str) -> str | None:
    return _watch(path, "{course}")


def _watch(path: str, template: str) -> str | None:
    found = WATCH.match(path)
    return template.format(**found.groupdict()) if found else None


def _exit(e: dict[str, Any]) -> dict[str, str]:
    return {"url": e["url"], "host": e["url"].split("/")[2].removeprefix("www.")}


def _domain(referrer: str | None) -> str | None:
    if not referrer:
        return None
    return referrer.split("/")[2].removeprefix("www.")


def _source(v: View) -> str:
    if v.path in LANDINGS:
        return "campaign"
    domain = _domain(v.referrer)
    return {
        None: "direct",
        "google.com": "search",
        "facebook.com": "social",
        "mail.google.com": "email",
    }.get(domain, "other sites")


def geo_database(directory: Path) -> Path:
    return write_db(directory / "city.mmdb", NETWORKS)


def post(client: Any, items: Iterable[dict[str, Any]]) -> None:
    items = list(items)
    for i in range(0, len(items), 500):
        response = client.post("/api/v1/batch", json={"items": items[i : i + 500]})
        assert response.status_code == 200, response.text
        assert response.json()["rejected"] == 0, response.text


def unique_name() -> str:
    return f"t{uuid.uuid4().hex[:12]}"
