"""One run of an exploration: the scenario's components made, welded under a schedule, and how
the run ended put in the words of an outcome ("stuck: server in accept() waits...")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._core._events import wait_words
from .._core._schedule import Schedule
from .._errors import ComponentError, DeadlockError, ExternalBlockError, WeldTimeoutError
from .._trace._trace import Trace

__all__ = ["Scenario", "welded"]

Scenario = Mapping[str, Callable[[], Any]] | Callable[[], Mapping[str, Callable[[], Any]]]


def _components(scenario: Scenario) -> Mapping[str, Callable[[], Any]]:
    if isinstance(scenario, Mapping):
        return scenario
    if callable(scenario):
        made = scenario()
        if isinstance(made, Mapping):
            return made
        raise TypeError(
            f"explore() called the scenario {getattr(scenario, '__name__', scenario)!r} for its "
            f"components and got {made!r}; pass a mapping {{name: component}}, or a function "
            "returning one (to explore a single function f, pass {'f': f})"
        )
    raise TypeError(
        "explore() takes a mapping {name: component} or a function returning one, not "
        f"{scenario!r}"
    )


def _stuck_without_fds(waits: Mapping[str, str], trace: Trace) -> str:
    """Who waits for what when a run deadlocked, without descriptor numbers: they depend on who made
    a socket first, and one deadlock must be one outcome.  Read from the trace's waits, by their
    fields."""
    last = {wait.thread: wait for wait in trace.waits() if wait.until not in (None, "lock")}
    parts = []
    for thread, words in sorted(waits.items()):
        wait = last.get(thread)
        # (not a park outside the socket calls: Event.wait...)
        if wait is not None and wait.waits_for == words:
            words = wait_words(wait.call, None, wait.until, wait.peer_owner, wait.addr)
        parts.append(f"{thread} in {words}")
    return "; ".join(parts)


def _ended(error: BaseException, trace: Trace) -> tuple[str, str]:
    if isinstance(error, DeadlockError):  # a circle of waits, or a wait nobody is left to end
        status = "deadlocked" if error.cycle else "stuck"
        return status, _stuck_without_fds(error.waits, trace)
    if isinstance(error, ExternalBlockError):
        return "blocked outside", f"{error.thread} at {error.where}"
    if isinstance(error, WeldTimeoutError):
        return "timed out", ""
    if isinstance(error, ComponentError):
        failures = sorted(
            zip(error.threads, error.exceptions, strict=False), key=lambda failure: failure[0]
        )
        detail = "; ".join(f"{thread}: {type(exc).__name__}" for thread, exc in failures)
        if error.after is not None:  # what the failures left behind: a deadlock, a timeout
            status, left = _ended(error.after, trace)
            detail += f"; then {status}" + (f": {left}" if left else "")
        return "error", detail
    return "error", f"{type(error).__name__}: {error}"


def welded(
    scenario: Scenario, weld: Callable[..., Trace], options: dict[str, Any], schedule: Schedule
) -> tuple[Trace, str, str]:
    """One run: its trace, how it ended, and the detail of an error or a deadlock."""
    try:
        trace = weld(_components(scenario), schedule=schedule, echo=False, **options)
    except (ComponentError, DeadlockError, ExternalBlockError, WeldTimeoutError) as error:
        trace = error.trace or Trace([])
        return trace, *_ended(error, trace)
    return trace, "finished", ""
