"""What a report is: a name, its definition, its columns, and the aggregation pipelines
that compute its rows (and, for some, a summary) from `edx_events`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database

from footfall.edx.reports.query import Query, QueryError
from footfall.store.collections import EDX_EVENTS

Pipeline = list[dict[str, Any]]

#: A day (UTC) as the reports show it.
DAY = {"$dateToString": {"format": "%Y-%m-%d", "date": "$time"}}
#: Only events of a signed-in learner (edX logs an anonymous visitor with username "").
LEARNER = {"username": {"$exists": True}}


def count_of(name: str) -> dict[str, Any]:
    """The size of an `$addToSet` of field `name`, a missing value (null) not counted."""
    return {"$size": {"$setDifference": [f"${name}", [None]]}}


def rounded(expression: Any, places: int = 1) -> dict[str, Any]:
    return {"$round": [expression, places]}


@dataclass(frozen=True)
class Result:
    rows: list[dict[str, Any]]
    total: int
    summary: dict[str, Any] | None = None


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    #: What it computes, as the docs and `GET /edx/reports` say it.
    definition: str
    columns: tuple[str, ...]
    #: One document per row, in the report's order, with exactly `columns`.
    rows: Callable[[Query], Pipeline]
    #: One document of course-wide figures, for reports that have them.
    summary: Callable[[Query], Pipeline] | None = None
    #: Query parameters the report cannot do without.
    needs: tuple[str, ...] = ()
    #: Optional query parameters it reads.
    uses: tuple[str, ...] = field(default=())

    def check(self, query: Query) -> None:
        for name in self.needs:
            if getattr(query, name) is None:
                raise QueryError(name, f"the {self.name} report needs {name}")

    def run(
        self, db: Database, query: Query, page: int | None = None, per_page: int | None = None
    ) -> Result:
        """All rows, or one page of them (with the number of rows in all)."""
        self.check(query)
        events = db[EDX_EVENTS.name]
        pipeline = self.rows(query)
        if page is None or per_page is None:
            rows = list(events.aggregate(pipeline, allowDiskUse=True))
            total = len(rows)
        else:
            paged = [
                {
                    "$facet": {
                        "rows": [{"$skip": (page - 1) * per_page}, {"$limit": per_page}],
                        "total": [{"$count": "n"}],
                    }
                }
            ]
            [found] = list(events.aggregate(pipeline + paged, allowDiskUse=True))
            rows = found["rows"]
            total = found["total"][0]["n"] if found["total"] else 0
        summary = None
        if self.summary is not None:
            found_summary = list(events.aggregate(self.summary(query), allowDiskUse=True))
            summary = found_summary[0] if found_summary else None
            if summary is not None:
                summary.pop("_id", None)
        return Result(rows, total, summary)
