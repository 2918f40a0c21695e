"""CSV exports of the statistics: one row per series bucket, top-N row or map feature.

A table's leading columns are the required fields of its row's schema in the spec, so
an empty answer still has its header and a spreadsheet reading several exports finds
the same columns in the same places; a row's optional fields (a region's country, a
path's pages) follow in the order they first appear."""

from __future__ import annotations

import csv
import io
from functools import cache
from typing import Any

from footfall import spec

Rows = list[dict[str, Any]]
#: The columns that lead a table, and its rows.
Table = tuple[list[str], Rows]


def summary_rows(body: dict[str, Any]) -> Table:
    rows = [{"period": "current", **row} for row in body["series"]]
    if "previous" in body:
        rows += [{"period": "previous", **row} for row in body["previous"]["series"]]
    return ["period", "start", "end", *_required("StatsFigures")], rows


def top_rows(body: dict[str, Any]) -> Table:
    rows = [
        {k: (" > ".join(v) if isinstance(v, list) else v) for k, v in row.items()}
        for row in body["rows"]
    ]
    return _required("StatsTopRow"), rows


def map_rows(body: dict[str, Any]) -> Table:
    rows = []
    for feature in body["features"]:
        coordinates = (feature["geometry"] or {}).get("coordinates") or [None, None]
        rows.append(
            {**feature["properties"], "longitude": coordinates[0], "latitude": coordinates[1]}
        )
    properties = spec.load().schema("StatsMap")["properties"]["features"]["items"]
    return [*properties["properties"]["properties"]["required"], "longitude", "latitude"], rows


def csv_text(table: Table) -> str:
    columns, rows = table
    columns = list(columns)
    for row in rows:
        columns += [name for name in row if name not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@cache
def _required(name: str) -> list[str]:
    return list(spec.load().schema(name)["required"])
