"""Videos: plays per day and per video, and watch time from the player's events.

The browser player's events (`play_video`, `pause_video`, `seek_video`, `stop_video`,
`speed_change_video`) and the mobile apps' (`edx.video.played`, `.paused`, `.stopped`,
`.position.changed`) name the video (`block`: `event.id`, or `event.module_id`).

Watch time, per learner and video, events in time order: a video is playing from a
play until a pause or a stop; a seek or a speed change keeps the state it finds. Each
event while playing starts an interval that lasts until that learner's next event on
that video, at most `gap_minutes`; an interval with no later event counts nothing (its
end is unknown). `watch_seconds` adds the intervals' wall-clock time; `content_seconds`
multiplies each by the speed in force (the last `new_speed`, 1.0 before any), i.e.
the seconds of video played.
"""

from __future__ import annotations

from typing import Any

from footfall.edx.reports.base import DAY, LEARNER, Pipeline, Report, count_of, rounded
from footfall.edx.reports.query import Query

PLAY = ("play_video", "edx.video.played")
PAUSE = ("pause_video", "edx.video.paused")
STOP = ("stop_video", "edx.video.stopped")
SEEK = ("seek_video", "edx.video.position.changed")
SPEED = ("speed_change_video",)


def _plays(query: Query) -> dict[str, Any]:
    return query.match(event_type={"$in": list(PLAY)}, block={"$exists": True})


def _plays_per_day(query: Query) -> Pipeline:
    return [
        _plays(query),
        {
            "$group": {
                "_id": DAY,
                "plays": {"$sum": 1},
                "videos": {"$addToSet": "$block"},
                "learners": {"$addToSet": "$username"},
            }
        },
        {"$sort": {"_id": 1}},
        {
            "$project": {
                "_id": 0,
                "day": "$_id",
                "plays": 1,
                "videos": {"$size": "$videos"},
                "learners": count_of("learners"),
            }
        },
    ]


def _plays_per_video(query: Query) -> Pipeline:
    return [
        _plays(query),
        {"$group": {"_id": "$block", "plays": {"$sum": 1}, "learners": {"$addToSet": "$username"}}},
        {"$sort": {"plays": -1, "_id": 1}},
        {"$project": {"_id": 0, "video": "$_id", "plays": 1, "learners": count_of("learners")}},
    ]


def _watch_time(query: Query) -> Pipeline:
    limit_s = query.gap_minutes * 60
    actions = [*PLAY, *PAUSE, *STOP, *SEEK, *SPEED]
    speed = {
        "$convert": {"input": "$event.new_speed", "to": "double", "onError": None, "onNull": None}
    }
    return [
        query.match(**LEARNER, event_type={"$in": actions}, block={"$exists": True}),
        {
            "$set": {
                "playing": {
                    "$switch": {
                        "branches": [
                            {"case": {"$in": ["$event_type", list(PLAY)]}, "then": True},
                            {"case": {"$in": ["$event_type", [*PAUSE, *STOP]]}, "then": False},
                        ],
                        "default": None,
                    }
                },
                "new_speed": {"$cond": [{"$in": ["$event_type", list(SPEED)]}, speed, None]},
                "play": {"$cond": [{"$in": ["$event_type", list(PLAY)]}, 1, 0]},
            }
        },
        {
            "$setWindowFields": {
                "partitionBy": {"u": "$username", "v": "$block"},
                "sortBy": {"time": 1},
                "output": {
                    "state": {"$locf": "$playing"},
                    "speed": {"$locf": "$new_speed"},
                    "next": {"$shift": {"output": "$time", "by": 1}},
                },
            }
        },
        {
            "$set": {
                "interval": {
                    "$cond": [
                        {
                            "$and": [
                                {"$eq": ["$state", True]},
                                {"$ne": [{"$ifNull": ["$next", None]}, None]},
                            ]
                        },
                        {"$min": [{"$divide": [{"$subtract": ["$next", "$time"]}, 1000]}, limit_s]},
                        0,
                    ]
                }
            }
        },
        {
            "$group": {
                "_id": "$block",
                "plays": {"$sum": "$play"},
                "learners": {"$addToSet": "$username"},
                "watch": {"$sum": "$interval"},
                "content": {"$sum": {"$multiply": ["$interval", {"$ifNull": ["$speed", 1.0]}]}},
            }
        },
        {"$sort": {"watch": -1, "_id": 1}},
        {
            "$project": {
                "_id": 0,
                "video": "$_id",
                "learners": {"$size": "$learners"},
                "plays": 1,
                "watch_seconds": rounded("$watch"),
                "content_seconds": rounded("$content"),
                "seconds_per_learner": rounded({"$divide": ["$watch", {"$size": "$learners"}]}),
            }
        },
    ]


VIDEO_PLAYS_PER_DAY = Report(
    name="video_plays_per_day",
    title="Video plays per day",
    definition="Per day (UTC): plays (play_video, edx.video.played), distinct videos "
    "played and learners.",
    columns=("day", "plays", "videos", "learners"),
    rows=_plays_per_day,
)

VIDEO_PLAYS_PER_VIDEO = Report(
    name="video_plays_per_video",
    title="Video plays per video",
    definition="Per video: plays and distinct learners; most played first.",
    columns=("video", "plays", "learners"),
    rows=_plays_per_video,
)

VIDEO_WATCH_TIME = Report(
    name="video_watch_time",
    title="Watch time per video",
    definition="Per video, from play/pause/seek/stop/speed events: learners, plays, "
    "watch_seconds (wall-clock time playing), content_seconds (times the speed), and "
    "watch seconds per learner; intervals capped at gap_minutes.",
    columns=(
        "video",
        "learners",
        "plays",
        "watch_seconds",
        "content_seconds",
        "seconds_per_learner",
    ),
    rows=_watch_time,
    uses=("gap_minutes",),
)
