"""Schedule policies: who runs next when a scheduled weld reaches a decision.

A :class:`~sockviz._core._schedule.Scheduler` keeps the books -- which threads can
run, who holds the baton, the logical clock -- and asks its policy only one
question, at each decision: *which of these runnable threads runs now?*
:class:`Seeded` answers with a seeded random generator, :class:`Scripted`
with a list of turns or a function of a :class:`Choice`.  A policy's
``chooser()`` makes a fresh answerer for each run, so one ``Seeded(7)``
object can be used for any number of welds and gives the same run each time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._core._schedule import Chooser, Schedule

if TYPE_CHECKING:
    from .._core._schedule import Slot

__all__ = ["PCT", "Choice", "Chooser", "Schedule", "Scripted", "Seeded"]


@dataclass(frozen=True)
class Choice:
    """What a :class:`Scripted` policy function is asked at each decision."""

    #: the threads that may run now, in the order they were started
    runnable: tuple[str, ...]
    #: the thread that reached this decision and may go on, or None if it has to wait or ended
    current: str | None
    #: decisions made so far
    step: int
    #: the logical clock, in ns
    now_ns: int


@dataclass(frozen=True)
class Seeded(Schedule):
    """Pick the next thread at random, from a generator seeded with ``seed``.

    ``weld(..., schedule=Seeded(7))`` gives the same run -- the same events in
    the same order -- every time; another seed gives another interleaving.
    Every decision picks uniformly among the runnable threads, the one that
    is running included.
    """

    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"Seeded() takes an int seed, not {self.seed!r}")

    def chooser(self) -> Chooser:
        randrange = random.Random(self.seed).randrange

        def choose(runnable: list[Slot], current: Slot | None, step: int, now: int) -> Slot:
            return runnable[randrange(len(runnable))]

        return choose

    def describe(self) -> dict[str, Any]:
        return {"policy": "seeded", "seed": self.seed}


@dataclass(frozen=True)
class PCT(Schedule):
    """Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi and Nagarakatte,
    ASPLOS 2010): random priorities, and ``depth - 1`` points where the running thread's priority
    drops below every other.

    The highest-priority runnable thread always runs.  Each thread gets a random priority when it
    first appears; at ``depth - 1`` decisions drawn at random among the first ``steps``, the
    thread chosen there falls to a priority lower than all (the i-th such point: priority i).  A
    bug that needs ``d`` threads to meet in a given order is found with probability at least
    ``1 / (n * k^(d-1))`` per run (``n`` threads, ``k`` steps) -- far more often than by uniform
    random choice, which almost never keeps one thread away long enough.  Same seed, same run.
    """

    seed: int = 0
    depth: int = 3
    steps: int = 200

    def __post_init__(self) -> None:
        for name in ("seed", "depth", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"PCT() takes an int {name}, not {value!r}")
        if self.depth < 1 or self.steps < 1:
            raise ValueError(
                f"PCT() needs depth >= 1 and steps >= 1, not {self.depth}, {self.steps}"
            )

    def chooser(self) -> Chooser:
        rng = random.Random(self.seed)
        count = min(self.depth - 1, self.steps)
        changes = sorted(rng.sample(range(1, self.steps + 1), count)) if count else []
        lowered = iter(range(count, 0, -1))  # the first change point gets the highest of the low
        priority: dict[str, float] = {}

        def choose(runnable: list[Slot], current: Slot | None, step: int, now: int) -> Slot:
            for slot in runnable:
                if slot.name not in priority:  # above every change point's
                    priority[slot.name] = self.depth + rng.random()
            chosen = max(runnable, key=lambda slot: priority[slot.name])
            while changes and step >= changes[0]:
                changes.pop(0)
                priority[chosen.name] = next(lowered, 0) / (self.depth + 1)
                chosen = max(runnable, key=lambda slot: priority[slot.name])
            return chosen

        return choose

    def describe(self) -> dict[str, Any]:
        return {"policy": "pct", "seed": self.seed, "depth": self.depth, "steps": self.steps}


def _run_until_wait(runnable: list[Slot], current: Slot | None, step: int, now: int) -> Slot:
    """Let the running thread go on; else the first-started runnable thread."""
    return current if current is not None else runnable[0]


@dataclass(frozen=True)
class Scripted(Schedule):
    """A schedule written out: a list of thread names, or a function.

    ``Scripted(["client", "server"])``: at the start, ``client`` runs until
    it has to wait (or ends); then ``server`` runs until it has to wait; and
    so on down the list.  A thread that got the baton because nobody else
    could run, and is named next, is on its turn from there.  A name whose
    thread cannot run when its turn comes waits for it: the other threads go
    on (the earliest started first) until it can.  When the list is used up,
    ``then`` decides (default: whoever is running goes on until it waits,
    then the earliest started runnable thread -- a fixed, cooperative
    order).  Pass ``then=Seeded(n)`` to continue at random.

    An entry ``(name, n)`` is a turn cut short: that thread runs for ``n``
    decisions -- the points where another thread could have run instead --
    and then the next entry decides, even if it is still running (``n`` may
    be 0: the thread running is cut short at once).  That is how a stepper's
    choices (``sockviz.stepper``) and an exhaustive exploration's schedules
    are written: ``Scripted(st.choices)`` replays them exactly.

    ``Scripted(policy)`` calls ``policy(choice)`` at every decision with a
    :class:`Choice` and runs the thread whose name it returns.
    """

    order: Sequence[str | tuple[str, int]] | Callable[[Choice], str] = ()
    then: Schedule | None = None

    def __post_init__(self) -> None:
        if callable(self.order):
            return
        if isinstance(self.order, str) or not all(_is_turn(entry) for entry in self.order):
            raise TypeError(
                "Scripted() takes a list of thread names or a function (an entry may also be a "
                f"(name, decisions) pair), not {self.order!r}"
            )
        object.__setattr__(
            self,
            "order",
            tuple(e if isinstance(e, str) else (str(e[0]), int(e[1])) for e in self.order),
        )

    @property
    def names(self) -> list[str]:
        """The thread names the script gives turns to, in order."""
        if callable(self.order):
            return []
        return [e if isinstance(e, str) else e[0] for e in self.order]

    def chooser(self) -> Chooser:
        if callable(self.order):
            return _policy_chooser(self.order)
        return _script_chooser(
            list(self.order), self.then.chooser() if self.then is not None else _run_until_wait
        )

    def describe(self) -> dict[str, Any]:
        if callable(self.order):
            return {
                "policy": "scripted",
                "function": getattr(self.order, "__qualname__", repr(self.order)),
            }
        described: dict[str, Any] = {
            "policy": "scripted",
            "order": [e if isinstance(e, str) else list(e) for e in self.order],
        }
        if self.then is not None:
            described["then"] = self.then.describe()
        return described


def _is_turn(entry: object) -> bool:
    if isinstance(entry, str):
        return True
    return (
        isinstance(entry, tuple | list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], int)
        and not isinstance(entry[1], bool)
        and entry[1] >= 0
    )


def _script_chooser(script: list[str | tuple[str, int]], then: Chooser) -> Chooser:
    """Follow ``script``'s turns (see :class:`Scripted`), then ``then``."""
    turn: list[Any] = []  # the turn under way: [name, decisions left (None: until it waits)]

    def choose(runnable: list[Slot], current: Slot | None, step: int, now: int) -> Slot:
        cut_short = False
        if turn:
            name, left = turn
            if current is not None and current.name == name:
                if left is None:
                    return current  # a turn lasts until the thread waits or ends
                if left > 0:
                    turn[1] = left - 1
                    return current
                cut_short = True  # its decisions are used: the next entry starts now
            turn.clear()
        while script and current is not None and not cut_short:
            name, count = (script[0], None) if isinstance(script[0], str) else script[0]
            if current.name != name:
                return current  # (the next turn begins when the thread running has to wait)
            # the turn of the thread running (it got the baton when nobody else could run)
            del script[0]
            if count is None or count > 0:
                turn[:] = [name, None if count is None else count - 1]
                return current
            cut_short = True  # (name, 0): it is cut short right here
        if not script:
            return then(runnable, current, step, now)
        entry = script[0]
        name, count = (entry, None) if isinstance(entry, str) else entry
        for slot in runnable:
            if slot.name == name:
                del script[0]
                turn[:] = [name, None if count is None else count - 1]
                return slot
        # the named thread cannot run yet: the others go on until it can
        return current if current is not None else runnable[0]

    return choose


def _policy_chooser(policy: Callable[[Choice], str]) -> Chooser:
    def choose(runnable: list[Slot], current: Slot | None, step: int, now: int) -> Slot:
        names = tuple(slot.name for slot in runnable)
        name = policy(Choice(names, current.name if current is not None else None, step, now))
        for slot in runnable:
            if slot.name == name:
                return slot
        raise ValueError(
            f"the schedule's policy chose {name!r}, which cannot run now; runnable: "
            f"{', '.join(names)}"
        )

    return choose
