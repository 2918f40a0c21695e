"""Tutorial progress through the HTTP API: the rules a learner meets, course percentages,
"continue where you left off", course-team figures, and freshness."""

from __future__ import annotations

import threading
import time
from itertools import count

import pytest

from footfall.flusher import Flusher
from footfall.security import keys, tokens
from tests.conftest import keyed_client
from tests.progress_helpers import at, text

API = "/api/v1"
COURSE = {
    "title": "Python",
    "tutorials": [
        {"tutorial_id": "t1", "title": "Getting started", "duration_s": 600},
        {"tutorial_id": "t2", "title": "Variables", "duration_s": 540},
        {"tutorial_id": "t3", "title": "Functions", "duration_s": 720, "languages": ["English"]},
        {"tutorial_id": "t4", "title": "Modules", "duration_s": 480},
    ],
}


class Player:
    """One learner's video player and buttons on tutorial pages, as a page drives them."""

    def __init__(self, client, username: str = "asha", course_id: str = "python") -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.username = username
        self.course_id = course_id
        self.numbers = count()

    def _base(self, tutorial: str, visit: str, minute: float, language: str) -> dict:
        return {
            "log_id": f"{self.username}-{next(self.numbers):04}",
            "username": self.username,
            "course_id": self.course_id,
            "tutorial_id": tutorial,
            "language": language,
            "visit_id": visit,
            "at": text(at(minute)),
        }

    def position(
        self,
        position_s: float,
        minute: float,
        *,
        visit: str = "v1",
        tutorial: str = "t1",
        duration_s: float = 600,
        language: str = "English",
    ):  # type: ignore[no-untyped-def]
        body = self._base(tutorial, visit, minute, language)
        body |= {"position_s": position_s, "duration_s": duration_s}
        response = self.client.post(f"{API}/tutorial-progress", json=body)
        assert response.status_code == 202, response.text
        return response

    def watch(self, minutes: range | list[int], start: float, **options) -> float:  # type: ignore[no-untyped-def]
        """Report each playback minute in turn, one a minute; returns the time after."""
        for offset, minute in enumerate(minutes):
            self.position(minute * 60 + 2, start + offset, **options)
        return start + len(minutes)

    def mark(
        self,
        completed: bool,
        minute: float,
        *,
        visit: str = "v1",
        tutorial: str = "t1",
        language: str = "English",
    ) -> None:
        body = self._base(tutorial, visit, minute, language) | {"completed": completed}
        response = self.client.post(f"{API}/tutorial-completion", json=body)
        assert response.status_code == 202, response.text

    def progress(self, language: str | None = None) -> dict:
        query = f"?language={language}" if language else ""
        response = self.client.get(
            f"{API}/learners/{self.username}/courses/{self.course_id}/progress{query}"
        )
        assert response.status_code == 200, response.text
        return response.json()

    def tutorial(self, tutorial_id: str = "t1") -> dict:
        return next(t for t in self.progress()["tutorials"] if t["tutorial_id"] == tutorial_id)

    def completed(self, tutorial_id: str = "t1") -> bool:
        response = self.client.get(
            f"{API}/learners/{self.username}/courses/{self.course_id}"
            f"/tutorials/{tutorial_id}/completion"
        )
        assert response.status_code == 200, response.text
        return response.json()["completed"]


@pytest.fixture
def player(client):  # type: ignore[no-untyped-def]
    return Player(client)


def test_seven_of_ten_minutes_is_not_completed(player, flush):
    player.watch(range(7), start=0)
    flush()
    assert player.tutorial()["percent_watched"] == 70.0
    assert player.completed() is False


def test_eight_of_ten_minutes_completes_automatically(player, flush, client):
    player.watch(range(8), start=0)
    flush()
    answer = client.get(f"{API}/learners/asha/courses/python/tutorials/t1/completion").json()
    assert answer == {
        "username": "asha",
        "course_id": "python",
        "tutorial_id": "t1",
        "language": "English",
        "completed": True,
        "completed_at": text(at(7)),
        "completion_source": "auto",
    }


def test_skipping_ahead_to_the_end_does_not_complete(player, flush):
    player.watch(range(2), start=0)
    player.position(600, 3)  # the learner drags to the very end
    flush()
    tutorial = player.tutorial()
    assert (tutorial["percent_watched"], tutorial["completed"]) == (30.0, False)
    assert tutorial["resume_position_s"] == 600


