"""Scheduled welds: one thread at a time, the same run for the same seed, logical time."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import sockviz
from sockviz._core._schedule import TICK_NS
from sockviz._weld._schedtime import EPOCH
from sockviz.scenarios import SCENARIOS, race_scenario, who_got_the_slot

from .scenarios import scenario_trace


def seeded(name: str, seed: int, **kwargs: Any) -> sockviz.Trace:
    return scenario_trace(name, schedule=sockviz.Seeded(seed), echo=False, **kwargs)


def steps(trace: sockviz.Trace) -> list[tuple[Any, ...]]:
    """What happened, timestamps included (a seeded run's clock is logical: they must match too)."""
    return [
        (
            e.seq,
            e.t_ns,
            e.thread,
            e.kind,
            e.obj,
            {k: v for k, v in e.fields.items() if k != "traceback"},
        )
        for e in trace.events
    ]


# -- the same seed, the same run ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("seed", [0, 7])
def test_the_same_seed_gives_the_same_events_for_every_demo_scenario(name: str, seed: int) -> None:
    first, second = seeded(name, seed), seeded(name, seed)
    assert len(first) > 20
    assert steps(first) == steps(second)
    assert first.fingerprint() == second.fingerprint()
    assert first.meta["schedule"] == {
        "policy": "seeded",
        "seed": seed,
        "clock": "logical",
        "tick_ns": TICK_NS,
    }
    assert f"schedule=Seeded({seed}), logical time" in first.summary().splitlines()[0]


def test_the_stdlib_http_scenario_serves_its_files_under_a_schedule() -> None:
    from sockviz import _realprograms

    components, results = _realprograms.http_scenario()
    trace = sockviz.weld(components, schedule=sockviz.Seeded(3))
    assert results["urllib"] == _realprograms.FILES["hello.txt"]
    assert results["http.client"] == _realprograms.FILES["data.bin"]
    assert "server/serve_forever" in trace.threads
    again, _ = _realprograms.http_scenario()
    assert sockviz.weld(again, schedule=sockviz.Seeded(3)).fingerprint() == trace.fingerprint()


_ELSEWHERE = """
import json, sys
import sockviz
from sockviz.scenarios import SCENARIOS
out = {}
for name in ("echo", "http", "race"):
    for seed in (1, 2):
        trace = sockviz.weld(SCENARIOS[name](), schedule=sockviz.Seeded(seed), echo=False)
        out[f"{name}/{seed}"] = trace.fingerprint()
print(json.dumps(out))
"""


def test_the_same_seed_gives_the_same_run_in_another_process_with_other_hash_seeds() -> None:
    """Nothing depends on the process: not string hashing, open descriptors or thread counters."""
    here = {
        f"{n}/{s}": seeded(n, s).fingerprint() for n in ("echo", "http", "race") for s in (1, 2)
    }
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", _ELSEWHERE],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert json.loads(done.stdout.splitlines()[-1]) == here


def test_different_seeds_reach_different_interleavings_of_the_handshake() -> None:
    def handshake(trace: sockviz.Trace) -> tuple[tuple[str, str], ...]:
        return tuple(
            (e.thread, e.fields["op"])
            for e in trace.of_kind("call")
            if e.fields["op"] in ("listen", "connect", "accept")
        )

    found = sockviz.explore(SCENARIOS["echo"], runs=20, outcome=handshake)
    orders = {outcome.label for outcome in found.outcomes}
    assert len(orders) >= 2, orders
    assert found.interleavings >= 2
    # e.g. one run has a client connect before the server listens, another after
    firsts = {order.index(("server", "listen")) for order in orders}  # type: ignore[union-attr]
    assert len(firsts) >= 2


# -- logical time -------------------------------------------------------------------------------


def test_each_event_is_one_tick_of_logical_time() -> None:
    trace = seeded("echo", 1)
    assert [e.t_ns for e in trace.events[:5]] == [TICK_NS * (i + 1) for i in range(5)]
    gaps = {b.t_ns - a.t_ns for a, b in zip(trace.events, trace.events[1:], strict=False)}
    assert gaps == {TICK_NS}  # echo never sleeps or times out


def test_sleep_advances_logical_time_without_taking_real_time() -> None:
    seen: dict[str, float] = {}

    def sleeper() -> None:
        before = time.monotonic()
        time.sleep(3600)
        seen["slept"] = time.monotonic() - before
        seen["time"] = time.time()
        seen["perf"] = time.perf_counter()

    started = time.perf_counter()
    trace = sockviz.weld(sleeper, schedule=sockviz.Seeded(0))
    assert time.perf_counter() - started < 2  # an hour of logical time
    assert seen["slept"] == pytest.approx(3600, abs=1e-3)
    assert seen["time"] == pytest.approx(EPOCH + 3600, abs=1e-3)
    assert trace.events[-1].t_ns >= 3600 * 10**9
    assert time.monotonic() > 0 and abs(time.time() - EPOCH) > 10**8  # the real clocks are back


def test_timeouts_are_measured_in_logical_time() -> None:
    def server() -> None:
        with socket.create_server(("", 9000)) as listener:
            listener.settimeout(5)
            try:
                listener.accept()
            except TimeoutError:
                print("accept timed out")

    started = time.perf_counter()
    trace = sockviz.weld(server, schedule=sockviz.Seeded(0), echo=False)
    assert time.perf_counter() - started < 2
    wait = next(w for w in trace.waits() if w.what == "accept")
    assert wait.outcome == "timeout"
    assert wait.end_ns - wait.start_ns == pytest.approx(5 * 10**9, abs=10 * TICK_NS)
    assert [e.fields["line"] for e in trace.of_kind("output")] == ["accept timed out"]


def test_a_sleeping_retry_loop_is_deterministic_in_strict_semantics() -> None:
    first = seeded("echo", 4, semantics="strict")
    assert first.of_kind("refused") or True  # whether a client was refused depends on the seed...
    assert steps(first) == steps(seeded("echo", 4, semantics="strict"))  # ...but not on the run


# -- deadlocks ----------------------------------------------------------------------------------


def test_a_deadlock_is_found_exactly_with_what_each_thread_waits_for() -> None:
    with pytest.raises(sockviz.DeadlockError) as caught:
        sockviz.weld(SCENARIOS["deadlock"](), schedule=sockviz.Seeded(2))
    assert set(caught.value.waits) == {"server", "client"}
    assert all("recv() on fd" in what for what in caught.value.waits.values())
    assert caught.value.trace is not None and caught.value.trace.of_kind("deadlock")


def test_a_deadlock_on_threading_events_names_the_call_and_line() -> None:
    first, second = threading.Event(), threading.Event()

    def ann() -> None:
        first.wait()
        second.set()

    def bob() -> None:
        second.wait()
        first.set()

    with pytest.raises(sockviz.DeadlockError) as caught:
        sockviz.weld(ann, bob, schedule=sockviz.Seeded(0), timeout=10)
    assert set(caught.value.waits) == {"ann", "bob"}
    assert all(
        what.startswith("Event.wait() at test_schedule.py:") for what in caught.value.waits.values()
    )


def test_timed_waits_are_not_a_deadlock_the_clock_jumps() -> None:
    gate = threading.Event()

    def patient() -> None:
        assert not gate.wait(10)  # nobody sets it: it times out after 10 logical seconds
        print("gave up")

    trace = sockviz.weld(patient, schedule=sockviz.Seeded(0))
    assert trace.events[-1].t_ns > 10 * 10**9
    assert [e.fields["line"] for e in trace.of_kind("output")] == ["gave up"]


# -- threading under a schedule -----------------------------------------------------------------


def test_threading_locks_queues_and_joins_work_and_repeat() -> None:
    def scenario() -> dict[str, Callable[[], None]]:
        lock = threading.Lock()
        counter = [0]

        def main() -> None:
            work: queue.Queue[int] = queue.Queue(maxsize=2)
            results: list[int] = []

            def producer() -> None:
                for i in range(6):
                    work.put(i)
                work.put(-1)

            def consumer() -> None:
                while (item := work.get()) >= 0:
                    with lock:
                        counter[0] += 1
                    results.append(item * item)

            threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(results, counter[0])

        return {"main": main}

    runs = [
        sockviz.weld(scenario(), schedule=sockviz.Seeded(seed), echo=False) for seed in (1, 1, 2)
    ]
    lines = [[e.fields["line"] for e in run.of_kind("output")] for run in runs]
    assert lines[0] == ["[0, 1, 4, 9, 16, 25] 6"] == lines[2]
    assert steps(runs[0]) == steps(runs[1])
    # children of a component are numbered per weld, not per process
    assert runs[0].threads[:3] == ["main", "main/Thread-1 (producer)", "main/Thread-2 (consumer)"]


def test_select_waits_for_a_fake_socket_under_a_schedule() -> None:
    import select

    def server() -> None:
        with socket.create_server(("", 9100)) as listener:
            readable, _, _ = select.select([listener], [], [], 30)
            assert readable == [listener]
            conn, _ = listener.accept()
            with conn:
                print(conn.recv(10))

    def client() -> None:
        time.sleep(5)  # 5 logical seconds: select() must wait, not spin or block for real
        with socket.create_connection(("server", 9100)) as sock:
            sock.sendall(b"hi")

    trace = sockviz.weld(server, client, schedule=sockviz.Seeded(1), echo=False)
    assert [e.fields["line"] for e in trace.of_kind("output")] == ["b'hi'"]
    assert trace.events[-1].t_ns > 5 * 10**9


def test_scheduled_sockets_are_numbered_from_100() -> None:
    trace = seeded("echo", 0)
    assert min(life.fd for life in trace.sockets()) == 100


def test_the_patches_are_gone_after_a_scheduled_weld() -> None:
    """time, threading (a class on 3.13, a function before), selectors: each back as it was."""
    lock_type = threading.Lock
    seeded("echo", 0)
    assert threading.Lock is lock_type
    assert time.sleep is sockviz._weld._schedtime._real_sleep  # type: ignore[attr-defined]
    assert time.monotonic is sockviz._weld._schedtime._real_monotonic  # type: ignore[attr-defined]
    assert "select" not in vars(__import__("selectors").PollSelector)
    lock = threading.Lock()
    assert type(lock).__module__ == "_thread"


# -- blocked outside ----------------------------------------------------------------------------


def test_a_thread_blocked_outside_the_network_is_reported_not_a_hang() -> None:
    read_end, write_end = os.pipe()

    def reader() -> None:
        os.read(read_end, 1)  # a real pipe: the schedule cannot see it

    def server() -> None:
        with socket.create_server(("", 9200)) as listener:
            listener.accept()

    started = time.perf_counter()
    try:
        with pytest.raises(sockviz.ExternalBlockError) as caught:
            sockviz.weld(reader, server, schedule=sockviz.Scripted(["reader"]), timeout=20)
    finally:
        os.write(write_end, b"x")
        os.close(write_end)
    assert time.perf_counter() - started < 6
    error = caught.value
    assert error.thread == "reader"
    assert "test_schedule.py" in error.where and "os.read(read_end, 1)" in error.where
    assert "blocked outside the fake network" in str(error)
    assert error.trace is not None
    outside = error.trace.of_kind("outside")
    assert len(outside) == 1 and outside[0].thread == "reader"
    assert "blocked outside" in error.trace.narrate(error.trace.events.index(outside[0]))
    server_exit = [e for e in error.trace.of_kind("thread.exit") if e.thread == "server"]
    assert server_exit and "stopped" in server_exit[0].fields["reason"]


@pytest.mark.parametrize("schedule", [None, sockviz.Seeded(0)])
def test_a_real_socket_made_before_the_weld_is_refused_to_welded_code(
    schedule: sockviz.Seeded | None,
) -> None:
    """A real socket (an earlier cell's) would reach the real network: welded code gets a clear
    error instead."""
    real, other = socket.socketpair()  # real sockets: made by a thread that is not welded

    def listener() -> None:
        real.recv(1)

    try:
        with pytest.raises(sockviz.ComponentError) as caught:
            sockviz.weld(listener, schedule=schedule, timeout=20)
        [error] = caught.value.exceptions
        assert str(error).startswith(
            "listener called recv() on a real socket, made outside the weld"
        )
        other.sendall(b"x")
        assert real.recv(1) == b"x"  # outside the weld it is an ordinary socket again
    finally:
        real.close()
        other.close()


def test_a_thread_busy_computing_is_not_mistaken_for_blocked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sockviz._weld._outside, "OUTSIDE_AFTER", 0.1)  # type: ignore[attr-defined]

    def busy() -> None:
        total = 0
        for i in range(8_000_000):  # about half a second of pure Python: five times the limit
            total += i
        print(total > 0, True)

    trace = sockviz.weld(busy, schedule=sockviz.Seeded(0), echo=False, timeout=60)
    assert [e.fields["line"] for e in trace.of_kind("output")] == ["True True"]
    assert not trace.of_kind("outside")


