"""Exploring schedules: run one scenario under many seeds and see what can happen.

A free run shows *one* interleaving, whichever the operating system picked.
``explore`` runs the same components under ``Seeded(0)``, ``Seeded(1)``...
and sorts the runs into **outcomes**: how the run ended (finished,
deadlocked, stuck, error, timed out, blocked outside) plus, if you pass one, what
your ``outcome`` function says about its trace ("ann got the slot").  Each
outcome keeps the trace of its first seed, to plot or replay; since a
seeded run is deterministic, any other run can be had again with
:meth:`Exploration.trace`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import itertools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._core._schedule import Schedule
from .._net._manager import Semantics
from .._trace._trace import Trace
from . import _ctrl_c
from ._onerun import Scenario, welded
from ._policies import Seeded
from ._progress import progress_bar
from ._search import next_prefix, searched_runs, subtrees

if TYPE_CHECKING:
    import concurrent.futures as futures


__all__ = ["Exploration", "Outcome", "Run", "explore"]


@dataclass(frozen=True)
class Run:
    """One seeded run: how it ended and a fingerprint of what happened."""

    seed: int
    #: "finished", "deadlocked" (threads waiting for each other in a circle), "stuck" (every thread
    #: blocked, waiting for what no thread is left to do), "error", "timed out" or
    #: "blocked outside"
    status: str
    #: what the ``outcome`` function said (None without one)
    label: Hashable
    #: for errors and deadlocks: who failed with what, or who waited for what
    detail: str
    events: int
    #: :meth:`Trace.fingerprint`: runs with equal fingerprints interleaved the same way
    fingerprint: str
    #: the choices that make this run again with ``Scripted`` (an exhaustive search's runs)
    schedule: list[Any] | None = None


@dataclass
class Outcome:
    """Runs that ended the same way, with the trace of the first of them."""

    status: str
    label: Hashable
    detail: str
    seeds: list[int]
    trace: Trace
    share: float = 0.0
    interleavings: int = 1
    #: for each run (an exhaustive search's), the choices that make it again with ``Scripted``
    schedules: list[list[Any]] = field(default_factory=list)
    _fingerprints: set[str] = field(default_factory=set, repr=False)

    @property
    def count(self) -> int:
        return len(self.seeds)

    @property
    def schedule(self) -> Any:
        """A schedule that reproduces this outcome: ``Scripted(choices)`` of its first run (an
        exhaustive search), else ``Seeded(its first seed)``."""
        from ._policies import Scripted

        return Scripted(self.schedules[0]) if self.schedules else Seeded(self.seeds[0])

    @property
    def name(self) -> str:
        """ "finished: ann got the slot" -- the status, and the label if there is one."""
        text = self.status if self.label is None else f"{self.status}: {self.label}"
        return f"{text} ({self.detail})" if self.detail else text

    def replay(self, *, by: str = "order", width: int = 880) -> Any:
        """The replay widget on this outcome's trace."""
        from .._views._replay import Replay

        return Replay(self.trace, by=by, width=width)


