"""Progress merged by the flusher's writer into MongoDB: the same state whatever the order,
the batching and the replays; derived fields never stored from stale facts."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pymongo.errors import BulkWriteError

from footfall.events import Received
from footfall.flusher import Flusher
from footfall.sinks import BY_STREAM, KINDS
from footfall.store import tutorial_states
from footfall.store.collections import TUTORIAL_PROGRESS
from footfall.store.streams import Entry
from footfall.store.writers import DUPLICATE_KEY, TutorialStates
from footfall.tutorials.completion import derive
from tests.progress_helpers import T0, Ev, at, fold, replay

NOW = Received(at=datetime(2026, 11, 22, tzinfo=UTC))


def entries(events: list[Ev], username: str) -> list[Entry]:
    """Stream entries as the API queues them, log_ids made unique per learner."""
    found = []
    for number, ev in enumerate(events, 1):
        body = ev.body(username) | {"log_id": f"{username}:{ev.log_id}"}
        payload = KINDS[ev.kind].accept(body, NOW).message()
        found.append(Entry(TUTORIAL_PROGRESS.name, f"{number}-0", payload))
    return found


SINK = BY_STREAM[TUTORIAL_PROGRESS.name]


def decode(entries: list[Entry]) -> list[tuple[Entry, dict[str, Any]]]:
    decoded, dead = SINK.decode(entries)
    assert dead == []
    return decoded


def apply(db, settings, batches: list[list[Entry]]) -> None:  # type: ignore[no-untyped-def]
    writer = TutorialStates(SINK, settings, None)  # type: ignore[arg-type]  # it needs no Redis
    for batch in batches:
        assert writer.write(db, decode(batch)) == []


def states(db, username: str) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A learner's states by tutorial, without what names the learner or counts merges."""
    found = {}
    for state in db[TUTORIAL_PROGRESS.name].find({"username": username}):
        for name in ("_id", "username", "rev"):
            state.pop(name)
        for fact in ("resume", "toggle"):
            if fact in state:
                state[fact]["log_id"] = state[fact]["log_id"].split(":", 1)[1]
        found[state["tutorial_id"]] = state
    return found


@st.composite
def histories(draw: st.DrawFn) -> list[Ev]:
    """Progress and toggles of one learner on two tutorials, three visits, two durations."""
    events = []
    for i in range(draw(st.integers(1, 16))):
        moment = T0 + timedelta(seconds=draw(st.integers(0, 20)) * 45)
        visit = draw(st.sampled_from(["v1", "v2", "v3"]))
        tutorial = draw(st.sampled_from(["t1", "t2"]))
        if draw(st.integers(0, 4)) == 0:
            events.append(
                Ev(f"e{i:02}", moment, visit, completed=draw(st.booleans()), tutorial_id=tutorial)
            )
        else:
            duration = draw(st.sampled_from([540, 600]))
            events.append(
                Ev(
                    f"e{i:02}",
                    moment,
                    visit,
                    position_s=draw(st.integers(0, duration)),
                    duration_s=duration,
                    tutorial_id=tutorial,
                )
            )
    return events


@hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(histories(), st.randoms(use_true_random=False))
def test_shuffled_batched_and_replayed_events_give_the_state_of_applying_them_once_in_order(
    db, settings, events, rng: random.Random
):
    learner = uuid.uuid4().hex[:8]
    in_order, shuffled = f"a{learner}", f"b{learner}"
    apply(db, settings, [[entry] for entry in entries(events, in_order)])

    replayed = entries(events, shuffled)
    replayed += rng.sample(replayed, k=rng.randint(0, len(replayed)))  # duplicates
    rng.shuffle(replayed)
    cuts = sorted(rng.sample(range(1, len(replayed)), k=min(3, len(replayed) - 1)))
    apply(
        db,
        settings,
        [replayed[i:j] for i, j in zip([0, *cuts], [*cuts, len(replayed)], strict=True)],
    )

    assert states(db, shuffled) == states(db, in_order)
    for tutorial, state in states(db, in_order).items():
        mine = [ev for ev in events if ev.tutorial_id == tutorial]
        derived = derive(fold(mine), settings.progress.completion_threshold).document()
        assert {name: state.get(name) for name in derived} == derived
        if len({ev.duration_s for ev in mine if not ev.is_toggle}) <= 1:
            expected = replay(mine, settings.progress.completion_threshold)
            assert (
                state["completed"],
                state["completed_at"],
                state["completion_source"],
            ) == expected


