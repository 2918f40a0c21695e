"""Which family an edX event type belongs to (video, problem, navigation, ...).

The family is stored with each event, so that reports and the import summary group
events without repeating these rules. Tracking logs name a server request by its path
(`event_type` "/courses/..."): those are the `page` family.
"""

from __future__ import annotations

from functools import lru_cache

#: Exact event types, checked before the prefixes.
_EXACT: dict[str, str] = {
    **dict.fromkeys(
        (
            "play_video",
            "pause_video",
            "seek_video",
            "stop_video",
            "speed_change_video",
            "load_video",
            "show_transcript",
            "hide_transcript",
            "video_show_cc_menu",
            "video_hide_cc_menu",
            "complete_video",
        ),
        "video",
    ),
    **dict.fromkeys(
        (
            "problem_check",
            "problem_check_fail",
            "problem_graded",
            "problem_reset",
            "problem_rescore",
            "problem_rescore_fail",
            "problem_save",
            "problem_show",
            "reset_problem",
            "reset_problem_fail",
            "save_problem_fail",
            "save_problem_success",
            "showanswer",
        ),
        "problem",
    ),
    **dict.fromkeys(("seq_goto", "seq_next", "seq_prev", "page_close"), "navigation"),
    "book": "textbook",
}

#: Prefixes, longest first where they overlap.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("edx.course.enrollment.", "enrollment"),
    ("edx.video.", "video"),
    ("edx.problem.", "problem"),
    ("edx.grades.problem.", "problem"),
    ("textbook.", "textbook"),
    ("edx.forum.", "forum"),
    ("edx.ui.lms.", "navigation"),
    ("edx.course.home.", "navigation"),
    ("edx.course.grade.", "grade"),
    ("edx.grades.", "grade"),
    ("edx.certificate.", "certificate"),
    ("edx.special_exam.", "exam"),
    ("edx.user.", "account"),
)

FAMILIES = (
    "page",
    "navigation",
    "video",
    "problem",
    "textbook",
    "enrollment",
    "forum",
    "grade",
    "certificate",
    "exam",
    "account",
    "other",
)


def family(event_type: str) -> str:
    """The family of an event type."""
    if event_type.startswith("/"):
        return "page"  # one type per path: too many to cache
    return _named(event_type)


@lru_cache(maxsize=4096)
def _named(event_type: str) -> str:
    """The family of a named event type (cached: a log holds few distinct names)."""
    found = _EXACT.get(event_type)
    if found is not None:
        return found
    for prefix, name in _PREFIXES:
        if event_type.startswith(prefix):
            return name
    return "other"
