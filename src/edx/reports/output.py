"""A report's answer as a table, CSV or JSON (the CLI; the API answers JSON or CSV)."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any, TextIO

import orjson

from footfall.edx.reports.base import Report, Result
from footfall.edx.reports.query import Query
from footfall.reads.values import iso


def value(item: Any) -> Any:
    """A cell as JSON shows it: times as RFC 3339 UTC."""
    return iso(item) if isinstance(item, datetime) else item


def document(report: Report, query: Query, result: Result) -> dict[str, Any]:
    """The JSON answer (the API adds its page and links)."""
    return {
        "report": report.name,
        "title": report.title,
        "course_id": query.course_id,
        "from": iso(query.start),
        "to": iso(query.end),
        "parameters": query.parameters(),
        "columns": list(report.columns),
        "summary": {k: value(v) for k, v in result.summary.items()} if result.summary else None,
        "rows": [{c: value(row.get(c)) for c in report.columns} for row in result.rows],
        "total": result.total,
    }


def write_csv(stream: TextIO, report: Report, result: Result) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(report.columns)
    for row in result.rows:
        writer.writerow(["" if row.get(c) is None else value(row.get(c)) for c in report.columns])


def write(stream: TextIO, report: Report, query: Query, result: Result, fmt: str) -> None:
    if fmt == "json":
        stream.write(
            orjson.dumps(document(report, query, result), option=orjson.OPT_INDENT_2).decode()
        )
        stream.write("\n")
    elif fmt == "csv":
        write_csv(stream, report, result)
    else:
        _table(stream, report, result)


def _table(stream: TextIO, report: Report, result: Result) -> None:
    if result.summary:
        for name, item in result.summary.items():
            stream.write(f"{name}: {value(item)}\n")
        stream.write("\n")
    cells = [[_cell(row.get(c)) for c in report.columns] for row in result.rows]
    widths = [
        max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(report.columns)
    ]
    stream.write(
        "  ".join(c.ljust(w) for c, w in zip(report.columns, widths, strict=True)).rstrip() + "\n"
    )
    for line in cells:
        stream.write(
            "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n"
        )
    stream.write(f"({result.total} rows)\n")


def _cell(item: Any) -> str:
    item = value(item)
    return "" if item is None else str(item)
