"""PDF textbooks: what learners searched for, and which pages they viewed.

The PDF viewer's browser events: `textbook.pdf.search.executed` carries the `query`;
every `textbook.pdf.*` event naming a `chapter` (the PDF) and a `page` number is a view
of that page (loaded, navigated to, scrolled to, zoomed...).
"""

from __future__ import annotations

from footfall.edx.reports.base import Pipeline, Report, count_of
from footfall.edx.reports.query import Query

SEARCH = "textbook.pdf.search.executed"


def _searches(query: Query) -> Pipeline:
    return [
        query.match(event_type=SEARCH),
        {
            "$group": {
                "_id": "$event.query",
                "searches": {"$sum": 1},
                "learners": {"$addToSet": "$username"},
            }
        },
        {"$sort": {"searches": -1, "_id": 1}},
        {
            "$project": {
                "_id": 0,
                "query": "$_id",
                "searches": 1,
                "learners": count_of("learners"),
            }
        },
    ]


def _search_summary(query: Query) -> Pipeline:
    return [
        query.match(event_type=SEARCH),
        {
            "$group": {
                "_id": None,
                "searches": {"$sum": 1},
                "queries": {"$addToSet": "$event.query"},
                "learners": {"$addToSet": "$username"},
            }
        },
        {
            "$project": {
                "searches": 1,
                "queries": count_of("queries"),
                "learners": count_of("learners"),
            }
        },
    ]


def _page_views(query: Query) -> Pipeline:
    return [
        query.match(
            family="textbook",
            **{"event.chapter": {"$type": "string"}, "event.page": {"$type": "number"}},
        ),
        {
            "$group": {
                "_id": {"chapter": "$event.chapter", "page": "$event.page"},
                "views": {"$sum": 1},
                "learners": {"$addToSet": "$username"},
            }
        },
    ]


def _pages(query: Query) -> Pipeline:
    return [
        *_page_views(query),
        {"$sort": {"_id.chapter": 1, "_id.page": 1}},
        {
            "$project": {
                "_id": 0,
                "chapter": "$_id.chapter",
                "page": "$_id.page",
                "views": 1,
                "learners": count_of("learners"),
            }
        },
    ]


def _pages_summary(query: Query) -> Pipeline:
    return [
        *_page_views(query),
        {"$unwind": "$learners"},
        {
            "$group": {
                "_id": None,
                "pairs": {"$sum": 1},
                "pages": {"$addToSet": "$_id"},
                "learners": {"$addToSet": "$learners"},
            }
        },
        {
            "$project": {
                "unique_pages": {"$size": "$pages"},
                "learner_pages": "$pairs",
                "learners": count_of("learners"),
            }
        },
    ]


PDF_SEARCHES = Report(
    name="pdf_searches",
    title="PDF textbook searches",
    definition="Per search query (textbook.pdf.search.executed): searches and distinct "
    "learners; the summary: searches, distinct queries, learners.",
    columns=("query", "searches", "learners"),
    rows=_searches,
    summary=_search_summary,
)

PDF_PAGES = Report(
    name="pdf_pages",
    title="Unique PDF pages viewed",
    definition="Per PDF (chapter) and page number: views (textbook.pdf.* events naming "
    "them) and distinct learners. The summary: unique pages viewed, unique (learner, "
    "page) pairs, learners.",
    columns=("chapter", "page", "views", "learners"),
    rows=_pages,
    summary=_pages_summary,
)
