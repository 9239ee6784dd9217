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

import html
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._core._events import wait_words
from .._errors import ComponentError, DeadlockError, ExternalBlockError, WeldTimeoutError
from .._net._manager import Semantics
from .._trace._trace import Trace
from . import _ctrl_c
from ._policies import Seeded

__all__ = ["Exploration", "Outcome", "Run", "explore"]

Scenario = Mapping[str, Callable[[], Any]] | Callable[[], Mapping[str, Callable[[], Any]]]


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
    _fingerprints: set[str] = field(default_factory=set, repr=False)

    @property
    def count(self) -> int:
        return len(self.seeds)

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
        self, runs: list[Run], outcomes: list[Outcome], rerun: Callable[[int], Trace]
    ) -> None:
        self.runs = runs
        self.outcomes = outcomes
        self._rerun = rerun

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

    def _seeds(self, seeds: list[int]) -> str:
        shown = ", ".join(map(str, seeds[:8]))
        return shown + (f", ... ({len(seeds)} in all)" if len(seeds) > 8 else "")

    def __str__(self) -> str:
        width = max([len(o.name) for o in self.outcomes] + [7])
        lines = [
            f"{len(self.runs)} runs, {len(self.outcomes)} outcome(s), {self.interleavings} "
            "interleaving(s)"
        ]
        lines.append(f"{'outcome':<{width}}  runs  share  seeds")
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
        head = (
            f"{len(self.runs)} runs, {len(self.outcomes)} outcome(s), {self.interleavings} "
            "interleaving(s)"
        )
        return (
            f"<div class='sockviz-exploration'><p>{html.escape(head)}</p><table><thead><tr>"
            "<th>outcome</th><th>runs</th><th>share</th><th>interleavings</th><th>seeds</th>"
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


def explore(
    scenario: Scenario,
    *,
    runs: int | None = None,
    seeds: Iterable[int] | None = None,
    outcome: Callable[[Trace], Hashable] | None = None,
    semantics: Semantics = "strict",
    timeout: float = 30.0,
    buffer_size: int = 65536,
) -> Exploration:
    """Weld ``scenario`` once per seed under :class:`Seeded` and group the runs by outcome.

    ``scenario`` is a mapping ``{name: component}``, or a function returning
    one (called afresh for every run: use one when components keep state,
    such as a ``threading.Event``).  ``runs=N`` tries seeds ``0..N-1``
    (default 20); ``seeds=`` names them.  ``outcome(trace)`` labels each
    run (any hashable value); runs are grouped by how they ended and by
    that label.  Lines the components print are recorded, not shown.

    >>> found = sockviz.explore(race, runs=20, outcome=who_won)  # doctest: +SKIP
    >>> print(found)  # doctest: +SKIP
    >>> found.replay()  # doctest: +SKIP
    """
    from ._weld import weld

    with _ctrl_c.ctrl_c_latch():  # a Ctrl-C dropped by a garbage collector's callback still ends it
        return _explored(
            scenario, _seed_list(runs, seeds), outcome, weld, semantics, timeout, buffer_size
        )


def _explored(
    scenario: Scenario,
    chosen: list[int],
    outcome: Callable[[Trace], Hashable] | None,
    weld: Callable[..., Trace],
    semantics: Semantics,
    timeout: float,
    buffer_size: int,
) -> Exploration:
    """``explore``'s runs, one seed after the other."""

    def run(seed: int) -> tuple[Trace, str, str]:
        try:
            trace = weld(
                _components(scenario),
                schedule=Seeded(seed),
                semantics=semantics,
                timeout=timeout,
                buffer_size=buffer_size,
                echo=False,
            )
        except (ComponentError, DeadlockError, ExternalBlockError, WeldTimeoutError) as error:
            trace = error.trace or Trace([])
            return trace, *_ended(error, trace)
        return trace, "finished", ""

    done: list[Run] = []
    groups: dict[tuple[str, Hashable, str], Outcome] = {}
    for seed in chosen:
        _ctrl_c.check()
        trace, status, detail = run(seed)
        label = outcome(trace) if outcome is not None else None
        fingerprint = trace.fingerprint()
        done.append(Run(seed, status, label, detail, len(trace), fingerprint))
        group = groups.get((status, label, detail))
        if group is None:
            group = groups[status, label, detail] = Outcome(status, label, detail, [], trace)
        group.seeds.append(seed)
        group._fingerprints.add(fingerprint)
    outcomes = sorted(groups.values(), key=lambda o: (-o.count, o.seeds[0]))
    for o in outcomes:
        o.share = o.count / len(done)
        o.interleavings = len(o._fingerprints)
    return Exploration(done, outcomes, lambda seed: run(seed)[0])