# -- Scripted -----------------------------------------------------------------------------------


def client_server(port: int) -> dict[str, Callable[[], None]]:
    def server() -> None:
        with socket.create_server(("", port)) as listener:
            conn, _ = listener.accept()
            conn.close()

    def client() -> None:
        try:
            socket.create_connection(("server", port)).close()
            print("connected")
        except ConnectionRefusedError:
            print("refused: nobody listened yet")

    return {"server": server, "client": client}


def test_scripted_client_first_is_refused_in_strict_semantics() -> None:
    with pytest.raises(sockviz.DeadlockError):  # ...and the server then waits for ever
        sockviz.weld(
            client_server(9300),
            schedule=sockviz.Scripted(["client", "server"]),
            semantics="strict",
            echo=False,
        )
    trace = sockviz.weld(
        client_server(9301),
        schedule=sockviz.Scripted(["server", "client"]),
        semantics="strict",
        echo=False,
    )
    assert [e.fields["line"] for e in trace.of_kind("output")] == ["connected"]
    calls = [(e.thread, e.fields["op"]) for e in trace.of_kind("call")]
    assert calls.index(("server", "listen")) < calls.index(("client", "connect"))


def test_scripted_client_first_connects_before_listen_in_weldr_semantics() -> None:
    trace = sockviz.weld(
        client_server(9302), schedule=sockviz.Scripted(["client"]), semantics="weldr", echo=False
    )
    calls = [(e.thread, e.fields["op"]) for e in trace.of_kind("call")]
    first_server_call = next(i for i, (thread, _) in enumerate(calls) if thread == "server")
    # the client ran first, until connect() had to wait
    assert ("client", "connect") in calls[:first_server_call]
    assert calls.index(("client", "connect")) < calls.index(("server", "listen"))
    (meeting,) = trace.meetings()
    assert meeting.first == "connect"  # the connect() side arrived first