class Exploration:
    """What ``explore`` found: every run, grouped into outcomes (most frequent first)."""

    def __init__(
        self,
        runs: list[Run],
        outcomes: list[Outcome],
        rerun: Callable[[int], Trace],
        complete: bool | None = None,
    ) -> None:
        self.runs = runs
        self.outcomes = outcomes
        self._rerun = rerun
        #: an exhaustive search: True when it ran every schedule (within its preemption bound)
        #: before ``max_runs``; None for seeded runs
        self.complete = complete

    @property
    def interleavings(self) -> int:
        """How many different event sequences the runs produced."""
        return len({run.fingerprint for run in self.runs})

    def __len__(self) -> int:
        return len(self.outcomes)

    def __getitem__(self, index: int) -> Outcome:
        return self.outcomes[index]

    def trace(self, seed: int) -> Trace:
        """Run ``seed`` again and return its trace (the same as the first time)."""
        return self._rerun(seed)

    def table(self) -> list[dict[str, Any]]:
        """One row per outcome: outcome, runs, share, interleavings, seeds."""
        return [
            {
                "outcome": o.name,
                "runs": o.count,
                "share": o.share,
                "interleavings": o.interleavings,
                "seeds": list(o.seeds),
            }
            for o in self.outcomes
        ]

    def replay(
        self, outcome: int | Outcome | None = None, *, by: str = "order", width: int = 880
    ) -> Any:
        """A replay widget: of one outcome, or (by default) with a menu to pick any of them."""
        if isinstance(outcome, Outcome):
            return outcome.replay(by=by, width=width)
        if outcome is not None:
            return self.outcomes[outcome].replay(by=by, width=width)
        from .._views._replay import outcome_menu

        return outcome_menu(self, by=by, width=width)

    def _head(self) -> str:
        head = (
            f"{len(self.runs)} runs, {len(self.outcomes)} outcome(s), {self.interleavings} "
            "interleaving(s)"
        )
        if self.complete is not None:
            head += "; every schedule tried" if self.complete else "; the search was cut short"
        return head

    def _key_name(self) -> str:
        return "runs (#)" if self.complete is not None else "seeds"

    def _seeds(self, seeds: list[int]) -> str:
        shown = ", ".join(map(str, seeds[:8]))
        return shown + (f", ... ({len(seeds)} in all)" if len(seeds) > 8 else "")

    def __str__(self) -> str:
        width = max([len(o.name) for o in self.outcomes] + [7])
        lines = [self._head()]
        lines.append(f"{'outcome':<{width}}  runs  share  {self._key_name()}")
        for o in self.outcomes:
            lines.append(
                f"{o.name:<{width}}  {o.count:>4}  {o.share:>5.0%}  {self._seeds(o.seeds)}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Exploration runs={len(self.runs)} outcomes={len(self.outcomes)} "
            f"interleavings={self.interleavings}>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td style='text-align:left'>{html.escape(o.name)}</td><td>{o.count}</td>"
            f"<td>{o.share:.0%}</td><td>{o.interleavings}</td>"
            f"<td style='text-align:left'>{html.escape(self._seeds(o.seeds))}</td></tr>"
            for o in self.outcomes
        )
        head = self._head()
        return (
            f"<div class='sockviz-exploration'><p>{html.escape(head)}</p><table><thead><tr>"
            "<th>outcome</th><th>runs</th><th>share</th><th>interleavings</th>"
            f"<th>{self._key_name()}</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )


def _seed_list(runs: int | None, seeds: Iterable[int] | None) -> list[int]:
    if runs is not None and seeds is not None:
        raise TypeError("explore() takes runs= or seeds=, not both")
    if seeds is not None:
        chosen = list(seeds)
        if not chosen or not all(isinstance(s, int) and not isinstance(s, bool) for s in chosen):
            raise ValueError(f"seeds must be a non-empty list of ints, not {seeds!r}")
        return chosen
    count = 20 if runs is None else runs
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"runs must be a positive number of runs, not {runs!r}")
    return list(range(count))


def explore(
    scenario: Scenario,
    *,
    runs: int | None = None,
    seeds: Iterable[int] | None = None,
    outcome: Callable[[Trace], Hashable] | None = None,
    semantics: Semantics = "strict",
    timeout: float = 30.0,
    buffer_size: int = 65536,
    policy: Callable[[int], Schedule] | None = None,
    exhaustive: bool = False,
    max_runs: int = 2000,
    preemptions: int = 0,
    workers: int = 1,
    executor: futures.Executor | None = None,
    progress: bool | None = None,
) -> Exploration:
    """Weld ``scenario`` under many schedules and group the runs by outcome.

    ``scenario`` is a mapping ``{name: component}``, or a function returning
    one (called afresh for every run: use one when components keep state,
    such as a ``threading.Event``).  ``outcome(trace)`` labels each run (any
    hashable value); runs are grouped by how they ended and by that label.
    Lines the components print are recorded, not shown.

    By default each run is seeded: ``runs=N`` tries seeds ``0..N-1`` (default
    20) of :class:`Seeded`, or of ``policy(seed)`` (``policy=lambda s: PCT(s)``);
    ``seeds=`` names them.

    ``exhaustive=True`` tries **every** schedule instead, by a depth-first
    search over the decisions (see :mod:`sockviz._weld._search`): every order
    in which the threads can take turns, each running until it waits or ends,
    and with ``preemptions=k`` every schedule that also cuts at most ``k``
    threads short at the start of a socket call.  ``max_runs`` bounds the
    search; ``.complete`` says whether it finished.  Each outcome keeps the
    schedule that reproduces it (``outcome.schedule``, a ``Scripted``).

    ``workers=N`` makes the runs in N processes (an exhaustive search: its
    subtrees); ``executor=`` in any ``concurrent.futures.Executor``, such as a
    dask cluster's ``Client(...).get_executor()``.  The result is the same as
    a serial run's, run for run.  The scenario and ``outcome`` are sent with
    cloudpickle, so functions written in a notebook cell work; components
    that share a lock or an ``Event`` must then come from a function.

    ``progress`` shows a bar of the runs: None (the default) once the
    exploration has lasted a second, True at once, False never.

    >>> found = sockviz.explore(race, outcome=who_won, exhaustive=True)  # doctest: +SKIP
    >>> print(found)  # doctest: +SKIP
    >>> found.replay()  # doctest: +SKIP
    """
    from ._weld import weld

    options = {"semantics": semantics, "timeout": timeout, "buffer_size": buffer_size}
    farm = _Farm.of(workers, executor)
    with _ctrl_c.ctrl_c_latch():  # a Ctrl-C dropped by a garbage collector's callback still ends it
        if exhaustive:
            if runs is not None or seeds is not None or policy is not None:
                raise TypeError(
                    "an exhaustive exploration takes max_runs=, not runs=, seeds= or policy="
                )
            bound, limit = _bound(preemptions), _positive(max_runs, "max_runs")
            with progress_bar(progress, total=None, what="explore", unit=" runs") as advance:
                if farm is None:
                    return _searched(scenario, outcome, weld, options, limit, bound, advance)
                return _searched_far(scenario, outcome, weld, options, limit, bound, farm, advance)
        make = policy if policy is not None else Seeded
        chosen = _seed_list(runs, seeds)
        with progress_bar(progress, total=len(chosen), what="explore", unit=" runs") as advance:
            if farm is None:
                return _explored(scenario, chosen, outcome, weld, options, make, advance)
            return _explored_far(scenario, chosen, outcome, weld, options, make, farm, advance)


