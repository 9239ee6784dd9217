"""``sockviz.stepper``: you are the scheduler.

A stepper is a weld under the baton (see :mod:`sockviz._core._schedule`) whose
decisions a person makes: which runnable thread goes next.  ``st.run("ann")``
lets ann run until it begins its next socket call (or has to wait, or ends);
``st.back()`` takes a choice back; ``st.finish()`` lets the rest run, each
thread until it waits, the earliest started first.

Theory of operation
-------------------
Nothing is kept running between two steps.  Each step **re-runs the weld
from the start** with every decision so far, which a schedule makes exact:
the same decisions give the same events.  At the first decision the list
does not cover, where a person must choose, the policy **halts** the run
(:meth:`Scheduler.halt`): the thread given the baton stops the run's
network before it does anything else, the threads unwind as at the end of
any weld, and the trace is cut at the pause's logical time.  So a step
costs one scheduled weld of the steps so far (about a millisecond for the
demo scenarios), ``back()`` is the same re-run with a shorter list, and no
thread is ever left waiting for a click: an abandoned stepper holds nothing.

Between two choices the running thread goes on by itself at every decision
until it has begun a new socket call (the call event is recorded, nothing of
the call done yet): so each choice is "let this thread make its next call",
and a button can say which call ("ann: connect() to server:8080").

The choices are kept as every decision taken, and given back in
:class:`Scripted`'s words (:attr:`Stepper.choices`): a name for a turn that
ran until the thread waited or ended, ``(name, n)`` for one cut short after
``n`` decisions.  ``weld(..., schedule=Scripted(st.choices))`` replays the run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._core._schedule import Chooser, Schedule
from .._errors import DeadlockError
from ._policies import Scripted

if TYPE_CHECKING:
    from .._core._events import Event
    from .._core._schedule import Scheduler, Slot
    from .._trace._trace import Trace

__all__ = ["Stepper", "stepper"]


@dataclass(frozen=True)
class _Decision:
    current: str | None  #: the thread that reached the decision (None: it waited or ended)
    chosen: str
    by_hand: bool  #: a person's choice (a pause), not the running thread going on


class StepCount:
    """How far each thread has got in the steps a person sees: the socket calls it has begun
    (seen in the recorder's events) and the other program steps a schedule stops at, such as a
    ``time.sleep`` (counted on its slot)."""

    def __init__(self) -> None:
        self._calls: dict[str, int] = {}
        self._marks: dict[str, int] = {}
        self._slots: dict[str, Slot] = {}

    def saw(self, event: tuple[Any, ...]) -> None:
        """The recorder's sink: one event."""
        thread, kind = event[2], event[3]
        if kind == "call":
            self._calls[thread] = self._calls.get(thread, 0) + 1
            slot = self._slots.get(thread)
            if slot is not None:
                slot.at = ""  # (its last step is this call, not a sleep)

    def _steps(self, slot: Slot) -> int:
        self._slots[slot.name] = slot
        return self._calls.get(slot.name, 0) + slot.steps

    def mark(self, slot: Slot) -> None:
        """``slot`` was chosen: it goes on through the step it is at, to the start of its next (a
        thread not started yet: to the start of its first)."""
        self._marks[slot.name] = self._steps(slot)

    def moved_on(self, slot: Slot) -> bool:
        """Has ``slot`` begun a new step since it was chosen?"""
        return self._steps(slot) > self._marks.get(slot.name, 0)


class _Stepping(Schedule):
    """Replay ``decisions``, then pause at the next decision a person must make (or, with
    ``pause=False``, go on cooperatively to the end, logging every decision)."""

    def __init__(self, decisions: list[_Decision], *, pause: bool) -> None:
        self.decisions = decisions
        self.pause_wanted = pause
        self.log: list[_Decision] = []
        #: where the run paused: the runnable threads, the logical time and the thread that reached
        #: the decision (None: the run did not pause)
        self.paused: tuple[tuple[str, ...], int, str | None] | None = None
        #: at the pause: the runnable threads stopped at a step that is not a socket call
        self.at: dict[str, str] = {}
        #: a logged decision that could not be taken again: the run is not repeatable
        self.diverged: str | None = None
        self.count = StepCount()

    def describe(self) -> dict[str, Any]:
        return Scripted(compressed(self.decisions)).describe()

    def attach(self, scheduler: Scheduler, recorder: Any) -> None:
        recorder.sink = self.count.saw

    def chooser(self) -> Chooser:
        def choose(runnable: list[Slot], current: Slot | None, step: int, now: int) -> Slot:
            if self.paused is not None or self.diverged is not None:
                return current if current is not None else runnable[0]
            name = current.name if current is not None else None
            at = len(self.log)
            if at < len(self.decisions):
                return self._replay(self.decisions[at], runnable, current, now)
            if current is not None and not self.count.moved_on(current):
                self.log.append(_Decision(name, current.name, False))
                return current  # going on to its next step
            if not self.pause_wanted:
                chosen = current if current is not None else runnable[0]
                self.log.append(_Decision(name, chosen.name, current is None))
                if current is None:
                    self.count.mark(chosen)
                return chosen
            self.paused = (tuple(slot.name for slot in runnable), now, name)
            self.at = {slot.name: slot.at for slot in runnable if slot.at}
            runnable[0].sched.halt("the stepper paused the run here")
            return current if current is not None else runnable[0]

        return choose

    def _replay(
        self, decision: _Decision, runnable: list[Slot], current: Slot | None, now: int
    ) -> Slot:
        for slot in runnable:
            if slot.name == decision.chosen:
                self.log.append(decision)
                if decision.by_hand:
                    self.count.mark(slot)
                return slot
        self.diverged = (
            f"decision {len(self.log) + 1} ran {decision.chosen!r}, which cannot run now "
            f"(runnable: {', '.join(s.name for s in runnable)}): the components do something "
            "different each time they run (real time, random numbers, state kept between runs?)"
        )
        self.paused = (tuple(slot.name for slot in runnable), now, None)
        runnable[0].sched.halt("the stepper stopped a run it cannot repeat")
        return current if current is not None else runnable[0]


def compressed(decisions: list[_Decision]) -> list[str | tuple[str, int]]:
    """The decisions in :class:`Scripted`'s words: consecutive decisions running one thread make
    one turn; a turn the thread ended by waiting is its name, one cut short is ``(name, n)``.

    A turn that began with no choice made (the baton went to the only thread that could run, and
    the policy first heard of it at a later decision) is an entry too: Scripted starts it there.
    One cut short at its very first decision is ``(name, 0)``.
    """
    turns: list[str | tuple[str, int]] = []
    at = 0
    while at < len(decisions):
        first = decisions[at]
        name = first.chosen
        ran = turns[-1] if turns else None
        if first.current not in (None, name) and not (
            isinstance(ran, tuple) and ran[0] == first.current
        ):
            # the thread running got the baton with no choice, and is cut short at once
            turns.append((first.current or "", 0))
        end = at + 1
        while end < len(decisions) and decisions[end].current == name == decisions[end].chosen:
            end += 1
        cut_short = end < len(decisions) and decisions[end].current == name
        turns.append((name, end - at) if cut_short else name)
        at = end
    return turns


#: What a stepper's run came to: a name per ending (None while it is paused).
OUTCOMES = ("finished", "deadlock", "stuck", "error")


@dataclass
class _Run:
    """One re-run: its trace (cut at the pause), where it paused, how it ended."""

    trace: Trace
    log: list[_Decision]
    runnable: tuple[str, ...]
    current: str | None
    outcome: str | None
    error: BaseException | None
    at: dict[str, str] = field(default_factory=dict)  #: threads stopped at a sleep, not a call


class Stepper:
    """A weld whose scheduler you are: see :func:`stepper`."""

    def __init__(
        self,
        components: tuple[Any, ...],
        scenario: Callable[[], Any] | None,
        options: dict[str, Any],
    ) -> None:
        self._components = components
        self._scenario = scenario
        self._options = options
        self._decisions: list[_Decision] = []
        self._now = self._rerun(pause=True)

    # -- what a person sees -------------------------------------------------
    @property
    def runnable(self) -> list[str]:
        """The threads that can make progress now, in start order (none once the run is over)."""
        return list(self._now.runnable)

    @property
    def choices(self) -> list[str | tuple[str, int]]:
        """Every choice so far, as :class:`Scripted` takes them: ``Scripted(st.choices)`` replays
        this run (a name: that thread ran until it waited or ended; ``(name, n)``: it ran ``n``
        decisions and was cut short)."""
        return compressed(self._decisions)

    @property
    def steps(self) -> int:
        """How many choices have been made (``back()`` takes them back one by one)."""
        return sum(1 for decision in self._now.log if decision.by_hand)

    @property
    def trace(self) -> Trace:
        """Everything recorded so far (up to the pause)."""
        return self._now.trace

    @property
    def done(self) -> bool:
        """True once the run is over: finished, deadlocked, stuck or failed."""
        return self._now.outcome is not None

    @property
    def outcome(self) -> str | None:
        """ "finished", "deadlock", "stuck" or "error" once the run is over; None while it waits for
        a choice."""
        return self._now.outcome

    @property
    def error(self) -> BaseException | None:
        """How the run failed (a DeadlockError, a ComponentError...), with weld's own explanation;
        None if it did not."""
        return self._now.error

    def next_steps(self) -> dict[str, str]:
        """What each runnable thread will do if chosen: "connect() to server:8080", "starts",
        "accept() goes on"."""
        return {
            name: self._now.at.get(name) or next_step(self.trace, name) for name in self.runnable
        }

    # -- choosing -----------------------------------------------------------
    def run(self, name: str | None = None) -> list[Event]:
        """Let ``name`` (None: the first runnable thread) run until it begins its next socket call,
        has to wait, or ends; the events recorded meanwhile."""
        if self.done:
            raise RuntimeError(
                f"the run is over ({self.outcome}): st.back() takes a choice back, "
                "or make a new stepper"
            )
        runnable = self.runnable
        if name is None:
            name = runnable[0]
        if name not in runnable:
            raise ValueError(
                f"{name!r} cannot run now; the runnable threads are {', '.join(runnable)}"
                + _why_not(self.trace, name)
            )
        before = self.trace.events
        self._decisions = [*self._now.log, _Decision(self._now.current, name, True)]
        self._now = self._rerun(pause=True)
        again = self.trace.events[: len(before)]
        if [(e.thread, e.kind, e.obj) for e in again] != [
            (e.thread, e.kind, e.obj) for e in before
        ]:
            raise RuntimeError(
                "the run cannot be repeated: run again with the same choices, the components did "
                "something else (real time, random numbers, state kept between runs? give "
                "stepper(scenario=...) a function that makes the components afresh)"
            )
        return self.trace.events[len(before) :]

    def back(self, n: int = 1) -> None:
        """Take back the last ``n`` choices (re-running the steps before them)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"back() takes a positive number of choices, not {n!r}")
        by_hand = [i for i, d in enumerate(self._now.log) if d.by_hand]
        if n > len(by_hand):
            raise ValueError(
                f"only {len(by_hand)} choice(s) to take back, not {n}"
                if by_hand
                else "no choice to take back yet"
            )
        self._decisions = self._now.log[: by_hand[-n]]
        self._now = self._rerun(pause=True)

    def random_step(self, seed: int | None = None) -> list[Event]:
        """Run a runnable thread picked at random (``seed``: the same pick every time)."""
        return self.run(random.Random(seed).choice(self.runnable) if self.runnable else None)

    def finish(self) -> Trace:
        """Let the rest run to the end: each thread until it waits, the earliest started first
        (logical time, as under ``Seeded``).  The whole trace; its choices are in ``choices``."""
        if not self.done:
            self._decisions = list(self._now.log)
            self._now = self._rerun(pause=False)
        return self.trace

    def again(self) -> Trace:
        """Weld the same components once more under ``Scripted(self.choices)``: the same run, as
        ``weld`` makes it (the trace of its error, if it ends in one).  What a checker uses to know
        a run was really reached by these choices."""
        from ._weld import weld

        components = (self._scenario(),) if self._scenario is not None else self._components
        try:
            return weld(*components, schedule=Scripted(self.choices), echo=False, **self._options)
        except Exception as exc:
            trace: Trace | None = getattr(exc, "trace", None)
            if trace is None:
                raise
            return trace

    def widget(self, *, width: int = 880) -> Any:
        """The classroom view: a button per runnable thread saying what it will do, undo, random
        step, finish, the timeline so far, the last step's sentences and the state panel."""
        from .._views._stepping import StepperView

        return StepperView(self, width=width)

    # -- re-running ---------------------------------------------------------
    def _rerun(self, *, pause: bool) -> _Run:
        from ._weld import weld

        policy = _Stepping(self._decisions, pause=pause)
        components = (self._scenario(),) if self._scenario is not None else self._components
        error: BaseException | None = None
        try:
            trace = weld(*components, schedule=policy, echo=False, **self._options)
        except Exception as exc:
            kept = getattr(exc, "trace", None)
            if kept is None:
                raise
            trace, error = kept, exc
        if policy.diverged is not None:
            raise RuntimeError(f"the run cannot be repeated: {policy.diverged}") from error
        if policy.paused is not None:
            runnable, now, current = policy.paused
            kept = [e for e in trace.events if e.t_ns <= now]
            return _Run(_cut(trace, kept), policy.log, runnable, current, None, None, policy.at)
        return _Run(trace, policy.log, (), None, _outcome(error), error)

    def __repr__(self) -> str:
        state = f"over: {self.outcome}" if self.done else f"runnable: {', '.join(self.runnable)}"
        return f"<Stepper {len(self._decisions)} decisions, {len(self.trace)} events; {state}>"


def _cut(trace: Trace, events: list[Event]) -> Trace:
    from .._trace._trace import Trace

    return Trace(events, trace.meta)


def _outcome(error: BaseException | None) -> str:
    if error is None:
        return "finished"
    if isinstance(error, DeadlockError):
        return "deadlock" if error.cycle else "stuck"
    return "error"


def next_step(trace: Trace, name: str) -> str:
    """What ``name`` does next if chosen, from the trace so far."""
    last = None
    for event in reversed(trace.events):
        if event.thread == name:
            last = event
            break
    if last is None or last.kind == "thread.start":
        return "starts"
    if last.kind == "call":
        return call_words(last.fields, last.obj)
    open_wait = [w for w in trace.waits(internals=True) if w.thread == name and w.end is None]
    if open_wait and open_wait[-1].call:
        return f"{open_wait[-1].call}() goes on"
    return "goes on"


def call_words(fields: dict[str, Any], fd: Any = None) -> str:
    """A socket call as a button says it: "connect() to server:8080", "accept() on fd 4"."""
    op = str(fields.get("op"))
    addr = fields.get("addr")
    if op in ("connect", "connect_ex", "bind", "sendto") and addr is not None:
        return f"{op}() to {addr}"
    if op == "socket":
        return "socket()"
    return f"{op}()" + (f" on fd {fd}" if isinstance(fd, int) and fd >= 0 else "")


def _why_not(trace: Trace, name: str) -> str:
    if name not in trace.threads:
        return f" ({name!r} is not a thread of this weld, or has not been started yet)"
    waiting = [w for w in trace.waits(internals=True) if w.thread == name and w.end is None]
    if waiting:
        return f" ({name} is blocked: {waiting[-1].waits_for or waiting[-1].what})"
    return (
        f" ({name} has ended)"
        if any(e.thread == name and e.kind == "thread.end" for e in trace.events)
        else ""
    )


def stepper(
    *components: Any, scenario: Callable[[], Any] | None = None, **weld_options: Any
) -> Stepper:
    """A paused weld whose scheduler you are: nothing runs until you choose.

    ``components`` are given as to :func:`sockviz.weld` (or ``scenario=``, a function returning
    them, called before every re-run so that state the components share starts afresh).
    ``weld_options`` (``semantics=``, ``buffer_size=``...) are weld's; the schedule is yours.

    ``st.runnable`` lists the threads that can go on; ``st.run("ann")`` lets ann run until it
    begins its next socket call (``st.next_steps()`` says which), has to wait, or ends;
    ``st.back()`` takes a choice back; ``st.finish()`` runs the rest; ``st.trace``,
    ``st.done``, ``st.outcome`` ("finished", "deadlock", "stuck", "error") and ``st.error``
    say where it stands.  ``weld(..., schedule=Scripted(st.choices))`` replays the same run.
    """
    if "schedule" in weld_options:
        raise TypeError("stepper() makes its own schedule: you choose who runs")
    if "echo" in weld_options:
        raise TypeError("stepper() runs without echo: what threads print is in st.trace")
    if scenario is not None and components:
        raise TypeError("give stepper() components or scenario=, not both")
    if scenario is None and not components:
        raise TypeError("stepper() needs components to run (as weld() does), or scenario=")
    return Stepper(components, scenario, weld_options)
