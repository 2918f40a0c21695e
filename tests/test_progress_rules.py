"""The completion rules, as the pure function `derive` applies them to merged facts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from footfall.tutorials.completion import (
    Facts,
    derive,
    minute_of,
    minutes_in,
    minutes_needed,
)
from tests.progress_helpers import T0, THRESHOLD, Ev, at, fold, replay


def watch(minutes: list[int], visit: str = "v1", start: float = 0, prefix: str = "p") -> list[Ev]:
    """A player reporting each minute in turn, one a minute from `start`."""
    return [
        Ev(f"{prefix}{visit}-{i:03}", at(start + i), visit, position_s=minute * 60 + 5)
        for i, minute in enumerate(minutes)
    ]


def toggle(completed: bool, when: float, visit: str = "v1", log_id: str | None = None) -> Ev:
    return Ev(log_id or f"toggle-{when}", at(when), visit, completed=completed)


def state(events: list[Ev], threshold: float = THRESHOLD):  # type: ignore[no-untyped-def]
    return derive(fold(events), threshold)


def test_a_started_minute_counts_and_the_end_belongs_to_the_last_minute():
    assert minutes_in(600) == 10
    assert minutes_in(630) == 11
    assert minutes_in(5) == 1
    assert minute_of(0, 600) == 0
    assert minute_of(599.9, 600) == 9
    assert minute_of(600, 600) == 9


@pytest.mark.parametrize(
    ("total", "threshold", "needed"),
    [(10, 0.8, 8), (11, 0.8, 9), (10, 0.7, 7), (3, 0.8, 3), (1, 0.8, 1), (10, 1.0, 10)],
)
def test_minutes_needed_is_the_ceiling_of_the_share_without_float_error(total, threshold, needed):
    assert minutes_needed(total, threshold) == needed


def test_just_below_80_percent_is_not_completed():
    result = state(watch(list(range(7))))
    assert (result.completed, result.percent_watched, result.watched_minutes) == (False, 70.0, 7)
    assert result.completion_source is None


def test_exactly_80_percent_completes_at_the_minute_that_reached_it():
    result = state(watch(list(range(8))))
    assert result.completed
    assert result.completion_source == "auto"
    assert result.completed_at == at(7)
    assert result.percent_watched == 80.0


def test_skipping_ahead_to_the_end_counts_only_the_minute_skipped_to():
    events = [*watch([0, 1]), Ev("skip", at(3), "v1", position_s=600)]
    result = state(events)
    assert result.watched_minutes == 3  # minutes 0, 1 and 9
    assert not result.completed


def test_rewatching_the_same_minutes_adds_nothing():
    events = watch([0, 1, 2, 3, 4]) + watch([0, 1, 2, 3, 4], visit="v2", start=60)
    result = state(events)
    assert (result.watched_minutes, result.visit_count, result.completed) == (5, 2, False)


def test_manual_completion_wins_over_minutes_watched():
    result = state([*watch([0]), toggle(True, 2)])
    assert (result.completed, result.completion_source, result.completed_at) == (
        True,
        "manual",
        at(2),
    )


def test_manual_not_completed_stays_for_the_rest_of_that_visit():
    events = [*watch(list(range(8))), toggle(False, 10), *watch([8, 9], start=11)]
    result = state(events)
    assert result.watched_minutes == 10
    assert (result.completed, result.completion_source) == (False, "manual")


def test_manual_not_completed_before_the_threshold_keeps_that_visit_from_completing():
    events = [*watch([0, 1]), toggle(False, 2), *watch(list(range(2, 10)), start=3)]
    assert not state(events).completed


def test_a_later_visit_completes_again_at_its_first_minute():
    events = [
        *watch(list(range(8))),
        toggle(False, 10),
        *watch([8, 9], start=11),
        *watch([3], visit="v2", start=60),
    ]
    result = state(events)
    assert (result.completed, result.completion_source, result.completed_at) == (
        True,
        "auto",
        at(60),
    )


def test_a_later_visit_below_the_threshold_does_not_complete():
    events = [*watch([0, 1]), toggle(False, 2), *watch([2, 3], visit="v2", start=60)]
    assert not state(events).completed


def test_the_latest_toggle_wins_whatever_order_they_came_in():
    events = [*watch([0]), toggle(True, 5, log_id="a"), toggle(False, 9, log_id="b")]
    assert not state(events).completed
    assert not state(list(reversed(events))).completed


def test_toggles_at_the_same_instant_are_decided_by_log_id():
    events = [toggle(True, 5, log_id="b"), toggle(False, 5, log_id="a")]
    assert state(events).completed  # "b" > "a": the completed one is the last writer


def test_a_toggle_wins_over_an_auto_completion_at_the_same_instant():
    events = [
        *watch(list(range(7))),
        Ev("m7", at(20), "v2", position_s=7 * 60),
        toggle(False, 20, visit="v1"),
    ]
    assert not state(events).completed


def test_a_toggle_alone_has_no_minutes_and_no_duration():
    result = state([toggle(True, 1)])
    assert (result.completed, result.total_minutes, result.percent_watched) == (True, None, 0.0)
    assert result.visit_count == 0


def test_no_facts_is_not_completed():
    result = derive(Facts(), THRESHOLD)
    assert (result.completed, result.completed_at, result.completion_source) == (False, None, None)


def test_a_lower_threshold_completes_earlier():
    assert state(watch(list(range(5))), threshold=0.5).completed
    assert not state(watch(list(range(5))), threshold=0.6).completed


@st.composite
def histories(draw: st.DrawFn) -> list[Ev]:
    """Progress and toggles over three visits, with ties in time and repeated minutes."""
    count = draw(st.integers(1, 30))
    events = []
    for i in range(count):
        moment = T0 + timedelta(seconds=draw(st.integers(0, 40)) * 30)
        visit = draw(st.sampled_from(["v1", "v2", "v3"]))
        if draw(st.integers(0, 5)) == 0:
            events.append(Ev(f"e{i:02}", moment, visit, completed=draw(st.booleans())))
        else:
            position = draw(st.integers(0, 600))
            events.append(Ev(f"e{i:02}", moment, visit, position_s=position))
    return events


@settings(max_examples=400, deadline=None)
@given(histories(), st.sampled_from([0.5, 0.8, 1.0]))
def test_derive_agrees_with_a_replay_of_the_events_in_time_order(events, threshold):
    result = derive(fold(events), threshold)
    expected = replay(events, threshold)
    assert (result.completed, result.completed_at, result.completion_source) == expected
