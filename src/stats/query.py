"""The statistics, answered from the rollups only: ranges, buckets, zones, filters.

A query names a range [start, end) and a zone; the range is clipped at the present (no
period after it holds anything) and cut into local buckets; each bucket, and the range,
is tiled with the fewest kept periods (`footfall.stats.buckets.tile`, the zones of
`footfall.stats.zones`: a kept zone's days and months are read whole). A filter picks
the rollups' segment: bots out (`h`), in (`h` + `b`) or only (`b`), combined with at
most one of event, course, country or device type (see docs/statistics.md, "Limits").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pycountry
from pymongo.database import Database

from footfall.stats import buckets, cells, sketch, zones
from footfall.stats.buckets import Bucket
from footfall.stats.rollup import Summed, load

Bots = Literal["exclude", "include", "only"]

#: API dimension -> (stored dimension, the counter it is ranked by).
TOP: dict[str, tuple[str, str]] = {
    "pages": ("page", "p"),
    "entry_pages": ("page", "v"),
    "exit_pages": ("exit", "x"),
    "events": ("event", "p"),
    "courses": ("course", "p"),
    "tutorials": ("tutorial", "p"),
    "languages": ("language", "p"),
    "countries": ("country", "p"),
    "regions": ("region", "p"),
    "cities": ("city", "p"),
    "browsers": ("browser", "p"),
    "operating_systems": ("os", "p"),
    "device_types": ("device", "p"),
    "referrers": ("referrer", "v"),
    "referring_domains": ("domain", "v"),
    "sources": ("source", "v"),
    "campaigns": ("campaign", "v"),
    "exit_links": ("link", "p"),
    "exit_link_domains": ("link_domain", "p"),
    "paths": ("trail", "v"),
    "next_pages": ("flow", "p"),
}


@dataclass(frozen=True)
class Query:
    start: datetime  # UTC, on the grid
    end: datetime
    zone: ZoneInfo
    bucket: Bucket
    bots: Bots = "exclude"
    filter: tuple[str, str] | None = None  # (name in cells.FILTERS, value)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def segments(self) -> list[str]:
        who = {"exclude": "h", "include": "hb", "only": "b"}[self.bots]
        rest = "*" if self.filter is None else f"{cells.FILTERS[self.filter[0]]}:{self.filter[1]}"
        return [f"{w}{rest}" for w in who]

    @property
    def clipped_end(self) -> datetime:
        """The end, or the end of the present 15 minutes if that is earlier."""
        present = buckets.floor(self.now, "q") + buckets.GRID
        return max(self.start, min(self.end, present))

    def previous(self) -> Query:
        """The period of the same length just before (a comparison)."""
        length = self.end - self.start
        return Query(
            self.start - length,
            self.start,
            self.zone,
            self.bucket,
            self.bots,
            self.filter,
            self.now,
        )


def summary(db: Database, query: Query) -> dict[str, Any]:
    """Every headline figure over the range, and per local bucket."""
    end = query.clipped_end
    spans = (
        list(buckets.local_buckets(query.start, end, query.bucket, query.zone))
        if end > query.start
        else []
    )
    kept = zones.ready(db)
    per_span = [buckets.tile(a, b, kept, hours=True) for a, b in spans]
    loaded = load(db, [p for tiles in per_span for p in tiles], segs=query.segments, dims=["t"])
    series, whole = [], Summed()
    for (a, b), tiles in zip(spans, per_span, strict=True):
        part = Summed()
        for period in tiles:
            part.merge(loaded[period])
        whole.merge(part)
        series.append(
            {
                "start": _iso(a, query.zone),
                "end": _iso(b, query.zone),
                **figures(part, query.segments),
            }
        )
    return {"totals": figures(whole, query.segments), "series": series}


def figures(summed: Summed, segs: Sequence[str]) -> dict[str, Any]:
    t = _counters(summed, segs, "t", "")
    views, visits = t.get("p", 0), t.get("v", 0)
    first = t.get("f", 0)
    registers = [summed.registers[s] for s in segs if s in summed.registers]
    visitors = sketch.estimate(np.maximum.reduce(registers)) if registers else 0
    return {
        "pageviews": round(views),
        "visits": round(visits),
        "visitors": visitors,
        "first_time_visits": round(first),
        "returning_visits": round(visits - first),
        "views_per_visit": _ratio(views, visits),
        "visit_duration_s": _ratio(t.get("d", 0), visits),
        "bounce_rate": _ratio(visits - t.get("n", 0), visits),
    }


def top(
    db: Database, query: Query, dimension: str, limit: int, from_page: str | None = None
) -> dict[str, Any]:
    """The first `limit` values of a dimension, with the total and each one's share."""
    stored, counter = TOP[dimension]
    table = _dimension(db, query, stored)
    if from_page is not None:
        table = {k: v for k, v in table.items() if k.split("\t", 1)[0] == from_page}
    total = sum(c.get(counter, 0) for c in table.values())
    ranked = sorted(
        ((v, c) for v, c in table.items() if round(c.get(counter, 0)) > 0),
        key=lambda item: (-item[1].get(counter, 0), item[0]),
    )
    rows = [_row(stored, value, c, counter, total) for value, c in ranked[:limit]]
    shown = sum(r["count"] for r in rows)
    return {
        "dimension": dimension,
        "counted": _COUNTED[counter],
        "total": round(total),
        "other": round(total) - shown,
        "rows": rows,
    }


