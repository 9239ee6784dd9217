"""Checkers for the lesson notebooks' exercises, with friendly feedback.

Each exercise has a name (``"01.first"``) and a checker.  In a notebook::

    from sockviz import lessons
    lessons.check("01.first", "server", trace=trace)

shows a green "Right!" with a sentence on why, or an orange "Not yet" with
a hint -- never an exception for a wrong answer (a typo in the exercise's
name does raise, with the names there are).  Answers that depend on a run
are checked against the student's own trace (``trace=``), so a lesson works
whatever interleaving the threads happened to take.

:func:`hint` shows an exercise's hint without checking anything; the
solutions live in ``docs/solutions.md`` (not beside the student notebooks).
"""

from __future__ import annotations

from typing import Any

from ._base import Exercise, Feedback, Listed, stepper_goal
from ._concurrency import EXERCISES as _CONCURRENCY
from ._servers import EXERCISES as _SERVERS
from ._sockets import EXERCISES as _SOCKETS
from ._tcp import EXERCISES as _TCP

__all__ = [
    "EXERCISES",
    "Exercise",
    "Feedback",
    "Listed",
    "check",
    "exercises",
    "hint",
    "stepper_goal",
]


#: Every exercise of the lessons, by name.
EXERCISES: dict[str, Exercise] = {**_SOCKETS, **_CONCURRENCY, **_SERVERS, **_TCP}


def exercises(lesson: int | None = None, *, kind: str | None = None) -> list[Listed]:
    """The catalogue: every exercise (of ``lesson``, of ``kind``) with its name, lesson, kind and
    question, in lesson order."""
    listed = [
        Listed(name, int(name.split(".", 1)[0]), found.kind, found.question)
        for name, found in EXERCISES.items()
    ]
    return [
        entry
        for entry in sorted(listed, key=lambda entry: (entry.lesson, entry.name))
        if (lesson is None or entry.lesson == lesson) and (kind is None or entry.kind == kind)
    ]


def check(exercise: str, answer: Any, **context: Any) -> Feedback:
    """Check ``answer`` to ``exercise`` (with ``trace=`` where the answer depends on your run)."""
    try:
        found = EXERCISES[exercise]
    except KeyError:
        raise KeyError(
            f"no exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}"
        ) from None
    said = found.checker(answer, **context)
    return Feedback(bool(said[0]), str(said[1]), said[2] if len(said) > 2 else None)


def hint(exercise: str) -> str:
    """The hint of ``exercise``."""
    return EXERCISES[exercise].hint
