"""Each edX report on the hand-written fixture, through the API and the CLI, against
answers worked out by hand (the reasoning is in the comments).

The fixture's course, by learner (UTC; 2026-03-02 is a Monday):
- asha: enrols Mon 09:29; Mon 10:00-10:25 a page, video intro (play, pause 300 s later,
  speed 1.5, play, seek 120 s later, stop 60 s later), q1 wrong then right, the PDF
  (pages 2, 3 and a search on 3), a sequence; Tue 09:00-09:10:01 a page, video loops
  120 s, the final problem, "passed"; Wed 12:00 a certificate.
- ravi: enrols Mon 14:15; 14:20-14:50 intro on mobile for 600 s, q1 wrong twice, q2
  right, two PDF searches, a forum thread; Tue 16:00-16:06 a page, an XBlock call, a
  sequence, a pause whose event is broken JSON; Wed 12:00 plays loops, 12:05 q2 right.
- meena: Tue 18:00-18:20 course page, outline, forum reply, an upsell; enrols Wed 08:00,
  plays intro 08:05 and pauses 40 min later, q2 wrong at 08:50.
- john: enrols Tue 21:45, nothing else. An anonymous page_close on Monday.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from footfall.app import SPEC_DIR
from footfall.cli import main
from footfall.edx.reports import REPORTS
from tests.edx_helpers import COURSE, FINAL, LOG, LOG_GZ, P1, P2, PDF, V1, V2, WEEK1, import_files

INTRO = "/courses/course-v1:IITB+Py101+2026/courseware/week1/intro/"
LOOPS = "/courses/course-v1:IITB+Py101+2026/courseware/week1/loops/"
HOME = "/courses/course-v1:IITB+Py101+2026/course/"
HANDLER = (
    "/courses/course-v1:IITB+Py101+2026/xblock/block-v1:IITB+Py101+2026+type@problem+block@q1"
    "/handler/xmodule_handler/problem_get"
)
UNIT2 = "https://learn.example.org/courses/course-v1:IITB+Py101+2026/courseware/week1/intro/2"
BOOK = "https://learn.example.org/courses/course-v1:IITB+Py101+2026/pdfbook/0/"


def t(text: str) -> str:
    return f"2026-03-{text}.000Z"


#: name -> (query parameters, rows, summary)
EXPECTED: dict[str, tuple[dict[str, str], list[list], dict | None]] = {
    "event_types": (
        {},
        # 46 events of the course: most frequent first, then by name.
        [
            ["problem_check", "problem", 9, 3],  # 8 server (asha 3, ravi 4, meena 1) + 1 browser
            ["play_video", "video", 5, 3],
            ["edx.course.enrollment.activated", "enrollment", 4, 4],
            ["pause_video", "video", 4, 3],  # asha 2, ravi's broken one, meena
            ["textbook.pdf.search.executed", "textbook", 3, 2],
            [INTRO, "page", 2, 2],
            [HOME, "page", 1, 1],
            [LOOPS, "page", 1, 1],
            [HANDLER, "page", 1, 1],
            ["edx.bi.course.upgrade.sidebarupsell.displayed", "other", 1, 1],
            ["edx.certificate.created", "certificate", 1, 1],
            ["edx.course.grade.passed.first_time", "grade", 1, 1],
            ["edx.forum.response.created", "forum", 1, 1],
            ["edx.forum.thread.created", "forum", 1, 1],
            ["edx.ui.lms.outline.selected", "navigation", 1, 1],
            ["edx.video.paused", "video", 1, 1],
            ["edx.video.played", "video", 1, 1],
            ["page_close", "navigation", 1, 0],  # anonymous
            ["seek_video", "video", 1, 1],
            ["seq_goto", "navigation", 1, 1],
            ["seq_next", "navigation", 1, 1],
            ["speed_change_video", "video", 1, 1],
            ["stop_video", "video", 1, 1],
            ["textbook.pdf.page.loaded", "textbook", 1, 1],
            ["textbook.pdf.page.scrolled", "textbook", 1, 1],
        ],
        None,
    ),
    # Mon: lines 1-2 and 4-26 (25); Tue: 13 + john's enrolment; Wed: the gzip's 7 new ones.
    "events_per_day": ({}, [["2026-03-02", 25], ["2026-03-03", 14], ["2026-03-04", 7]], None),
    "active_learners_per_day": (
        {},
        [["2026-03-02", 2, 24], ["2026-03-03", 4, 14], ["2026-03-04", 3, 7]],
        None,
    ),
    # Gap 30 min. asha: 09:29 alone (its next is 31 min later), 10:00-10:25 (1500 s),
    # Tue 09:00-09:10:01 (601 s), Wed 12:00 alone: 4 sessions, 2101 s. ravi: 14:15-14:50
    # (2100 s), 16:00-16:06 (360 s), 12:00-12:05 (300 s). meena: 18:00-18:20 (1200 s),
    # 08:00-08:05 (300 s), then 40 min idle, 08:45-08:50 (300 s). john: one event.
    "time_per_learner": (
        {},
        [
            ["ravi", 3, 2760.0, 3, 15],
            ["asha", 4, 2101.0, 3, 21],
            ["meena", 3, 1800.0, 2, 8],
            ["john", 1, 0, 1, 1],
        ],
        None,
    ),
    "time_per_day": (
        {},
        [
            ["2026-03-02", 2, 3, 3600.0],  # 1500 + 2100
            ["2026-03-03", 4, 4, 2161.0],  # 601 + 360 + 1200 + 0
            ["2026-03-04", 3, 4, 900.0],  # asha 0, ravi 300, meena 300 + 300
        ],
        None,
    ),
    "completion": (
        {},
        [
            ["asha", "finished", t("02T09:29:00"), t("02T10:00:00"), t("03T09:10:01")],
            ["john", "enrolled_not_started", t("03T21:45:00"), None, None],
            ["meena", "started_not_finished", t("04T08:00:00"), t("03T18:00:00"), None],
            ["ravi", "started_not_finished", t("02T14:15:00"), t("02T14:20:00"), None],
        ],
        {"learners": 4, "enrolled_not_started": 1, "started_not_finished": 2, "finished": 1},
    ),
    # The XBlock handler call is not a visit.
    "page_visits_per_day": ({}, [["2026-03-02", 1, 1], ["2026-03-03", 3, 3]], None),
    "page_visits_per_page": ({}, [[INTRO, 2, 2], [HOME, 1, 1], [LOOPS, 1, 1]], None),
    "learner_path": (
        {"learner": "asha"},
        [
            [1, "edx.course.enrollment.activated", t("02T09:29:00"), t("02T09:29:00"), 1],
            [2, INTRO, t("02T10:00:00"), t("02T10:00:00"), 1],
            [3, V1, "2026-03-02T10:00:05.120Z", t("02T10:08:15"), 6],
            [4, P1, t("02T10:10:00"), t("02T10:10:00"), 1],
            [5, UNIT2, t("02T10:11:58"), t("02T10:11:58"), 1],  # the browser's problem_check
            [6, P1, t("02T10:12:00"), t("02T10:12:00"), 1],
            [7, BOOK, t("02T10:20:00"), t("02T10:22:00"), 3],
            [8, WEEK1, t("02T10:25:00"), t("02T10:25:00"), 1],
            [9, LOOPS, t("03T09:00:00"), t("03T09:00:00"), 1],
            [10, V2, t("03T09:01:00"), t("03T09:03:00"), 2],
            [11, FINAL, t("03T09:10:00"), t("03T09:10:00"), 1],
            [12, "edx.course.grade.passed.first_time", t("03T09:10:01"), t("03T09:10:01"), 1],
            [13, "edx.certificate.created", t("04T12:00:00"), t("04T12:00:00"), 1],
        ],
        None,
    ),
    # Mon 09:29 (9.483) and 14:15 (14.25); Tue 21:45; Wed 08:00. Mean hour 53.483 / 4.
    "enrolment_time": (
        {},
        [["Monday", 2, 11.87], ["Tuesday", 1, 21.75], ["Wednesday", 1, 8.0]],
        {
            "enrolments": 4,
            "average_hour": 13.37,
            "average_weekday": 1.75,
            "busiest_weekday": "Monday",
        },
    ),
    "pdf_searches": (
        {},
        [["for loop", 2, 2], ["range", 1, 1]],
        {"searches": 3, "queries": 2, "learners": 2},
    ),
    # asha: page 2 (loaded), page 3 (scrolled, searched); ravi: page 1, page 3 (searches).
    "pdf_pages": (
        {},
        [[PDF, 1, 1, 1], [PDF, 2, 1, 1], [PDF, 3, 3, 2]],
        {"unique_pages": 3, "learner_pages": 4, "learners": 2},
    ),
    "video_plays_per_day": (
        {},
        [["2026-03-02", 3, 1, 2], ["2026-03-03", 1, 1, 1], ["2026-03-04", 2, 2, 2]],
        None,
    ),
    "video_plays_per_video": ({}, [[V1, 4, 3], [V2, 2, 2]], None),
    # intro: asha 300 + 120 + 60 s (content 300 + 1.5 x 180), ravi 600 s on mobile, meena
    # 40 min capped at the 30 min gap: 2880 s, content 2970 s, 3 learners. loops: asha
    # 120 s; ravi's last play has no later event (0 s), his broken pause names no video.
    "video_watch_time": (
        {},
        [[V1, 3, 4, 2880.0, 2970.0, 960.0], [V2, 2, 2, 120.0, 120.0, 60.0]],
        None,
    ),
    # Server problem_check only: final 1/1; q1 asha wrong, right, ravi wrong twice; q2
    # ravi right, meena wrong, ravi right.
    "problems": (
        {},
        [[FINAL, 1, 1, 100.0, 1, 1], [P1, 4, 1, 25.0, 2, 1], [P2, 3, 2, 66.7, 2, 1]],
        None,
    ),
}


@pytest.fixture
def imported(db, settings):
    import_files(db, settings, LOG, LOG_GZ)
    return db


def as_lists(name: str, rows: list[dict]) -> list[list]:
    return [[row[c] for c in REPORTS[name].columns] for row in rows]


def test_every_report_has_an_answer_worked_out_by_hand():
    assert set(EXPECTED) == set(REPORTS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_report_through_the_api(client, imported, name):
    params, rows, summary = EXPECTED[name]
    answer = client.get(
        f"/api/v1/edx/reports/{name}", params={"course_id": COURSE, "per_page": 100, **params}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert as_lists(name, body["rows"]) == rows
    assert body["summary"] == summary
    assert body["total"] == len(rows)
    assert body["columns"] == list(REPORTS[name].columns)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_report_through_the_cli(settings, imported, name):
    params, rows, summary = EXPECTED[name]
    args = ["edx", "report", name, "--course", COURSE, "--format", "json"]
    for key, value in params.items():
        args += [f"--{key}", value]
    done = CliRunner().invoke(main, args, env=settings.environ(), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    body = json.loads(done.output)
    assert as_lists(name, body["rows"]) == rows
    assert body["summary"] == summary


def test_finished_can_mean_reaching_a_given_last_block(client, imported):
    # q2: ravi (Mon 14:40) and meena (Wed 08:50) reached it; asha never did.
    answer = client.get(
        "/api/v1/edx/reports/completion", params={"course_id": COURSE, "last_block": P2}
    ).json()
    assert [[r["username"], r["status"], r["finished_at"]] for r in answer["rows"]] == [
        ["asha", "started_not_finished", None],
        ["john", "enrolled_not_started", None],
        ["meena", "finished", t("04T08:50:00")],
        ["ravi", "finished", t("02T14:40:00")],
    ]
    assert answer["summary"]["finished"] == 2


def test_the_window_and_the_gap_change_the_answer(client, imported):
    tuesday = client.get(
        "/api/v1/edx/reports/events_per_day",
        params={"course_id": COURSE, "from": "2026-03-03", "to": "2026-03-03"},
    ).json()
    assert as_lists("events_per_day", tuesday["rows"]) == [["2026-03-03", 14]]
    assert tuesday["from"] == "2026-03-03T00:00:00.000Z"
    assert tuesday["to"] == "2026-03-04T00:00:00.000Z"
    # With a 45 min gap meena's 40 idle minutes on Wednesday count: 2400 s more, 1 session less.
    wider = client.get(
        "/api/v1/edx/reports/time_per_learner",
        params={"course_id": COURSE, "gap_minutes": 45},
    ).json()
    meena = next(r for r in wider["rows"] if r["username"] == "meena")
    assert (meena["sessions"], meena["seconds"]) == (2, 4200.0)


def test_a_long_report_comes_a_page_at_a_time_with_links(client, imported):
    page = client.get(
        "/api/v1/edx/reports/event_types",
        params={"course_id": COURSE, "page": 3, "per_page": 10},
    ).json()
    expected = EXPECTED["event_types"][1]
    assert as_lists("event_types", page["rows"]) == expected[20:]
    assert (page["total"], page["page"], page["per_page"]) == (25, 3, 10)
    assert page["links"]["prev"].endswith("page=2&per_page=10")
    assert page["links"]["next"] is None


def test_csv_from_the_api_and_a_table_from_the_cli(client, settings, imported):
    csv = client.get("/api/v1/edx/reports/problems", params={"course_id": COURSE, "format": "csv"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == [
        "problem,attempts,correct,success_rate,learners,learners_correct",
        f"{FINAL},1,1,100.0,1,1",
        f"{P1},4,1,25.0,2,1",
        f"{P2},3,2,66.7,2,1",
    ]
    table = CliRunner().invoke(
        main,
        ["edx", "report", "pdf_searches", "--course", COURSE, "--format", "table"],
        env=settings.environ(),
    )
    assert table.exit_code == 0
    assert table.output.splitlines() == [
        "searches: 3",
        "queries: 2",
        "learners: 2",
        "",
        "query     searches  learners",
        "for loop  2         2",
        "range     1         1",
        "(2 rows)",
    ]


def test_bad_report_parameters_are_a_400_naming_them(client, imported, settings):
    no_learner = client.get("/api/v1/edx/reports/learner_path", params={"course_id": COURSE})
    assert no_learner.status_code == 400
    assert no_learner.headers["content-type"] == "application/problem+json"
    assert "learner" in no_learner.json()["detail"]
    backwards = client.get(
        "/api/v1/edx/reports/events_per_day",
        params={"course_id": COURSE, "from": "2026-03-04", "to": "2026-03-02"},
    )
    assert backwards.status_code == 400 and "to" in backwards.json()["detail"]
    garbled = client.get(
        "/api/v1/edx/reports/events_per_day", params={"course_id": COURSE, "from": "March"}
    )
    assert garbled.status_code == 400 and "from" in garbled.json()["detail"]
    unknown = client.get("/api/v1/edx/reports/nothing", params={"course_id": COURSE})
    assert unknown.status_code == 400
    cli = CliRunner().invoke(
        main, ["edx", "report", "learner_path", "--course", COURSE], env=settings.environ()
    )
    assert cli.exit_code == 2 and "--learner" in cli.output


def test_the_spec_and_the_docs_list_exactly_the_registered_reports():
    spec = yaml.safe_load((SPEC_DIR / "footfall.yaml").read_text())
    [name] = [
        p
        for p in spec["paths"]["/edx/reports/{name}"]["get"]["parameters"]
        if p.get("name") == "name"
    ]
    assert name["schema"]["enum"] == list(REPORTS)
    docs = (Path(__file__).parent.parent / "docs" / "edx.md").read_text()
    assert [n for n in REPORTS if f"`{n}`" not in docs] == []


def test_the_report_listing_defines_each_report(client):
    listing = client.get("/api/v1/edx/reports").json()
    assert [r["name"] for r in listing] == list(REPORTS)
    assert next(r for r in listing if r["name"] == "learner_path")["needs"] == ["learner"]
