"""Synthetic page views in the shape the flusher stores them (enriched, with visits), for
bench/stats.py: a fixed set of templates that a year of traffic is sampled from."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from footfall.enrich.names import EventNamer, shipped_rules

COURSES = [f"Course{c:02d}" for c in range(40)]
TUTORIALS = [f"Tutorial-{t}" for t in range(8)]
LANGUAGES = ["English", "Hindi", "Marathi", "Tamil", "Bengali", "Telugu"]
OTHER_PAGES = [
    "/",
    "/tutorial-search/",
    "/keyword-search/",
    "/cdcontent/",
    "/news/latest/",
    "/about/team/",
    "/accounts/login/",
    "/statistics/",
    "/software-training/",
    "/series/",
    "/list_videos/",
]
PLACES = [
    ("IN", "India", "MH", "Maharashtra", "Mumbai", 19.07, 72.88),
    ("IN", "India", "MH", "Maharashtra", "Pune", 18.52, 73.86),
    ("IN", "India", "DL", "Delhi", "New Delhi", 28.61, 77.21),
    ("IN", "India", "KA", "Karnataka", "Bengaluru", 12.97, 77.59),
    ("IN", "India", "TN", "Tamil Nadu", "Chennai", 13.08, 80.27),
    ("IN", "India", "WB", "West Bengal", "Kolkata", 22.57, 88.36),
    ("IN", "India", "UP", "Uttar Pradesh", "Lucknow", 26.85, 80.95),
    ("IN", "India", "GJ", "Gujarat", "Ahmedabad", 23.02, 72.57),
    ("US", "United States", "CA", "California", "San Jose", 37.34, -121.89),
    ("US", "United States", "NY", "New York", "New York", 40.71, -74.01),
    ("GB", "United Kingdom", "ENG", "England", "London", 51.51, -0.13),
    ("DE", "Germany", "BE", "Land Berlin", "Berlin", 52.52, 13.40),
    ("NP", "Nepal", "P3", "Bagmati", "Kathmandu", 27.72, 85.32),
    ("BD", "Bangladesh", "13", "Dhaka", "Dhaka", 23.81, 90.41),
    ("AE", "United Arab Emirates", "DU", "Dubai", "Dubai", 25.20, 55.27),
    ("SG", "Singapore", "01", "Central", "Singapore", 1.29, 103.85),
]
DEVICES = [
    ("desktop", "Chrome", "Windows"),
    ("desktop", "Firefox", "Windows"),
    ("desktop", "Chrome", "Linux"),
    ("desktop", "Safari", "Mac OS X"),
    ("mobile", "Chrome Mobile", "Android"),
    ("mobile", "Mobile Safari", "iOS"),
    ("tablet", "Mobile Safari", "iOS"),
    ("bot", "Googlebot", "Other"),
]
REFERRERS = [
    None,
    None,
    "https://www.google.com/",
    "https://www.google.co.in/",
    "https://www.bing.com/",
    "https://www.facebook.com/",
    "https://t.co/x",
    "https://mail.google.com/mail/",
    "https://www.youtube.com/",
    "https://blog.example.net/p",
]


def pages(rng: random.Random) -> list[str]:
    watch = [f"/watch/{c}/{t}/{rng.choice(LANGUAGES)}/" for c in COURSES for t in TUTORIALS]
    return watch + OTHER_PAGES


def templates(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Stored page views as the flusher writes them (times are replaced when sampled)."""
    rng = random.Random(seed)
    namer = EventNamer.from_file(shipped_rules(), "event.unmapped")
    site = pages(rng)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(site))]  # a few pages are popular
    out = []
    at = datetime(2025, 1, 1, tzinfo=UTC)
    for _ in range(count):
        trail = rng.choices(site, weights, k=3)
        seq = rng.choice([1, 1, 1, 2, 2, 3, 4, 5])
        path = trail[min(seq, 3) - 1] if seq <= 3 else rng.choices(site, weights)[0]
        prev = trail[seq - 2] if 2 <= seq <= 3 else trail[-1]
        if seq == 1 and rng.random() < 0.05:
            path += "?utm_source=newsletter&utm_campaign=" + rng.choice(["diwali", "exams"])
        country, cname, rcode, rname, city, lat, lon = rng.choice(PLACES)
        dtype, browser, os_ = rng.choices(DEVICES, [30, 10, 8, 5, 30, 8, 4, 3])[0]
        event, groups = namer.match(path)
        entry_event, entry_groups = namer.match(trail[0])
        prev_event, prev_groups = namer.match(prev)
        doc: dict[str, Any] = {
            "log_id": f"t{len(out)}",
            "path": path,
            "visited_at": at,
            "event_name": event,
            **groups,
            "referrer": rng.choice(REFERRERS) if seq == 1 else "https://site/",
            "browser": {"family": browser},
            "os": {"family": os_},
            "device": {"type": dtype},
            "is_bot": dtype == "bot",
            "country": {"iso_code": country, "name": cname},
            "region": {"iso_code": rcode, "name": rname},
            "city": city,
            "location": {"type": "Point", "coordinates": [lon, lat]},
            "first_visit": seq == 1 and rng.random() < 0.6,
            "visit": {
                "start": at,
                "seq": seq,
                "gap_s": 0 if seq == 1 else rng.randint(5, 900),
                "trail": trail[: min(seq, 3)],
                "entry_event": entry_event,
                "entry_course": entry_groups.get("course", ""),
                **(
                    {
                        "prev_path": prev,
                        "prev_event": prev_event,
                        "prev_course": prev_groups.get("course", ""),
                    }
                    if seq > 1
                    else {}
                ),
            },
        }
        doc["visit"] = {k: v for k, v in doc["visit"].items() if v != ""}
        out.append({k: v for k, v in doc.items() if v is not None})
    return out


def year_counts(total: int, start: datetime, rng: random.Random) -> list[tuple[datetime, int]]:
    """Views per 15 minutes over a year: a daily curve peaking in Indian daytime, weekdays
    busier than weekends, Poisson noise; adds up to about `total`."""
    import math

    import numpy as np

    quarters = 365 * 96
    weights = []
    for q in range(quarters):
        at = start + timedelta(minutes=15 * q)
        ist_hour = (at.hour + at.minute / 60 + 5.5) % 24
        daily = 0.25 + math.exp(-((ist_hour - 14) ** 2) / 18)
        weekly = 0.7 if at.weekday() >= 5 else 1.0
        weights.append(daily * weekly)
    scale = total / sum(weights)
    counts = np.random.default_rng(rng.randrange(1 << 30)).poisson(np.array(weights) * scale)
    return [(start + timedelta(minutes=15 * q), int(n)) for q, n in enumerate(counts)]
