"""The course team's reports on `edx_events`, each a MongoDB aggregation pipeline.

`REPORTS` is the one registry: the API (`GET /edx/courses/{course_id}/reports/{name}`),
the CLI (`footfall edx report NAME`) and the docs list the same reports from it. One
module per concept: activity, time spent, completion, pages, a learner's path,
enrolment time, textbooks, videos, problems.
"""

from __future__ import annotations

from footfall.edx.reports import (
    activity,
    completion,
    enrolment,
    pages,
    path,
    problems,
    textbook,
    time_spent,
    video,
)
from footfall.edx.reports.base import Report, Result
from footfall.edx.reports.query import Query, QueryError

REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        activity.EVENT_TYPES,
        activity.EVENTS_PER_DAY,
        activity.ACTIVE_LEARNERS_PER_DAY,
        time_spent.TIME_PER_LEARNER,
        time_spent.TIME_PER_DAY,
        completion.COMPLETION,
        pages.PAGE_VISITS_PER_DAY,
        pages.PAGE_VISITS_PER_PAGE,
        path.LEARNER_PATH,
        enrolment.ENROLMENT_TIME,
        textbook.PDF_SEARCHES,
        textbook.PDF_PAGES,
        video.VIDEO_PLAYS_PER_DAY,
        video.VIDEO_PLAYS_PER_VIDEO,
        video.VIDEO_WATCH_TIME,
        problems.PROBLEMS,
    )
}

__all__ = ["REPORTS", "Query", "QueryError", "Report", "Result"]