def test_rewatching_the_same_minutes_does_not_complete(player, flush):
    player.watch(range(5), start=0, visit="v1")
    player.watch(range(5), start=60, visit="v2")
    player.watch(range(5), start=120, visit="v3")
    flush()
    tutorial = player.tutorial()
    assert (tutorial["percent_watched"], tutorial["visits"], tutorial["completed"]) == (
        50.0,
        3,
        False,
    )


def test_not_completed_by_hand_stays_so_while_watching_on_in_that_visit(player, flush):
    after = player.watch(range(8), start=0)
    player.mark(False, after)
    player.watch([8, 9], start=after + 1)
    flush()
    language = player.tutorial()["languages"][0]
    assert language["percent_watched"] == 100.0
    assert (language["completed"], language["completion_source"]) == (False, "manual")


def test_not_completed_by_hand_then_a_new_visit_completes_again(player, flush):
    after = player.watch(range(8), start=0)
    player.mark(False, after)
    player.watch([8, 9], start=after + 1)
    player.watch([0], start=100, visit="v2")
    flush()
    language = player.tutorial()["languages"][0]
    assert (language["completed"], language["completion_source"]) == (True, "auto")
    assert language["completed_at"] == text(at(100))


def test_a_toggle_that_arrives_late_still_wins_by_its_event_time(player, flush):
    player.watch(range(3), start=0)
    player.mark(True, 10)
    player.mark(False, 5)  # sent earlier, arrived later
    flush()
    assert player.completed() is True


def test_the_resume_position_follows_event_time_not_arrival(player, flush):
    player.position(420, 7)
    player.position(60, 1)
    player.position(240, 4)
    flush()
    assert player.tutorial()["resume_position_s"] == 420
    assert player.progress()["continue"]["position_s"] == 420


def test_the_course_percentage_counts_tutorials_never_opened(player, client, flush):
    assert client.put(f"{API}/courses/python", json=COURSE).status_code == 200
    player.watch(range(8), start=0, tutorial="t1")
    player.watch(range(2), start=20, tutorial="t2", duration_s=540)
    flush()
    progress = player.progress()
    assert progress["tutorials_source"] == "catalogue"
    assert (progress["tutorials_total"], progress["tutorials_completed"]) == (4, 1)
    assert progress["completion_percent"] == 25.0
    opened = {t["tutorial_id"]: t["opened"] for t in progress["tutorials"]}
    assert opened == {"t1": True, "t2": True, "t3": False, "t4": False}
    assert progress["continue"] == {
        "tutorial_id": "t2",
        "language": "English",
        "position_s": 62,
        "at": text(at(21)),
        "completed": False,
    }


def test_a_language_read_counts_only_the_tutorials_in_that_language(player, client, flush):
    client.put(f"{API}/courses/python", json=COURSE)
    player.watch(range(8), start=0, tutorial="t1", language="Hindi")
    flush()
    hindi = player.progress(language="Hindi")
    assert [t["tutorial_id"] for t in hindi["tutorials"]] == ["t1", "t2", "t4"]  # t3: English
    assert hindi["completion_percent"] == 33.3
    assert player.progress(language="English")["tutorials_completed"] == 0
    assert player.progress()["tutorials_completed"] == 1  # any language


def test_without_a_catalogue_the_course_is_every_tutorial_learners_watched(client, flush):
    Player(client, "ravi").watch([0], start=0, tutorial="t9")
    asha = Player(client)
    asha.watch(range(8), start=0, tutorial="t1")
    flush()
    progress = asha.progress()
    assert progress["tutorials_source"] == "events"
    assert [t["tutorial_id"] for t in progress["tutorials"]] == ["t1", "t9"]
    assert progress["completion_percent"] == 50.0


def test_an_unknown_learner_or_tutorial_is_not_completed_with_200(client, flush):
    response = client.get(f"{API}/learners/nobody/courses/python/tutorials/t1/completion")
    assert response.status_code == 200
    assert response.json()["completed"] is False
    empty = client.get(f"{API}/learners/nobody/courses/python/progress").json()
    assert (empty["tutorials_total"], empty["completion_percent"], empty["continue"]) == (
        0,
        0.0,
        None,
    )


def test_a_course_is_registered_read_back_and_replaced(client):
    stored = client.put(f"{API}/courses/python", json=COURSE)
    assert stored.status_code == 200
    assert client.get(f"{API}/courses/python").json()["tutorials"] == COURSE["tutorials"]
    client.put(f"{API}/courses/python", json={"tutorials": [{"tutorial_id": "t1"}]})
    assert client.get(f"{API}/courses/python").json()["tutorials"] == [{"tutorial_id": "t1"}]
    assert client.get(f"{API}/courses/other").status_code == 404


