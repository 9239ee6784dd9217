"""Every schedule: a depth-first search over the decisions of a weld.

Theory of operation
-------------------
A scheduled weld is deterministic: the same decisions give the same run.  So
the schedules of a scenario form a tree -- at each **branch point** one child
per thread that could run -- and a search can walk it without saving any
state: run once taking the first thread at every branch point, then re-run
with the last branch point that has an untried thread taking it (the
decisions before it taken again, as recorded), and so on until no branch
point is left.  That is stateless model checking (Godefroid's VeriSoft,
1997; Musuvathi and Qadeer's CHESS, 2007).

The branch points are the stepper's (:mod:`._stepper`): where the running
thread has to wait or ends (any runnable thread may go next), and where it
begins a socket call (it may go on, or another may run first: a
*preemption*).  Inside a call the network's lock makes the rest of it one
step.  Preemptions multiply the schedules, so the search bounds them, as
CHESS's iterative context bounding does: ``preemptions=0`` tries every
schedule in which a thread runs until it waits or ends; ``preemptions=1``
adds those with one thread cut short at one call; and so on.  There is no
partial-order reduction: two schedules that only reorder independent steps
are both run (the outcome table groups them again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._core._schedule import Chooser, Schedule
from . import _ctrl_c
from ._policies import Scripted
from ._stepper import StepCount, _Decision, compressed

if TYPE_CHECKING:
    from .._core._schedule import Scheduler, Slot

__all__ = ["Branching", "next_prefix", "searched_runs", "subtrees"]


@dataclass
class _Point:
    """A branch point of one run: the threads that could go next (the first: the default) and
    the one taken."""

    options: list[str]
    taken: int
    preempting: bool  #: options after the first cut the running thread short
    budget: int  #: preemptions left before this point


@dataclass
class Branching(Schedule):
    """Take ``prefix[i]`` at the i-th branch point (then the first option), logging every branch
    point and every decision."""

    prefix: list[int]
    preemptions: int = 0
    points: list[_Point] = field(default_factory=list)
    log: list[_Decision] = field(default_factory=list)
    #: a recorded choice that could not be taken again: the scenario is not repeatable
    diverged: str | None = None

    def __post_init__(self) -> None:
        self._count = StepCount()
        self._budget = self.preemptions

    def describe(self) -> dict[str, Any]:
        return Scripted(compressed(self.log)).describe()

    def attach(self, scheduler: Scheduler, recorder: Any) -> None:
        recorder.sink = self._count.saw

    def chooser(self) -> Chooser:
        def choose(runnable: list[Slot], current: Slot | None, step: int, now: int) -> Slot:
            name = current.name if current is not None else None
            if current is not None and name is not None:
                at_step = self._count.moved_on(current)
                if not at_step or self._budget <= 0 or self.diverged is not None:
                    if at_step:
                        self._count.mark(current)
                    self.log.append(_Decision(name, name, False))
                    return current  # inside a step, or no preemption left: it goes on
                options = [name] + [slot.name for slot in runnable if slot is not current]
            else:
                options = [slot.name for slot in runnable]
            chosen = self._branch(options, preempting=current is not None)
            slot = next(slot for slot in runnable if slot.name == chosen)
            if current is not None and chosen != name:
                self._budget -= 1
            self._count.mark(slot)
            self.log.append(_Decision(name, chosen, True))
            return slot

        return choose

    def _branch(self, options: list[str], *, preempting: bool) -> str:
        at = len(self.points)
        taken = self.prefix[at] if at < len(self.prefix) else 0
        if taken >= len(options):  # (the run went another way than the one recorded)
            self.diverged = f"branch point {at + 1} has {len(options)} option(s), not {taken + 1}"
            taken = 0
        self.points.append(_Point(options, taken, preempting, self._budget))
        return options[taken]


def next_prefix(points: list[_Point], floor: int = 0) -> list[int] | None:
    """The choices of the next run of the depth-first search: the deepest branch point with an
    untried option takes it (a preemption only while the budget allows); None when every
    schedule has been run.  The branch points above ``floor`` stay as they are (the search of a
    subtree)."""
    for at in range(len(points) - 1, floor - 1, -1):
        point = points[at]
        if point.taken + 1 < len(point.options) and _may_branch(point):
            return [p.taken for p in points[:at]] + [point.taken + 1]
    return None


def _may_branch(point: _Point) -> bool:
    return not point.preempting or point.budget > 0


def searched_runs(
    scenario: Any,
    weld: Callable[..., Any],
    options: dict[str, Any],
    prefix: list[int],
    preemptions: int,
) -> Iterator[tuple[tuple[Any, str, str], list[Any], list[_Point]]]:
    """The runs of the depth-first search below ``prefix``, in order: each as what
    :func:`~._onerun.welded` gives, the choices that make it again, and its branch points."""
    from ._onerun import welded

    floor = len(prefix)
    current: list[int] | None = prefix
    while current is not None:
        _ctrl_c.check()
        search = Branching(current, preemptions)
        made = welded(scenario, weld, options, search)
        if search.diverged is not None:
            raise RuntimeError(
                f"the scenario does not repeat itself, so its schedules cannot be searched: "
                f"{search.diverged} (real time, random numbers, state kept between runs?)"
            )
        yield made, compressed(search.log), search.points
        current = next_prefix(search.points, floor)


def subtrees(points_of: Callable[[list[int]], list[_Point]], want: int) -> list[list[int]]:
    """Prefixes whose subtrees hold every run of the search, in its order: the tree cut at its
    first branch points, level by level, until there are ``want`` pieces (or nothing is left to
    cut).  ``points_of(prefix)`` runs the leftmost schedule below ``prefix`` and gives its branch
    points."""
    frontier: list[tuple[list[int], list[_Point]]] = [([], points_of([]))]
    while len(frontier) < want:
        cut: list[tuple[list[int], list[_Point]]] = []
        for index, (prefix, points) in enumerate(frontier):
            at = _first_branch(points, len(prefix))
            if at is None or len(cut) + len(frontier) - index >= want:
                cut.append((prefix, points))
                continue
            base = prefix + [0] * (at - len(prefix))
            cut.append(([*base, 0], points))  # (the leftmost child's first run is the parent's)
            for option in range(1, len(points[at].options)):
                cut.append(([*base, option], points_of([*base, option])))
        if len(cut) == len(frontier):
            break
        frontier = cut
    return [prefix for prefix, _ in frontier]


def _first_branch(points: list[_Point], start: int) -> int | None:
    """The first branch point from ``start`` on where the search may take another option."""
    for at in range(start, len(points)):
        if len(points[at].options) > 1 and _may_branch(points[at]):
            return at
    return None