def visitor_map(db: Database, query: Query) -> dict[str, Any]:
    """GeoJSON: a feature per country (no geometry: the map joins it by ISO code) and a
    point per city, at the average position of its views."""
    features: list[dict[str, Any]] = []
    for value, c in sorted(_dimension(db, query, "country").items()):
        code, _, name = value.partition("|")
        features.append(
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "kind": "country",
                    "iso_code": code,
                    "iso_numeric": _numeric(code),
                    "name": name,
                    "pageviews": round(c.get("p", 0)),
                    "visits": round(c.get("v", 0)),
                },
            }
        )
    for value, c in sorted(_dimension(db, query, "city").items()):
        code, _, name = value.partition("|")
        views = c.get("p", 0)
        geometry = None
        if c.get("la") is not None and views:
            geometry = {
                "type": "Point",
                "coordinates": [round(c["lo"] / views, 4), round(c["la"] / views, 4)],
            }
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "kind": "city",
                    "iso_code": code,
                    "name": name,
                    "pageviews": round(views),
                    "visits": round(c.get("v", 0)),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _numeric(alpha_2: str) -> str | None:
    """ISO 3166-1 numeric code: world maps (world-atlas) key countries by it."""
    country = pycountry.countries.get(alpha_2=alpha_2)
    return None if country is None else country.numeric


_COUNTED = {"p": "pageviews", "v": "visits", "x": "visits"}


def _row(
    stored: str, value: str, c: dict[str, float], counter: str, total: float
) -> dict[str, Any]:
    count = round(c.get(counter, 0))
    row: dict[str, Any] = {
        "value": value,
        "count": count,
        "percent": round(100 * count / total, 2) if total else 0.0,
        "pageviews": round(c.get("p", 0)),
        "visits": round(c.get("v", 0)),
    }
    if stored in ("country", "region", "city"):
        code, _, name = value.partition("|")
        row["value"], row["name"] = code if stored != "city" else value, name
        if stored == "city":
            row["value"] = name
            row["country"] = code
    elif stored == "trail":
        row["pages"] = value.split("\t")
        row["value"] = " → ".join(row["pages"])
    elif stored == "flow":
        row["from"], _, row["to"] = value.partition("\t")
        row["value"] = f"{row['from']} → {row['to']}"
    return row


def _dimension(db: Database, query: Query, stored: str) -> dict[str, dict[str, float]]:
    """value -> counters of one stored dimension over the range, segments added up."""
    end = query.clipped_end
    if end <= query.start:
        return {}
    tiles = buckets.tile(query.start, end, zones.ready(db))
    loaded = load(db, tiles, segs=query.segments, dims=[stored], registers=False)
    summed = Summed()
    for period in tiles:
        summed.merge(loaded[period])
    out: dict[str, dict[str, float]] = {}
    for seg in query.segments:
        for key, counters in summed.cells.get(seg, {}).get(stored, {}).items():
            mine = out.setdefault(key, {})
            for counter, amount in counters.items():
                mine[counter] = mine.get(counter, 0) + amount
    return out


def _counters(summed: Summed, segs: Iterable[str], dim: str, value: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for seg in segs:
        cell = summed.cells.get(seg, {}).get(dim, {}).get(value, {})
        for counter, amount in cell.items():
            out[counter] = out.get(counter, 0) + amount
    return out


def _ratio(a: float, b: float) -> float | None:
    return None if not b else round(a / b, 4)


def _iso(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat()