def test_scripted_with_a_policy_function_sees_each_choice() -> None:
    choices: list[sockviz.Choice] = []

    def last_started(choice: sockviz.Choice) -> str:
        choices.append(choice)
        return choice.runnable[-1]

    trace = sockviz.weld(
        client_server(9303), schedule=sockviz.Scripted(last_started), semantics="weldr", echo=False
    )
    assert choices and all(isinstance(c.runnable, tuple) and len(c.runnable) >= 2 for c in choices)
    assert trace.events[1].thread == "client"  # started last, chosen first
    assert trace.meta["schedule"]["policy"] == "scripted"


def test_a_policy_that_names_a_thread_that_cannot_run_fails_clearly() -> None:
    with pytest.raises(
        ValueError, match="chose 'nobody', which cannot run now; runnable: server, client"
    ):
        sockviz.weld(
            client_server(9304), schedule=sockviz.Scripted(lambda choice: "nobody"), echo=False
        )


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: sockviz.Seeded("7"), TypeError, "Seeded\\(\\) takes an int seed"),
        (lambda: sockviz.Seeded(True), TypeError, "Seeded\\(\\) takes an int seed"),
        (lambda: sockviz.Scripted("client"), TypeError, "list of thread names or a function"),
        (lambda: sockviz.Scripted([1, 2]), TypeError, "list of thread names or a function"),
        (
            lambda: sockviz.weld(lambda: None, schedule=7),
            TypeError,
            "schedule must be sockviz.Seeded",
        ),
        (
            lambda: sockviz.weld(client_server(9305), schedule=sockviz.Scripted(["clinet"])),
            ValueError,
            "Scripted names 'clinet', which is not a component of this weld \\(server, client\\)",
        ),
    ],
)
def test_bad_schedules_are_refused(
    make: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make()


# -- explore ------------------------------------------------------------------------------------


def test_explore_shows_both_winners_of_the_race() -> None:
    # no client comes too early
    found = sockviz.explore(race_scenario, runs=20, outcome=who_got_the_slot, semantics="weldr")
    names = {o.label for o in found.outcomes}
    assert names == {"ann got the slot", "bob got the slot"}
    assert sum(o.count for o in found.outcomes) == 20 == len(found.runs)
    assert sum(o.share for o in found.outcomes) == pytest.approx(1)
    assert found.outcomes[0].count >= found.outcomes[1].count
    for o in found.outcomes:  # each outcome's trace really is one of its runs
        assert who_got_the_slot(o.trace) == o.label
        assert o.trace.fingerprint() in {r.fingerprint for r in found.runs if r.seed in o.seeds}
    seed = found.outcomes[1].seeds[-1]
    assert found.trace(seed).fingerprint() == next(
        r.fingerprint for r in found.runs if r.seed == seed
    )
    text = str(found)
    assert "20 runs, 2 outcome(s)" in text and "finished: ann got the slot" in text
    assert "<table>" in found._repr_html_()
    assert [row["runs"] for row in found.table()] == [o.count for o in found.outcomes]


def test_explore_groups_errors_with_what_they_left() -> None:
    """Strict semantics, clients that do not retry: refused ones fail; if both are, the server waits
    for ever, and the outcome says both."""

    def scenario() -> dict[str, Callable[[], None]]:
        def server() -> None:
            with socket.create_server(("", 9400), backlog=0) as listener:
                conn, _ = listener.accept()
                conn.close()

        def client() -> None:
            socket.create_connection(("server", 9400)).close()

        return {"server": server, "ann": client, "bob": client}

    found = sockviz.explore(scenario, seeds=range(20), semantics="strict")
    errors = {o.detail for o in found.outcomes if o.status == "error"}
    both = "ann: ConnectionRefusedError; bob: ConnectionRefusedError"
    left = "then stuck: server in accept() waits for a client to connect to 0.0.0.0:9400"
    # both refused: the server is left waiting for ever
    assert f"{both}; {left}" in errors, str(found)
    assert errors <= {
        "ann: ConnectionRefusedError",
        "bob: ConnectionRefusedError",
        f"{both}; {left}",
    }
    assert all(isinstance(o.trace, sockviz.Trace) and len(o.trace) for o in found.outcomes)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"runs": 0}, ValueError, "runs must be a positive number"),
        ({"runs": 3, "seeds": [1]}, TypeError, "runs= or seeds=, not both"),
        ({"seeds": []}, ValueError, "non-empty list of ints"),
        ({"seeds": [1.5]}, ValueError, "non-empty list of ints"),
    ],
)
def test_explore_refuses_bad_runs_and_seeds(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        sockviz.explore(SCENARIOS["echo"], **kwargs)


def test_explore_says_what_a_scenario_must_be() -> None:
    with pytest.raises(
        TypeError, match="pass a mapping \\{name: component\\}, or a function returning one"
    ):
        sockviz.explore(lambda: None, runs=1)
    with pytest.raises(TypeError, match="takes a mapping"):
        sockviz.explore(42, runs=1)  # type: ignore[arg-type]


def test_the_replay_widget_opens_any_outcome() -> None:
    import ipywidgets

    found = sockviz.explore(race_scenario, runs=12, outcome=who_got_the_slot, semantics="weldr")
    box = found.replay()
    menu, first = box.children
    assert isinstance(menu, ipywidgets.Dropdown) and len(menu.options) == len(found.outcomes) == 2
    assert first.trace is found.outcomes[0].trace
    menu.value = 1
    assert box.children[1].trace is found.outcomes[1].trace
    single = found.replay(1)
    assert single.trace is found.outcomes[1].trace
    via_replay = sockviz.replay(found)  # the replay function opens explore's results too
    assert via_replay.children[1].trace is found.outcomes[0].trace
    single.step(5)
    assert single.index == 5


# -- many interleavings, always correct -----------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def echo_world(
    messages: list[list[int]], read_size: int
) -> tuple[dict[str, Callable[[], None]], dict[str, bytes]]:
    """A thread-per-client echo server and clients sending messages of the given sizes."""
    got: dict[str, bytes] = {}

    def server() -> None:
        def handle(conn: socket.socket) -> None:
            with conn:
                while data := conn.recv(read_size):
                    conn.sendall(data)

        with socket.create_server(("", 9500), backlog=len(messages)) as listener:
            handlers = []
            for _ in messages:
                conn, _ = listener.accept()
                handlers.append(threading.Thread(target=handle, args=(conn,)))
                handlers[-1].start()
            for handler in handlers:
                handler.join()

    def client(name: str, sizes: list[int]) -> Callable[[], None]:
        def run() -> None:
            received = b""
            with sockviz.scenarios.connect_with_retry(("server", 9500)) as sock:  # type: ignore[attr-defined]
                for number, size in enumerate(sizes):
                    payload = bytes([number % 256]) * size
                    sock.sendall(payload)
                    while len(received) < sum(sizes[: number + 1]):
                        received += sock.recv(read_size)
            got[name] = received

        return run

    components: dict[str, Callable[[], None]] = {"server": server}
    for i, sizes in enumerate(messages):
        components[f"c{i}"] = client(f"c{i}", sizes)
    return components, got


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    world=st.sampled_from([7, 100, 1024, 65536]).flatmap(
        # a message no bigger than a buffer: echoing it back never needs the client to read while it
        # sends
        lambda size: st.tuples(
            st.just(size),
            st.lists(
                st.lists(st.integers(1, min(size, 3000)), min_size=1, max_size=3),
                min_size=1,
                max_size=3,
            ),
        )
    ),
    read_size=st.integers(1, 2048),
    semantics=st.sampled_from(["weldr", "strict"]),
    seed=st.integers(0, 2**32),
)
def test_any_seed_moves_every_byte_and_repeats_exactly(
    world: tuple[int, list[list[int]]], read_size: int, semantics: str, seed: int
) -> None:
    buffer_size, messages = world
    runs = []
    for _ in range(2):
        components, got = echo_world(messages, read_size)
        trace = sockviz.weld(
            components,
            schedule=sockviz.Seeded(seed),
            semantics=semantics,
            buffer_size=buffer_size,
            echo=False,
        )
        expected = {
            f"c{i}": b"".join(bytes([n % 256]) * size for n, size in enumerate(sizes))
            for i, sizes in enumerate(messages)
        }
        assert got == expected
        runs.append(trace)
    assert steps(runs[0]) == steps(runs[1])


