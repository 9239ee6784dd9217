"""The stepper: a person chooses who runs; undo; the same run again with Scripted."""

from __future__ import annotations

import socket

import pytest

import sockviz
from sockviz.scenarios import deadlock_scenario, race_scenario, who_got_the_slot

from .scenarios import left_alone


def _events(trace: sockviz.Trace) -> list[tuple]:
    return [(e.seq, e.t_ns, e.thread, e.kind, e.obj, e.fields) for e in trace]


def _server_to_accept(st: sockviz.Stepper) -> None:
    """Let the server run until it waits in accept() (it is then no longer runnable)."""
    while "server" in st.runnable:
        st.run("server")


@pytest.mark.parametrize("semantics", ["weldr", "strict"])
@pytest.mark.parametrize("winner", ["ann", "bob"])
def test_the_one_who_connects_first_gets_the_slot_by_choice(semantics: str, winner: str) -> None:
    """Both endings of the race, reached by choosing who connects first."""
    st = sockviz.stepper(race_scenario(), semantics=semantics)
    assert st.runnable == ["server", "ann", "bob"] and not st.done and st.outcome is None
    assert st.next_steps() == {"server": "starts", "ann": "starts", "bob": "starts"}
    _server_to_accept(st)
    assert st.runnable == ["ann", "bob"]
    while not st.next_steps()[winner].startswith("connect()"):
        st.run(winner)  # it starts, and goes call by call up to its connect()
    assert st.next_steps()[winner] == "connect() to 127.0.0.1:8080"
    st.run(winner)  # the connect itself
    st.finish()
    assert st.done and st.outcome == "finished" and st.error is None
    assert who_got_the_slot(st.trace) == f"{winner} got the slot"


def test_run_returns_what_happened_and_stops_at_the_next_call() -> None:
    """A step runs the chosen thread through the call it was at, up to the start of the next."""
    st = sockviz.stepper(race_scenario())
    first = st.run("server")
    assert first and {e.thread for e in first} == {"server"}
    assert first[-1].kind == "call" and first[-1].fields["op"] == "bind"
    assert st.next_steps()["server"] == "bind() to *:8080"
    second = st.run("server")
    assert [e for e in second if e.kind == "call"][-1].fields["op"] == "listen"
    assert st.trace.events[: len(first)] == first  # the re-run gives back the same start


def test_back_restores_the_exact_earlier_events() -> None:
    st = sockviz.stepper(race_scenario())
    _server_to_accept(st)
    st.run("ann")
    before, choices = _events(st.trace), st.choices
    st.run("ann")
    st.run("bob")
    assert len(st.trace) > len(before)
    st.back(2)
    assert _events(st.trace) == before and st.choices == choices
    assert st.runnable == ["ann", "bob"]
    with pytest.raises(ValueError, match="choice"):
        st.back(100)
    with pytest.raises(ValueError, match="positive number"):
        st.back(0)


def test_scripted_choices_replay_the_same_run() -> None:
    """weld(..., schedule=Scripted(st.choices)) gives the stepper's run, event for event -- a
    switch in the middle of a turn included."""
    st = sockviz.stepper(race_scenario(), semantics="weldr")
    _server_to_accept(st)
    st.run("bob")
    st.run("ann")  # bob is cut short at his connect(): ann goes first
    st.run("ann")
    st.finish()
    assert any(isinstance(choice, tuple) for choice in st.choices)
    replayed = sockviz.weld(
        race_scenario(), semantics="weldr", schedule=sockviz.Scripted(st.choices), echo=False
    )
    assert _events(replayed) == _events(st.trace)
    assert who_got_the_slot(replayed) == "ann got the slot"


def test_a_deadlock_reached_by_choice_is_the_outcome_with_welds_explanation() -> None:
    st = sockviz.stepper(deadlock_scenario())
    st.finish()
    assert st.done and st.outcome == "deadlock" and st.runnable == []
    assert isinstance(st.error, sockviz.DeadlockError) and st.error.cycle
    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld(deadlock_scenario(), schedule=sockviz.Scripted(st.choices), echo=False)
    assert str(info.value) == str(st.error)
    with pytest.raises(RuntimeError, match="the run is over \\(deadlock\\)"):
        st.run()


def test_a_server_left_alone_is_stuck_and_a_failure_is_an_error() -> None:
    st = sockviz.stepper(left_alone())
    st.finish()
    assert st.outcome == "stuck" and "no thread that could connect is left" in str(st.error)

    def broken() -> None:
        raise ValueError("oops")

    st = sockviz.stepper({"server": left_alone()["server"], "broken": broken})
    st.finish()
    assert st.outcome == "error" and isinstance(st.error, sockviz.ComponentError)


def test_a_thread_that_cannot_run_is_refused_with_the_runnable_ones() -> None:
    st = sockviz.stepper(race_scenario())
    _server_to_accept(st)
    with pytest.raises(ValueError, match=r"'server' cannot run now; the runnable threads are "
                       r"ann, bob \(server is blocked: accept\(\) on fd \d+ waits"):  # fmt: skip
        st.run("server")
    with pytest.raises(ValueError, match="'carol' is not a thread of this weld"):
        st.run("carol")
    st.random_step(seed=1)
    assert len(st.choices) >= 2