def test_the_resume_position_is_that_of_the_latest_event_even_when_it_arrives_first(db, settings):
    events = [
        Ev("late-but-latest", at(9), "v1", position_s=545),
        Ev("early", at(1), "v1", position_s=65),
        Ev("middle", at(5), "v1", position_s=300),
    ]
    apply(db, settings, [[entry] for entry in entries(events, "asha")])
    state = db[TUTORIAL_PROGRESS.name].find_one({"username": "asha"})
    assert state["resume"]["position_s"] == 545
    assert state["resume"]["log_id"] == "asha:late-but-latest"


def test_every_event_is_kept_raw_once_however_often_it_is_replayed(db, settings):
    events = [Ev("p1", at(1), "v1", position_s=65), Ev("t1", at(2), "v1", completed=True)]
    batch = entries(events, "asha")
    apply(db, settings, [batch, batch, list(reversed(batch))])
    raw = list(db.progress_events.find({}, {"_id": 0}).sort("log_id", 1))
    assert [(doc["log_id"], doc["kind"]) for doc in raw] == [
        ("asha:p1", "tutorial_progress"),
        ("asha:t1", "tutorial_completion"),
    ]
    assert raw[0]["position_s"] == 65 and raw[1]["completed"] is True


def test_a_merge_of_facts_read_before_another_flusher_wrote_is_refused_whole(db, settings):
    """Flusher A reads a state; flusher B merges minute 7 (completing it); A's upsert,
    built on what it read, matches nothing and collides: neither its facts nor its
    derivation land, and the writer reads and merges again."""
    mongo = db[TUTORIAL_PROGRESS.name]
    apply(
        db,
        settings,
        [entries([Ev(f"m{m}", at(m), "v1", position_s=m * 60) for m in range(7)], "asha")],
    )
    late = entries([Ev("late", at(30), "v1", position_s=0)], "asha")
    [delta] = tutorial_states.deltas(decode(late))
    stale = mongo.find_one({"_id": delta.state_id}, tutorial_states.READ_BACK)
    apply(db, settings, [entries([Ev("m7", at(7), "v1", position_s=7 * 60)], "asha")])

    with pytest.raises(BulkWriteError) as refused:
        mongo.bulk_write([delta.update(stale, settings.progress.completion_threshold)])

    assert refused.value.details["writeErrors"][0]["code"] == DUPLICATE_KEY
    state = mongo.find_one({"_id": delta.state_id})
    assert (state["completed"], state["watched_minutes"], state["rev"]) == (True, 8, 2)
    apply(db, settings, [late])  # what the writer does next: read again, merge again
    state = mongo.find_one({"_id": delta.state_id})
    assert (state["completed"], state["resume"]["position_s"], state["rev"]) == (True, 0, 3)


def test_flushers_racing_on_the_same_state_store_the_derivation_of_all_facts(db, settings, redis):
    """Four flushers store one learner's events at once, one event per batch. A flusher
    losing races again and again gives up the batch as transient and retries it."""
    events = [Ev(f"m{m}", at(m), f"v{m % 3}", position_s=m * 60) for m in range(10)]
    events += [Ev("off", at(8.5), "v2", completed=False), Ev("on", at(3.5), "v1", completed=True)]
    stored: list[bool] = []

    def flusher(share: list[Entry]) -> None:
        one = Flusher(settings, redis, db)
        stored.extend(one.store([entry]) for entry in share)

    shares = [entries(events, "asha")[i::4] for i in range(4)]
    threads = [threading.Thread(target=flusher, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert stored == [True] * len(events)

    state = db[TUTORIAL_PROGRESS.name].find_one({"username": "asha"})
    expected = derive(fold(events), settings.progress.completion_threshold).document()
    assert {name: state[name] for name in expected} == expected
    assert state["rev"] == len(events)


def test_events_of_one_batch_for_one_state_are_one_upsert(db, settings):
    events = [Ev(f"m{m}", at(m), "v1", position_s=m * 60) for m in range(10)]
    decoded = decode(entries(events, "asha"))
    [delta] = tutorial_states.deltas(decoded)
    assert len(delta.entries) == 10
    apply(db, settings, [[entry for entry, _ in decoded]])
    assert db[TUTORIAL_PROGRESS.name].find_one({"username": "asha"})["rev"] == 1
