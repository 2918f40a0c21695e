"""Visits: which visit each page view belongs to, decided in the flusher before it is stored.

A visit is a visitor's run of views with no gap longer than VISIT_IDLE_MINUTES (30).
Each visitor's open visit lives in Redis (start, views so far, last view, entry page, the
first three pages), keyed by the visitor hash of `footfall.enrich.visitors`, so every
flusher agrees. One Lua call per batch sequences the batch's views in time order and
stores each view's answer under its log_id for a day: a batch enriched again after a
crash (before or after its insert) gets the very same answers, so replays cannot split
or lengthen a visit. The answer is stored in the view (`visit`), which makes every
visit figure a sum over views (see `footfall.stats.cells`).

Views are sequenced in the order flushers see them, by event time within a batch: a view
that arrives after a later view of the same visitor joins the open visit with a gap of 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from redis import Redis

_ASSIGN = """
local idle, state_ttl, memo_ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local answers = {}
for i = 1, #KEYS / 2 do
  local key, memo_key = KEYS[2 * i - 1], KEYS[2 * i]
  local base = 3 + (i - 1) * 4
  local t, path, ev, co = tonumber(ARGV[base + 1]), ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
  local memo = redis.call('GET', memo_key)
  if memo then
    answers[i] = memo
  else
    local s = redis.call('HMGET', key, 'vs', 'sq', 'lt', 'lp', 'le', 'lc', 'ee', 'ec', 'tr')
    local a
    if (not s[1]) or t - tonumber(s[3]) > idle then
      a = {s = t, q = 1, g = 0, ee = ev, ec = co, tr = path}
      redis.call('HSET', key, 'vs', t, 'sq', 1, 'lt', t, 'lp', path, 'le', ev, 'lc', co,
                 'ee', ev, 'ec', co, 'tr', path)
    else
      local q = tonumber(s[2]) + 1
      local lt = tonumber(s[3])
      local tr = s[9]
      if q <= 3 then tr = tr .. '\\t' .. path end
      a = {s = tonumber(s[1]), q = q, g = math.max(0, t - lt), pp = s[4], pe = s[5], pc = s[6],
           ee = s[7], ec = s[8], tr = tr}
      redis.call('HSET', key, 'sq', q, 'lt', math.max(lt, t), 'lp', path, 'le', ev, 'lc', co,
                 'tr', tr)
    end
    redis.call('PEXPIRE', key, state_ttl)
    memo = cjson.encode(a)
    redis.call('SET', memo_key, memo, 'PX', memo_ttl)
    answers[i] = memo
  end
end
return answers
"""

#: How long a view's answer is kept for a replay (claims happen within minutes).
MEMO_TTL_MS = 86_400_000


class Sessions:
    def __init__(self, redis: Redis, prefix: str, idle_minutes: float) -> None:
        self.prefix = prefix
        self.idle_ms = int(idle_minutes * 60_000)
        # A visitor's state outlives the idle time by a day, so that events replayed or
        # sent late (a backfill) still find the visit they continue.
        self.state_ttl_ms = self.idle_ms + 86_400_000
        self._script = redis.register_script(_ASSIGN)

    def assign(self, views: Sequence[tuple[dict[str, Any], str]]) -> None:
        """Set `visit` on each (document, visitor hash), in one Redis call.

        A view without a visitor (nothing identifies one) is a visit of its own.
        """
        ordered = sorted(views, key=lambda item: (item[0]["visited_at"], item[0]["log_id"]))
        keys: list[str] = []
        args: list[Any] = [self.idle_ms, self.state_ttl_ms, MEMO_TTL_MS]
        for doc, visitor in ordered:
            keys += [f"{self.prefix}:visit:{visitor}", f"{self.prefix}:visitview:{doc['log_id']}"]
            args += [
                _ms(doc["visited_at"]),
                _page(doc),
                doc.get("event_name", ""),
                doc.get("course", ""),
            ]
        answers = self._script(keys=keys, args=args) if keys else []
        for (doc, _), answer in zip(ordered, answers, strict=True):
            doc["visit"] = _visit(orjson.loads(answer))


def alone(doc: dict[str, Any]) -> None:
    """A view nobody can be recognised in: a one-view visit."""
    doc["visit"] = _visit(
        {
            "s": _ms(doc["visited_at"]),
            "q": 1,
            "g": 0,
            "ee": doc.get("event_name", ""),
            "ec": doc.get("course", ""),
            "tr": _page(doc),
        }
    )


def _page(doc: dict[str, Any]) -> str:
    """The page a view is counted under: its path without query string or fragment."""
    return doc["path"].split("?", 1)[0].split("#", 1)[0]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _visit(answer: dict[str, Any]) -> dict[str, Any]:
    visit: dict[str, Any] = {
        "start": datetime.fromtimestamp(answer["s"] / 1000, UTC),
        "seq": answer["q"],
        "gap_s": answer["g"] / 1000,
        "trail": answer["tr"].split("\t"),
    }
    for field, name in (
        ("ee", "entry_event"),
        ("ec", "entry_course"),
        ("pp", "prev_path"),
        ("pe", "prev_event"),
        ("pc", "prev_course"),
    ):
        if answer.get(field):
            visit[name] = answer[field]
    return visit
