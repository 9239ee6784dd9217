"""How a weld ends: its result or its error, the trace kept, the threads left running.

A weld can end in many ways -- finished, a deadlock, a timeout, a thread
blocked outside the network, the event limit, Ctrl-C -- and whatever the
way, the trace recorded so far is kept (``sockviz.last_trace()``) and the
error says, in the student's own lines, what each thread was doing.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import (
    DeadlockError,
    EventLimitError,
    ExternalBlockError,
    WeldTimeoutError,
    component_error,
)
from .._net._members import members
from .._trace._deadlock import deadlock_or_stuck
from ._outside import where_blocked

if TYPE_CHECKING:
    from .._trace._trace import Trace
    from ._session import Weld

__all__ = [
    "last_trace",
    "limit_error",
    "raise_in",
    "remember",
    "remember_later",
    "result",
    "running_outside",
    "warn_leftovers",
]


#: The trace of the weld (or fake_network block) that ended last, however it ended -- or, after an
#: interrupted weld, the function that builds it when it is first asked for.
_last_trace: Trace | Callable[[], Trace] | None = None


def remember(trace: Trace) -> Trace:
    global _last_trace
    _last_trace = trace
    return trace


def remember_later(session: Weld) -> Callable[[], Trace]:
    """Remember ``session``'s trace without building it yet (an interrupted weld: a second Ctrl-C
    may come at any moment); the function returned builds it once, for ``last_trace()`` and the
    exception alike."""
    global _last_trace

    @functools.cache
    def trace_of() -> Trace:
        global _last_trace
        trace = session.trace
        if _last_trace is trace_of:
            _last_trace = trace
        return trace

    _last_trace = trace_of
    return trace_of


def last_trace() -> Trace | None:
    """The trace of the weld or ``fake_network()`` block that ended last -- finished, failed or
    interrupted (Ctrl-C) -- or None before the first.  What a notebook cell recorded is never
    lost."""
    return _last_trace() if callable(_last_trace) else _last_trace


def result(
    session: Weld, outside: tuple[str, str] | None, stuck: dict[str, str] | None, timeout: float
) -> Trace:
    """The weld's trace, or the error that says how it ended, trace attached."""
    net, sched, trace = session.net, session.sched, remember(session.trace)
    if net.full:
        raise limit_error(session, trace)
    if outside is not None:
        raise ExternalBlockError(*outside, trace)
    if sched is not None and sched.stats.policy_errors:
        raise ValueError(f"the schedule failed: {sched.stats.policy_errors[0]}")
    # A component's own error comes first: what blocked or ran on after it is most likely its
    # consequence.
    if net.deadlock is not None:
        if session.errors:
            raise component_error(session.errors, trace, deadlock_error(net.deadlock, trace))
        raise deadlock_error(net.deadlock, trace)  # (no component failed: that was reported above)
    if stuck is not None:
        if session.errors:
            raise component_error(
                session.errors, trace, WeldTimeoutError(timeout, stuck, None, session.running)
            )
        raise WeldTimeoutError(timeout, stuck, trace, session.running)
    if session.errors:
        raise component_error(session.errors, trace)
    return trace


def limit_error(session: Weld, trace: Trace | None = None) -> EventLimitError:
    """The error of a weld that reached its ``max_events``: the busiest threads, what each did
    last."""
    limit = session.net.recorder.limit
    events = list(session.raw_events())
    # not the unwinding after the stop
    before = events if limit is None else [e for e in events if e[0] < limit]
    counts = collections.Counter(event[2] for event in before)
    busiest = []
    for thread, count in counts.most_common(3):
        last = next((e for e in reversed(before) if e[2] == thread and e[3] == "call"), None)
        op = None if last is None else dict(zip(last[5::2], last[6::2], strict=False)).get("op")
        doing = "nothing on the network" if last is None else f"{op}() on fd {last[4]}"
        if thread in session.where_at_limit:
            doing += f", at {session.where_at_limit[thread]}"
        busiest.append((thread, count, doing))
    return EventLimitError(
        limit if limit is not None else len(events),
        busiest,
        trace if trace is not None else session.trace,
    )


def running_outside(session: Weld, waiting: set[str]) -> dict[str, str]:
    """Each live welded thread that is not waiting in the network, and where it is (file:line:
    code)."""
    running = {}
    for thread in list(session.threads):
        member = members.get(thread.ident) if thread.ident is not None else None
        if member is not None and thread.is_alive() and member.name not in waiting:
            running[member.name] = where_blocked(thread.ident)  # type: ignore[arg-type]
    return running


def raise_in(ident: int, error: type[BaseException]) -> None:
    """Raise ``error`` in thread ``ident`` at its next line of Python (CPython's async
    exception)."""
    # not CPython: the thread is left running
    with contextlib.suppress(AttributeError, ValueError, OSError):
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(error))


def warn_leftovers(leftovers: dict[str, str], parked: dict[str, str]) -> None:
    """A weld that returned, with welded threads still running outside the network: say which,
    where, and what becomes of them."""
    lines = []
    for name, where in sorted(leftovers.items()):
        if name in parked:
            fate = (
                "it caught the stop and kept calling the network (a bare except:?), so it is "
                "parked for good: it never runs again and uses no CPU"
            )
        else:
            fate = (
                "stopped (LeftRunning) at its next line of Python: at once if it computes, when "
                "its wait ends if it waits on something outside the network (a lock, a queue, a "
                "sleep); meanwhile it uses no CPU"
            )
        lines.append(f"\n  {name}: at {where}\n    {fate}")
    warnings.warn(
        "the weld is over, but these welded threads were still running:" + "".join(lines),
        RuntimeWarning,
        # (the caller of weld(): warn_leftovers <- _weld_to_the_end <- weld <- caller)
        stacklevel=4,
    )


def deadlock_error(
    waits: dict[str, str], trace: Trace, errors: list[tuple[str, Exception]] | None = None
) -> DeadlockError:
    """The error of a weld whose every thread is blocked: a deadlock if they wait for each other
    in a circle, else stuck (see :mod:`sockviz._trace._deadlock`)."""
    cycle, stuck = deadlock_or_stuck(waits, trace)
    return DeadlockError(waits, trace, errors, cycle=cycle, stuck=stuck)


def wait_for_cycle(waits: dict[str, str], trace: Trace) -> list[str] | None:
    """A circle of blocked threads each waiting for the next, read from the trace (None: none)."""
    return deadlock_or_stuck(waits, trace)[0]
