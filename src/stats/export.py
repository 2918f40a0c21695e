"""CSV exports of the statistics: one row per series bucket, top-N row or map feature."""

from __future__ import annotations

import csv
import io
from typing import Any


def summary_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"period": "current", **row} for row in body["series"]]
    if "previous" in body:
        rows += [{"period": "previous", **row} for row in body["previous"]["series"]]
    return rows


def top_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: (" > ".join(v) if isinstance(v, list) else v) for k, v in row.items()}
        for row in body["rows"]
    ]


def map_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for feature in body["features"]:
        coordinates = (feature["geometry"] or {}).get("coordinates") or [None, None]
        rows.append(
            {**feature["properties"], "longitude": coordinates[0], "latitude": coordinates[1]}
        )
    return rows


def csv_text(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [name for name in row if name not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