def test_a_scenario_function_starts_afresh_for_every_rerun() -> None:
    """State the components share is made again before every re-run: steps do not pile up."""
    made = []

    def scenario() -> dict:
        log: list[str] = []
        made.append(log)

        def one() -> None:
            log.append("one")
            socket.socket().close()

        def two() -> None:
            log.append("two")
            socket.socket().close()

        return {"one": one, "two": two}

    st = sockviz.stepper(scenario=scenario)
    st.run("two")
    st.run("one")
    assert len(made) == 3 and all(len(log) <= 2 for log in made)
    st.finish()
    assert st.outcome == "finished" and made[-1] == ["two", "one"]


def test_wrong_arguments() -> None:
    with pytest.raises(TypeError, match="makes its own schedule"):
        sockviz.stepper(race_scenario(), schedule=sockviz.Seeded(1))
    with pytest.raises(TypeError, match="needs components"):
        sockviz.stepper()
    with pytest.raises(TypeError, match="not both"):
        sockviz.stepper(race_scenario(), scenario=race_scenario)


def test_a_component_that_differs_between_runs_is_reported() -> None:
    """A run that cannot be repeated (a component keeps state between runs) is said so, not
    replayed wrongly."""
    runs = [0]

    def flaky() -> None:
        runs[0] += 1
        if runs[0] % 2 == 0:  # every other run only
            socket.socket().close()
            socket.socket().close()

    def other() -> None:
        socket.socket().close()

    st = sockviz.stepper(flaky, other)
    st.run("flaky")  # (this run: flaky makes its calls)
    with pytest.raises(RuntimeError, match="cannot be repeated"):
        st.run("flaky")  # (the next: it makes none)


def test_the_widgets_buttons_run_their_threads() -> None:
    """Driven from Python as a click would: a button per runnable thread saying what it will do,
    undo, random step, finish; a refused choice is said in the status line, not raised."""
    st = sockviz.stepper(race_scenario(), semantics="weldr")
    view = st.widget()

    def buttons() -> dict[str, object]:
        return {b.description.split(":")[0]: b for b in view.threads.children}

    assert [b.description for b in view.threads.children] == [
        "server: starts",
        "ann: starts",
        "bob: starts",
    ]
    assert view.undo.disabled and "Nothing has run yet" in view.narration.value
    while "server" in buttons():
        buttons()["server"].click()
    assert "server starts." in view.narration.value or "accept()" in view.narration.value
    buttons()["bob"].click()
    assert buttons()["bob"].description == "bob: connect() to 127.0.0.1:8080"
    buttons()["bob"].click()
    view.finish.click()
    assert st.done and "The run is over: finished." in view.status.value
    assert who_got_the_slot(st.trace) == "bob got the slot"
    assert bytes(view.picture.value).startswith(b"\x89PNG") and "<table" in view.panel.value
    assert view.random.disabled and view.finish.disabled and not view.undo.disabled
    view.undo.click()
    assert not st.done and "You choose who runs next" in view.status.value
    view.choose("nobody")  # a name that cannot run: said, not raised
    assert "&#x27;nobody&#x27; cannot run now" in view.status.value
    view.random.click()
    assert len(st.choices) >= 3


def counter_race() -> dict:
    """Two threads add one to a shared counter, reading and writing it with a time.sleep(0) in
    between -- the place a schedule (or a stepper) may switch threads."""
    import time

    state = {"n": 0}

    def add() -> None:
        seen = state["n"]
        time.sleep(0)
        state["n"] = seen + 1
        print("counter", state["n"])

    return {"a": add, "b": add}


def test_a_lost_update_is_provoked_by_hand_at_a_sleep() -> None:
    """The stepper stops a thread at a time.sleep too: letting b read between a's read and a's
    write loses an update (the counter ends at 1, not 2)."""
    st = sockviz.stepper(scenario=counter_race)
    st.run("a")  # a starts, reads, and stops at its sleep
    assert st.next_steps() == {"a": "sleep(0)", "b": "starts"}
    st.run("b")  # b reads the same value, and stops at its sleep
    st.finish()
    lines = [e.fields["line"] for e in st.trace.of_kind("output")]
    assert lines == ["counter 1", "counter 1"]
    assert lessons_counter(st) == 1
    honest = sockviz.stepper(scenario=counter_race)
    honest.run("a")
    honest.run("a")  # a goes on: its write, its print, its end
    honest.finish()
    assert lessons_counter(honest) == 2
    replayed = sockviz.weld(counter_race(), schedule=sockviz.Scripted(st.choices), echo=False)
    assert [e.fields["line"] for e in replayed.of_kind("output")] == lines


def lessons_counter(st: sockviz.Stepper) -> int:
    return max(int(e.fields["line"].split()[1]) for e in st.trace.of_kind("output"))
