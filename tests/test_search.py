"""Every schedule (an exhaustive, depth-first search) and PCT."""

from __future__ import annotations

import socket

import pytest

import sockviz
from sockviz.scenarios import race_scenario, who_got_the_slot


def order_matters() -> dict:
    """A server that lets its first client speak first and speaks first to its second: ann speaks
    first, bob listens first, so it deadlocks exactly when bob is accepted first."""

    def server() -> None:
        with socket.create_server(("", 9100), backlog=2) as listener:
            first, _ = listener.accept()
            second, _ = listener.accept()
            with first, second:
                first.sendall(b"ok:" + first.recv(100))
                second.sendall(b"hello")
                second.recv(100)

    def ann() -> None:
        with socket.create_connection(("server", 9100)) as s:
            s.sendall(b"ann")
            s.recv(100)

    def bob() -> None:
        with socket.create_connection(("server", 9100)) as s:
            s.recv(100)
            s.sendall(b"bob")

    return {"server": server, "ann": ann, "bob": bob}


@pytest.mark.parametrize("semantics", ["weldr", "strict"])
def test_the_race_is_searched_completely_and_both_can_win(semantics: str) -> None:
    found = sockviz.explore(
        race_scenario, outcome=who_got_the_slot, exhaustive=True, semantics=semantics
    )
    assert found.complete is True
    names = {o.label for o in found.outcomes if o.status == "finished"}
    assert names == {"ann got the slot", "bob got the slot"}
    assert len(found.runs) == sum(o.count for o in found.outcomes)
    assert "every schedule tried" in str(found)
    if semantics == "strict":  # both refused before the server listens: the server is stuck
        assert any(o.status == "stuck" for o in found.outcomes)


def test_every_outcome_keeps_the_schedule_that_reproduces_it() -> None:
    """The deadlock that needs bob accepted first and the runs that finish are both found, and
    each outcome's schedule (a Scripted) makes its run again."""
    found = sockviz.explore(order_matters, exhaustive=True, semantics="weldr")
    assert found.complete
    assert {o.status for o in found.outcomes} == {"finished", "deadlocked"}, found
    for o in found.outcomes:
        assert isinstance(o.schedule, sockviz.Scripted)
        if o.status == "finished":
            again = sockviz.weld(
                order_matters(), schedule=o.schedule, semantics="weldr", echo=False
            )
        else:
            with pytest.raises(sockviz.DeadlockError) as info:
                sockviz.weld(order_matters(), schedule=o.schedule, semantics="weldr", echo=False)
            assert info.value.cycle is not None and "bob" in info.value.cycle
            again = info.value.trace
        assert again.fingerprint() == o.trace.fingerprint()
        assert found.trace(o.seeds[0]).fingerprint() == o.trace.fingerprint()


def test_preemptions_add_schedules_and_max_runs_cuts_the_search_short() -> None:
    none = sockviz.explore(race_scenario, exhaustive=True, semantics="strict")
    one = sockviz.explore(race_scenario, exhaustive=True, semantics="strict", preemptions=1)
    assert none.complete and one.complete and len(one.runs) > len(none.runs)
    short = sockviz.explore(race_scenario, exhaustive=True, semantics="strict", max_runs=5)
    assert short.complete is False and len(short.runs) == 5
    assert "cut short" in str(short)


def test_exhaustive_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="takes max_runs="):
        sockviz.explore(race_scenario, exhaustive=True, runs=3)
    with pytest.raises(ValueError, match="preemptions must be"):
        sockviz.explore(race_scenario, exhaustive=True, preemptions=-1)
    with pytest.raises(ValueError, match="max_runs must be"):
        sockviz.explore(race_scenario, exhaustive=True, max_runs=0)


def test_pct_repeats_per_seed_and_explores_as_a_policy() -> None:
    pct = sockviz.PCT(5, depth=2)
    first = sockviz.weld(race_scenario(), schedule=pct, semantics="weldr", echo=False)
    again = sockviz.weld(race_scenario(), schedule=pct, semantics="weldr", echo=False)
    assert first.fingerprint() == again.fingerprint()
    assert first.meta["schedule"]["policy"] == "pct"
    found = sockviz.explore(
        race_scenario,
        runs=30,
        outcome=who_got_the_slot,
        policy=lambda seed: sockviz.PCT(seed, depth=2),
        semantics="weldr",
    )
    assert {o.label for o in found.outcomes} == {"ann got the slot", "bob got the slot"}
    with pytest.raises(ValueError, match="depth >= 1"):
        sockviz.PCT(1, depth=0)
    with pytest.raises(TypeError, match="int seed"):
        sockviz.PCT("one")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scenario", "semantics", "preemptions"),
    [(race_scenario, "strict", 1), (race_scenario, "weldr", 0), (order_matters, "weldr", 1)],
)
def test_every_run_of_a_search_is_remade_by_its_schedule(scenario, semantics, preemptions) -> None:
    """Not only each outcome's first run: every run's Scripted schedule gives its very events
    (turns cut short, and turns that began with nobody else to run, included)."""
    found = sockviz.explore(
        scenario, exhaustive=True, semantics=semantics, preemptions=preemptions, max_runs=400
    )
    assert any(isinstance(c, tuple) for run in found.runs for c in run.schedule) == bool(
        preemptions
    )
    for run in found.runs:
        try:
            trace = sockviz.weld(
                scenario(), schedule=sockviz.Scripted(run.schedule), semantics=semantics, echo=False
            )
        except (sockviz.DeadlockError, sockviz.ComponentError) as error:
            trace = error.trace
        assert trace.fingerprint() == run.fingerprint, run.schedule


def test_a_lost_update_needs_one_preemption_and_the_search_finds_it() -> None:
    """The counter race: with no preemption every schedule adds up to 2; allowing one (at the
    sleep between read and write) finds the lost update."""
    from .test_stepper import counter_race

    def final(trace: sockviz.Trace) -> int:
        return max(int(e.fields["line"].split()[1]) for e in trace.of_kind("output"))

    none = sockviz.explore(counter_race, exhaustive=True, outcome=final)
    assert none.complete and {o.label for o in none.outcomes} == {2}
    one = sockviz.explore(counter_race, exhaustive=True, outcome=final, preemptions=1)
    assert one.complete and {o.label for o in one.outcomes} == {1, 2}
    lost = next(o for o in one.outcomes if o.label == 1)
    again = sockviz.weld(counter_race(), schedule=lost.schedule, echo=False)
    assert final(again) == 1
