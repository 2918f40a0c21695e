"""Generate a realistic Open edX tracking log for the bench (never committed).

Lines like a course's: browser video and navigation events with `event` as a JSON
string, server page requests, problem checks and enrolments with `event` as an object,
mobile video events, PDF textbook events, forum posts; a few hundred learners over a
month. Seeded, so the same arguments give the same file.

    .venv/bin/python bench/edx_data.py /tmp/tracking.log.gz --lines 100000
"""

from __future__ import annotations

import argparse
import gzip
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

COURSE = "course-v1:BenchX+Py101+2026"
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
)
MOBILE_AGENT = "edX/org.edx.mobile (2.26.1; OS Version 14; Model Pixel 7)"
HOST = "learn.example.org"


def _block(kind: str, name: str) -> str:
    return f"block-v1:BenchX+Py101+2026+type@{kind}+block@{name}"


def lines(count: int, seed: int = 12) -> Any:
    """`count` tracking-log lines (bytes, with their newline)."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    videos = [_block("video", f"v{i}") for i in range(40)]
    problems = [_block("problem", f"p{i}") for i in range(60)]
    units = [f"/courses/{COURSE}/courseware/week{w}/unit{u}/" for w in range(8) for u in range(6)]
    for number in range(count):
        user = rng.randrange(400)
        at = start + timedelta(seconds=number * 2 + rng.random())
        common: dict[str, Any] = {
            "username": f"learner{user}",
            "time": at.isoformat(),
            "ip": f"203.0.{user % 256}.{rng.randrange(256)}",
            "agent": AGENTS[user % 3],
            "host": HOST,
            "session": f"{user:08x}{number // 500:08x}",
            "referer": f"https://{HOST}{rng.choice(units)}",
            "accept_language": "en-IN,en;q=0.9",
            "context": {"course_id": COURSE, "org_id": "BenchX", "user_id": user, "path": "/event"},
        }
        roll = rng.random()
        if roll < 0.45:
            kind = rng.choice(("play_video", "pause_video", "seek_video", "speed_change_video"))
            data = {"id": rng.choice(videos), "currentTime": round(rng.random() * 600, 2)}
            if kind == "speed_change_video":
                data["new_speed"] = rng.choice(("0.75", "1.0", "1.50", "2.0"))
            event = {**common, "event_source": "browser", "event_type": kind, "name": kind}
            event["page"] = f"https://{HOST}{rng.choice(units)}1"
            event["event"] = orjson.dumps(data).decode()
        elif roll < 0.65:
            path = rng.choice(units)
            event = {**common, "event_source": "server", "event_type": path, "name": path}
            event["page"] = None
            event["context"] = {**common["context"], "path": path}
            event["event"] = {"GET": {}, "POST": {}}
        elif roll < 0.80:
            problem = rng.choice(problems)
            event = {**common, "event_source": "server", "event_type": "problem_check"}
            event["name"] = "problem_check"
            event["page"] = "x_module"
            event["context"] = {
                **common["context"],
                "module": {"display_name": "Quiz", "usage_key": problem},
            }
            event["event"] = {
                "problem_id": problem,
                "success": rng.choice(("correct", "incorrect")),
                "attempts": rng.randrange(1, 4),
                "grade": rng.randrange(2),
                "max_grade": 1,
                "answers": {f"{problem}_2_1": f"choice_{rng.randrange(4)}"},
            }
        elif roll < 0.88:
            kind = rng.choice(("seq_goto", "seq_next", "edx.ui.lms.outline.selected"))
            event = {**common, "event_source": "browser", "event_type": kind, "name": kind}
            event["page"] = f"https://{HOST}{rng.choice(units)}2"
            event["event"] = orjson.dumps(
                {"old": 1, "new": 2, "id": _block("sequential", f"s{rng.randrange(8)}")}
            ).decode()
        elif roll < 0.93:
            kind = rng.choice(("edx.video.played", "edx.video.paused"))
            event = {**common, "event_source": "mobile", "event_type": kind, "name": kind}
            event["agent"] = MOBILE_AGENT
            event["event"] = {"module_id": rng.choice(videos), "current_time": rng.randrange(600)}
        elif roll < 0.97:
            kind = rng.choice(("textbook.pdf.page.scrolled", "textbook.pdf.search.executed"))
            event = {**common, "event_source": "browser", "event_type": kind, "name": kind}
            event["event"] = orjson.dumps(
                {
                    "chapter": "/asset-v1:BenchX+Py101+2026+type@asset+block@book.pdf",
                    "page": rng.randrange(1, 200),
                    "query": rng.choice(("loop", "range", "dict")),
                }
            ).decode()
        elif roll < 0.99:
            event = {**common, "event_source": "server", "event_type": "edx.forum.thread.created"}
            event["event"] = {
                "title": "A question",
                "body": "How does this work?" * 3,
                "id": f"t{number}",
            }
        else:
            kind = "edx.course.enrollment.activated"
            event = {**common, "event_source": "server", "event_type": kind, "name": kind}
            event["event"] = {"course_id": COURSE, "user_id": user, "mode": "audit"}
        yield orjson.dumps(event) + b"\n"


def write(path: Path, count: int, seed: int = 12) -> Path:
    """Write `count` lines to `path` (gzip when it ends in .gz)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as out:  # type: ignore[operator]
        for line in lines(count, seed):
            out.write(line)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    write(args.path, args.lines, args.seed)


if __name__ == "__main__":
    main()