def test_course_team_figures_on_a_known_data_set(client, flush):
    """asha: t1 completed in two visits, t2 completed. ravi: t1 completed in English and
    watched again in Hindi. mina: a little of t1. Nobody opened t3 or t4."""
    client.put(f"{API}/courses/python", json=COURSE)
    asha, ravi, mina = (Player(client, name) for name in ("asha", "ravi", "mina"))
    asha.watch(range(4), start=0, visit="a1")
    asha.watch(range(4, 9), start=60, visit="a2")
    asha.mark(True, 200, tutorial="t2", visit="a3")
    ravi.watch(range(10), start=0, visit="r1")
    ravi.watch(range(3), start=30, visit="r2", language="Hindi")
    mina.watch([0], start=0, visit="m1")
    flush()

    figures = client.get(f"{API}/courses/python/figures").json()
    assert figures["learners"] == 3
    assert figures["tutorials_source"] == "catalogue"
    by_id = {t["tutorial_id"]: t for t in figures["tutorials"]}
    assert by_id["t1"] == {
        "tutorial_id": "t1",
        "title": "Getting started",
        "viewers": 3,
        "completions": 2,
        "completion_rate": 66.7,
        "rewatchers": 2,
        "average_visits": 1.67,
    }
    assert by_id["t2"] | {"title": None} == {
        "tutorial_id": "t2",
        "title": None,
        "viewers": 1,
        "completions": 1,
        "completion_rate": 100.0,
        "rewatchers": 0,
        "average_visits": 0.0,
    }
    assert by_id["t3"]["viewers"] == by_id["t4"]["viewers"] == 0
    assert figures["completion_distribution"] == [
        {"completed_tutorials": 0, "completion_percent": 0.0, "learners": 1},
        {"completed_tutorials": 1, "completion_percent": 25.0, "learners": 1},
        {"completed_tutorials": 2, "completion_percent": 50.0, "learners": 1},
        {"completed_tutorials": 3, "completion_percent": 75.0, "learners": 0},
        {"completed_tutorials": 4, "completion_percent": 100.0, "learners": 0},
    ]
    hindi = client.get(f"{API}/courses/python/figures?language=Hindi").json()
    t1 = next(t for t in hindi["tutorials"] if t["tutorial_id"] == "t1")
    assert (t1["viewers"], t1["completions"], hindi["learners"]) == (1, 0, 1)


def test_course_team_figures_are_paginated_over_tutorials(client, flush):
    client.put(f"{API}/courses/python", json=COURSE)
    first = client.get(f"{API}/courses/python/figures?per_page=3").json()
    assert [t["tutorial_id"] for t in first["tutorials"]] == ["t1", "t2", "t3"]
    assert first["total"] == 4
    second = client.get(first["links"]["next"]).json()
    assert [t["tutorial_id"] for t in second["tutorials"]] == ["t4"]
    assert second["links"]["next"] is None
    assert len(second["completion_distribution"]) == 5  # the whole course on every page


def test_batches_carry_progress_and_toggles(client, flush):
    items = [
        {
            "kind": "tutorial_progress",
            "log_id": "b1",
            "username": "asha",
            "course_id": "python",
            "tutorial_id": "t1",
            "language": "English",
            "visit_id": "v1",
            "at": text(at(1)),
            "position_s": 61,
            "duration_s": 600,
        },
        {
            "kind": "tutorial_completion",
            "log_id": "b2",
            "username": "asha",
            "course_id": "python",
            "tutorial_id": "t1",
            "language": "English",
            "visit_id": "v1",
            "at": text(at(2)),
            "completed": True,
        },
    ]
    response = client.post(f"{API}/batch", json={"items": items})
    assert response.json()["accepted"] == 2, response.text
    flush()
    assert Player(client).completed() is True