def test_the_watch_tells_a_sleeping_thread_from_a_running_one() -> None:
    """The kernel's own view (/proc): the thread asking is running; one asleep on a lock is not."""
    from sockviz._core._schedule import Scheduler
    from sockviz._weld._outside import _runnable_now

    me = Scheduler(sockviz.Seeded(0)).register("me")
    me.native_id = threading.get_native_id()
    assert _runnable_now(me)
    gate = threading.Lock()
    gate.acquire()
    sleeper_ids: list[int] = []

    def sleeper() -> None:
        sleeper_ids.append(threading.get_native_id())
        gate.acquire()

    thread = threading.Thread(target=sleeper)
    thread.start()
    while not sleeper_ids:
        time.sleep(0.001)
    time.sleep(0.05)
    asleep = Scheduler(sockviz.Seeded(0)).register("asleep")
    asleep.native_id = sleeper_ids[0]
    try:
        assert not _runnable_now(asleep)
    finally:
        gate.release()
        thread.join()


def test_a_thread_blocked_inside_an_installed_package_is_named_by_its_own_line() -> None:
    """Blocked deep in a third-party package (as a Jupyter kernel's input() blocks in ipykernel and
    zmq): the error names the student's line, not the package's internals."""
    zmq = pytest.importorskip("zmq")
    from sockviz._net import _wrap

    context = zmq.Context()
    pull = context.socket(zmq.PULL)
    pull.bind("inproc://nobody-sends")

    def reader() -> None:
        pull.recv()  # the student's line

    try:
        with pytest.raises(sockviz.ExternalBlockError) as caught:
            sockviz.weld(reader, schedule=sockviz.Seeded(0), timeout=20)
        assert "test_schedule.py" in caught.value.where and "pull.recv()" in caught.value.where
    finally:
        push = context.socket(zmq.PUSH)  # let the reader go: it ends, and the patches go with it
        push.connect("inproc://nobody-sends")
        push.send(b"bye")
        deadline = time.monotonic() + 5
        while _wrap._originals and time.monotonic() < deadline:
            time.sleep(0.02)
        push.close()
        pull.close(linger=0)
        context.term()
    assert not _wrap._originals