def _positive(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive number of runs, not {value!r}")
    return value


def _bound(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"preemptions must be a number of preemptions (0 or more), not {value!r}")
    return value


@dataclass(frozen=True)
class _Farm:
    """Where the runs go: a pool of ``workers`` processes made for the exploration, or the
    caller's ``executor`` (``workers`` then sizes the chunks)."""

    workers: int
    executor: futures.Executor | None

    @classmethod
    def of(cls, workers: object, executor: object) -> _Farm | None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive number of processes, not {workers!r}")
        if executor is not None and not callable(getattr(executor, "submit", None)):
            raise TypeError(
                f"executor must be a concurrent.futures.Executor (with submit()), not {executor!r}"
            )
        if executor is None and workers == 1:
            return None
        return cls(workers if executor is None else max(workers, 2), executor)  # type: ignore[arg-type]

    @property
    def jobs(self) -> int:
        """How many pieces to cut the work into: a few per worker, so that none idles long."""
        return 4 * self.workers

    def pool(self) -> contextlib.AbstractContextManager[futures.Executor]:
        if self.executor is not None:
            return contextlib.nullcontext(self.executor)
        from ._parallel import own_pool

        return own_pool(self.workers)


def judged(
    key: int,
    made: tuple[Trace, str, str],
    outcome: Callable[[Trace], Hashable] | None,
    schedule: list[Any] | None = None,
) -> Run:
    """The :class:`Run` of what :func:`~._onerun.welded` made: labelled by ``outcome`` and
    fingerprinted (here, or in an exploration's worker)."""
    trace, status, detail = made
    label = outcome(trace) if outcome is not None else None
    return Run(key, status, label, detail, len(trace), trace.fingerprint(), schedule)


class _Groups:
    """Runs sorted into outcomes as they come."""

    def __init__(self, outcome: Callable[[Trace], Hashable] | None) -> None:
        self.label_of = outcome
        self.done: list[Run] = []
        self.groups: dict[tuple[str, Hashable, str], Outcome] = {}

    def add(
        self, key: int, trace: Trace, status: str, detail: str, schedule: list[Any] | None = None
    ) -> None:
        self.add_run(judged(key, (trace, status, detail), self.label_of, schedule), trace)

    def add_run(self, run: Run, trace: Trace | None) -> None:
        """A run made here or by a worker (whose ``trace`` is None unless the run may open its
        outcome)."""
        self.done.append(run)
        group = self.groups.get((run.status, run.label, run.detail))
        if group is None:
            assert trace is not None, "a worker sends the trace of its first run of an outcome"
            group = Outcome(run.status, run.label, run.detail, [], trace)
            self.groups[run.status, run.label, run.detail] = group
        group.seeds.append(run.seed)
        if run.schedule is not None:
            group.schedules.append(run.schedule)
        group._fingerprints.add(run.fingerprint)

    def outcomes(self) -> list[Outcome]:
        outcomes = sorted(self.groups.values(), key=lambda o: (-o.count, o.seeds[0]))
        for o in outcomes:
            o.share = o.count / len(self.done)
            o.interleavings = len(o._fingerprints)
        return outcomes


def _explored(
    scenario: Scenario,
    chosen: list[int],
    outcome: Callable[[Trace], Hashable] | None,
    weld: Callable[..., Trace],
    options: dict[str, Any],
    make: Callable[[int], Schedule],
    advance: Callable[[int], None],
) -> Exploration:
    """``explore``'s seeded runs, one seed after the other."""
    groups = _Groups(outcome)
    for seed in chosen:
        _ctrl_c.check()
        groups.add(seed, *welded(scenario, weld, options, make(seed)))
        advance(1)
    return _seeded_exploration(groups, scenario, weld, options, make)


def _explored_far(
    scenario: Scenario,
    chosen: list[int],
    outcome: Callable[[Trace], Hashable] | None,
    weld: Callable[..., Trace],
    options: dict[str, Any],
    make: Callable[[int], Schedule],
    farm: _Farm,
    advance: Callable[[int], None],
) -> Exploration:
    """``explore``'s seeded runs, in chunks of consecutive seeds on the farm's workers."""
    from . import _parallel

    payload = _parallel.packed(scenario, outcome, options, make)
    size = -(-len(chosen) // farm.jobs)
    chunks = [(payload, chosen[at : at + size]) for at in range(0, len(chosen), size)]
    with farm.pool() as pool:
        made = _parallel.farmed(pool, _parallel.seeded_runs, chunks, lambda r: advance(len(r)))
    groups = _Groups(outcome)
    for run, trace in itertools.chain.from_iterable(made):
        groups.add_run(run, trace)
    return _seeded_exploration(groups, scenario, weld, options, make)


def _seeded_exploration(
    groups: _Groups,
    scenario: Scenario,
    weld: Callable[..., Trace],
    options: dict[str, Any],
    make: Callable[[int], Schedule],
) -> Exploration:
    """The exploration of seeded runs: any seed can be run again."""
    return Exploration(
        groups.done,
        groups.outcomes(),
        lambda seed: welded(scenario, weld, options, make(seed))[0],
    )


def _searched(
    scenario: Scenario,
    outcome: Callable[[Trace], Hashable] | None,
    weld: Callable[..., Trace],
    options: dict[str, Any],
    max_runs: int,
    preemptions: int,
    advance: Callable[[int], None],
) -> Exploration:
    """``explore``'s exhaustive search (see :mod:`._search`): run after run, depth first."""
    groups = _Groups(outcome)
    complete = True
    for made, schedule, points in searched_runs(scenario, weld, options, [], preemptions):
        groups.add(len(groups.done), *made, schedule)
        advance(1)
        if len(groups.done) >= max_runs:
            complete = next_prefix(points) is None
            break
    return _searched_exploration(groups, scenario, weld, options, complete)


def _searched_far(
    scenario: Scenario,
    outcome: Callable[[Trace], Hashable] | None,
    weld: Callable[..., Trace],
    options: dict[str, Any],
    max_runs: int,
    preemptions: int,
    farm: _Farm,
    advance: Callable[[int], None],
) -> Exploration:
    """``explore``'s exhaustive search, its subtrees on the farm's workers, put back in order."""

    def points_of(prefix: list[int]) -> list[Any]:
        return next(searched_runs(scenario, weld, options, prefix, preemptions))[2]

    from . import _parallel

    payload = _parallel.packed(scenario, outcome, options, preemptions)
    jobs = [(payload, prefix, max_runs) for prefix in subtrees(points_of, farm.jobs)]
    with farm.pool() as pool:
        made = _parallel.farmed(
            pool, _parallel.scripted_runs, jobs, lambda result: advance(len(result[0]))
        )
    runs = list(itertools.chain.from_iterable(done for done, _ in made))
    complete = len(runs) <= max_runs and all(finished for _, finished in made)
    groups = _Groups(outcome)
    for key, (run, trace) in enumerate(runs[:max_runs]):
        groups.add_run(dataclasses.replace(run, seed=key), trace)  # (numbered as one search)
    return _searched_exploration(groups, scenario, weld, options, complete)


def _searched_exploration(
    groups: _Groups,
    scenario: Scenario,
    weld: Callable[..., Trace],
    options: dict[str, Any],
    complete: bool,
) -> Exploration:
    from ._policies import Scripted

    schedules = [run.schedule for run in groups.done]
    return Exploration(
        groups.done,
        groups.outcomes(),
        lambda run: welded(scenario, weld, options, Scripted(schedules[run] or []))[0],
        complete=complete,
    )
