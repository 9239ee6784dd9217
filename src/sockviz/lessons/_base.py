"""What every lesson's checkers share: the feedback a student sees, an exercise's record,
and the checkers made to measure (a code exercise's, a stepper goal's)."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Feedback:
    """The result of a check: ``ok`` and a message; shows itself in colour in a notebook."""

    def __init__(self, ok: bool, message: str, trace: Any = None) -> None:
        self.ok = ok
        self.message = message
        #: for a code exercise that failed: the trace of the failing run
        self.trace = trace

    def replay(self) -> Any:
        """The replay widget on the failing run's trace (a code exercise)."""
        if self.trace is None:
            raise ValueError("this check has no run to replay")
        from .._views._replay import replay

        return replay(self.trace)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return ("✔ Right! " if self.ok else "✘ Not yet. ") + self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour, mark = ("#009E73", "✔ Right!") if self.ok else ("#D55E00", "✘ Not yet.")
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px;margin:4px 0"><b '
            f'style="color:{colour}">{mark}</b> {html.escape(self.message)}</div>'
        )


@dataclass(frozen=True)
class Exercise:
    """One exercise: the question, how to check an answer, a hint, and its kind: ``"predict"``
    (a value, said before the cell that shows it), ``"code"`` (functions of yours, welded and
    tested) or ``"stepper"`` (a run you make happen by choosing who runs)."""

    question: str
    #: (answer, **context) -> (ok, message) or, for a code exercise, (ok, message, failing trace)
    checker: Callable[..., tuple[Any, ...]]
    hint: str
    kind: str = "predict"


@dataclass(frozen=True)
class Listed:
    """An exercise as :func:`exercises` lists it."""

    name: str
    lesson: int
    kind: str
    question: str


def _need_trace(trace: Any) -> Any:
    if trace is None:
        raise TypeError("this exercise checks your answer against your run: pass trace=trace")
    return trace


def _exploration(found: Any) -> Any:
    if found is None:
        raise TypeError(
            "this exercise checks your answer against your exploration: pass found=found"
        )
    return found


def _code(cases: str, right: str, *, server: bool = False) -> Callable[..., tuple[bool, str, Any]]:
    """A code exercise's checker: the answer welded against the hidden clients of ``cases`` (a
    function the server calls, or with ``server``: the server itself)."""

    def check(answer: Any, **_: Any) -> tuple[bool, str, Any]:
        from .. import _codecheck

        run = _codecheck.run_server_cases if server else _codecheck.run_cases
        result = run(answer, getattr(_codecheck, cases)())
        if result.ok:
            return True, right, None
        shows = " -- feedback.replay() shows that run." if result.trace is not None else ""
        return False, result.message + shows, result.trace

    return check


def stepper_goal(
    reached: Callable[[Any], bool], right: str, not_yet: str
) -> Callable[..., tuple[bool, str]]:
    """A checker for "make this happen with the stepper": the answer is the stepper itself; its
    run must be over, ``reached(trace)`` must hold, and welding the same components under
    ``Scripted(st.choices)`` must give the very same run (a goal reached by choices, not by a
    trace put together by hand)."""

    def check(answer: Any, **_: Any) -> tuple[bool, str]:
        from .._weld._stepper import Stepper

        if not isinstance(answer, Stepper):
            return False, "give the stepper itself: lessons.check(name, st)"
        if not answer.done:
            return False, f"the run is not over yet: choose on (or st.finish()). {not_yet}"
        if not reached(answer.trace):
            return False, not_yet
        if answer.again().fingerprint() != answer.trace.fingerprint():
            return False, "welding again with Scripted(st.choices) gave another run: try again"
        return True, right

    return check
