"""Realistic page views, as a site's middleware sends them, made without any network.

Bodies vary in path, user, agent, address and referrer so that no cache along the way
(connexion, pydantic, Valkey, WiredTiger) sees the same bytes over and over. They carry
no `log_id`: the server makes one, so a body sent twice is two events, not a duplicate.
Their addresses are public ones that the packaged GeoLite2 City knows, so enrichment
gives each view a location, as it would in production.
"""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import maxminddb
import orjson

from footfall.enrich.geo import packaged_database
from footfall.events import PageView, Received

# Where the regional registries allocate IPv6: random addresses in them often hit a network.
IPV6_BLOCKS = ["2001:200::/23", "2400::/12", "2600::/12", "2800::/12", "2a00::/12", "2c00::/12"]

FOSS = ["Python", "Scilab", "LibreOffice-Writer", "Blender", "GIMP", "Inkscape", "R", "Java"]
TUTORIALS = ["Getting-started", "Loops", "Functions", "Plotting", "Files", "Classes", "Tables"]
LANGUAGES = ["English", "Hindi", "Marathi", "Tamil", "Bengali", "Gujarati"]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
]
REFERRERS = [
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://www.bing.com/search?q=python+tutorial",
    "https://example.org/courses/",
    None,
]


def public_addresses(count: int, networks: list[str], rng: random.Random) -> list[str]:
    """Random public addresses in `networks` that the packaged GeoLite2 City knows."""
    reader = maxminddb.open_database(str(packaged_database()), maxminddb.MODE_MMAP_EXT)
    parsed = [ipaddress.ip_network(network) for network in networks]
    found: dict[str, None] = {}
    while len(found) < count:
        network = rng.choice(parsed)
        address = network[rng.randrange(network.num_addresses)]
        if address.is_global and reader.get(address):
            found[str(address)] = None
    reader.close()
    return list(found)


def page_views(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` page view bodies; visited up to an hour ago, so never "in the future"."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    addresses = public_addresses(400, ["0.0.0.0/0"], rng) + public_addresses(
        100, IPV6_BLOCKS, rng
    )
    return [_page_view(rng, now, addresses) for _ in range(count)]


def _page_view(rng: random.Random, now: datetime, addresses: list[str]) -> dict[str, Any]:
    foss, tutorial, language = rng.choice(FOSS), rng.choice(TUTORIALS), rng.choice(LANGUAGES)
    body: dict[str, Any] = {
        "source": "server",
        "path": f"/watch/{foss}/{tutorial}/{language}/",
        "method": "GET",
        "username": f"user{rng.randrange(50_000)}",
        "visited_at": (now - timedelta(seconds=rng.randrange(3600))).isoformat(),
        "ip": rng.choice(addresses),
        "user_agent": rng.choice(AGENTS),
        "page_title": f"{tutorial.replace('-', ' ')} - {foss} - {language}",
        "view_kwargs": {"foss": foss, "tutorial": tutorial, "language": language},
    }
    referrer = rng.choice(REFERRERS)
    if referrer is not None:
        body["referrer"] = referrer
    return body


def json_bodies(bodies: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(body) for body in bodies]


def batch_bodies(bodies: list[dict[str, Any]], items: int, count: int) -> list[bytes]:
    """`count` different `/batch` bodies of `items` page views each."""
    batches = []
    for start in range(count):
        chosen = [bodies[(start * items + i) % len(bodies)] for i in range(items)]
        batches.append(orjson.dumps({"items": [{"kind": "pageview", **b} for b in chosen]}))
    return batches


def received() -> Received:
    """What the API would know of the request: used to accept bodies in-process."""
    return Received(at=datetime.now(UTC), ip="127.0.0.1", user_agent="footfall-bench")


def stream_payloads(bodies: list[dict[str, Any]], count: int) -> list[bytes]:
    """The exact stream entries the API writes for these bodies, each with its own log_id."""
    context = received()
    return [PageView.accept(bodies[i % len(bodies)], context).message() for i in range(count)]