def test_a_learners_player_session_gives_the_documented_state(client, flush):
    """The README's walk-through: a 10-minute tutorial in a 3-tutorial course."""
    client.put(f"{API}/courses/python", json={"tutorials": COURSE["tutorials"][:3]})
    asha = Player(client)
    # Visit 1: minutes 0-3, a skip to minute 8, then "mark as complete" by hand.
    asha.watch(range(4), start=0, visit="visit-1")
    asha.position(8 * 60 + 10, 4, visit="visit-1")
    asha.mark(True, 5, visit="visit-1")
    # Visit 2, the next day: "not completed" to watch again, then minutes 4-7.
    asha.mark(False, 24 * 60, visit="visit-2")
    asha.watch(range(4, 8), start=24 * 60 + 1, visit="visit-2")
    # Visit 3: a look at minute 2; the threshold (8 of 10 minutes) is already met.
    asha.position(2 * 60 + 30, 48 * 60, visit="visit-3")
    flush()

    progress = asha.progress()
    t1 = progress["tutorials"][0]
    assert t1["languages"] == [
        {
            "language": "English",
            "completed": True,
            "completed_at": text(at(48 * 60)),
            "completion_source": "auto",
            "percent_watched": 90.0,
            "watched_minutes": 9,
            "total_minutes": 10,
            "duration_s": 600,
            "resume_position_s": 150,
            "visits": 3,
            "first_watched_at": text(at(0)),
            "last_watched_at": text(at(48 * 60)),
        }
    ]
    assert (progress["tutorials_completed"], progress["completion_percent"]) == (1, 33.3)
    assert progress["continue"] == {
        "tutorial_id": "t1",
        "language": "English",
        "position_s": 150,
        "at": text(at(48 * 60)),
        "completed": True,
    }


def test_a_read_right_after_a_post_reflects_it_within_a_second(client, settings, redis, db):
    """A real flusher with the default FLUSH_MAX_WAIT_MS (200 ms), as `footfall flush` runs."""
    client.put(f"{API}/courses/python", json=COURSE)
    flusher = Flusher(settings.replace({"flush_max_wait_ms": 200}), redis, db)
    thread = threading.Thread(target=flusher.run)
    thread.start()
    try:
        asha = Player(client)
        asha.watch(range(7), start=0)
        deadline = time.monotonic() + 10
        while asha.tutorial()["percent_watched"] < 70.0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        delays = []
        for minute in (7, 8):
            asha.position(minute * 60, minute)
            posted = time.monotonic()
            while asha.tutorial()["percent_watched"] < (minute + 1) * 10:
                assert time.monotonic() - posted < 10
                time.sleep(0.01)
            delays.append(time.monotonic() - posted)
        assert asha.completed() is True
        assert max(delays) < 1.0, delays
    finally:
        flusher.stop()
        thread.join(10)


SITE = "https://learn.example.org"


@pytest.fixture
def page(app, db):  # type: ignore[no-untyped-def]
    """A tutorial page: a browser key from its origin, and a learner token for asha."""
    key = keys.create(db, "site pages", ["browser"], [SITE])
    assert key.token_secret is not None
    headers = {
        "X-API-Key": key.secret,
        "Origin": SITE,
        "X-Learner-Token": tokens.issue(key.token_secret, "asha"),
    }
    return app.test_client(headers=headers)


def test_a_page_posts_progress_for_its_learner_and_reads_only_theirs(page, client, flush):
    Player(page).watch(range(8), start=0)
    flush()
    assert Player(page).completed() is True
    assert page.get(f"{API}/learners/asha/courses/python/progress").status_code == 200
    Player(client, "ravi").watch([0], start=0)
    flush()
    for path in ("progress", "tutorials/t1/completion"):
        response = page.get(f"{API}/learners/ravi/courses/python/{path}")
        assert response.status_code == 403, response.text
    assert page.get(f"{API}/courses/python/figures").status_code == 403  # read scope only


def test_a_page_cannot_post_progress_for_another_learner(page, db, flush):
    response = page.post(
        f"{API}/tutorial-progress",
        json={
            "username": "ravi",
            "course_id": "python",
            "tutorial_id": "t1",
            "language": "English",
            "visit_id": "v1",
            "at": text(at(1)),
            "position_s": 60,
            "duration_s": 600,
        },
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["pointer"] == "/username"
    flush()
    assert db.tutorial_progress.count_documents({}) == 0


def test_registering_a_course_needs_an_admin_key(app, db):
    for scope in ("ingest", "read"):
        response = keyed_client(app, db, scope).put(f"{API}/courses/python", json=COURSE)
        assert response.status_code == 403
    assert (
        keyed_client(app, db, "admin").put(f"{API}/courses/python", json=COURSE).status_code == 200
    )


def test_a_manual_not_completed_has_the_same_source_in_both_reads(player, flush, client):
    after = player.watch(range(3), start=0)
    player.mark(False, after)
    flush()
    language = player.tutorial()["languages"][0]
    base = f"{API}/learners/asha/courses/python/tutorials/t1/completion"
    for query in ("", "?language=English"):
        answer = client.get(base + query).json()
        assert (answer["completed"], answer["completion_source"]) == (False, "manual")
        assert answer["completion_source"] == language["completion_source"]
    undecided = client.get(f"{API}/learners/asha/courses/python/tutorials/t2/completion").json()
    assert undecided["completion_source"] is None
