"""explore() on several processes, on a dask cluster, and from a notebook cell: the same
exploration as a serial one, run for run; clear errors; Ctrl-C stops the workers."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

import sockviz
from sockviz import scenarios

from .test_kernel import Kernel

pytestmark = pytest.mark.slow


def same(serial: sockviz.Exploration, farmed: sockviz.Exploration) -> None:
    """Two explorations found the same: the table, every run, each outcome's trace and
    schedules."""
    assert farmed.table() == serial.table()
    assert [run.__dict__ for run in farmed.runs] == [run.__dict__ for run in serial.runs]
    assert farmed.complete == serial.complete
    for mine, theirs in zip(serial.outcomes, farmed.outcomes, strict=True):
        assert theirs.trace.events == mine.trace.events
        assert theirs.schedules == mine.schedules


def race_explored(**options: Any) -> sockviz.Exploration:
    return sockviz.explore(
        scenarios.race_scenario, outcome=scenarios.who_got_the_slot, progress=False, **options
    )


def test_two_workers_find_what_one_finds_seed_for_seed() -> None:
    serial = race_explored(runs=60)
    farmed = race_explored(runs=60, workers=2)
    same(serial, farmed)
    assert {o.name.split(" (")[0] for o in farmed} == {
        "finished: ann got the slot",
        "finished: bob got the slot",
        "stuck: nobody",
    }
    # a run can be had again in this process, from its seed
    seed = farmed.outcomes[1].seeds[0]
    assert farmed.trace(seed).fingerprint() == farmed.runs[seed].fingerprint


@pytest.mark.parametrize("options", [{}, {"preemptions": 1}, {"preemptions": 1, "max_runs": 40}])
def test_an_exhaustive_search_split_in_subtrees_finds_every_schedule_in_order(
    options: dict[str, Any],
) -> None:
    serial = race_explored(exhaustive=True, **options)
    farmed = race_explored(exhaustive=True, workers=2, **options)
    same(serial, farmed)
    assert farmed.complete is ("max_runs" not in options)


def test_the_callers_executor_runs_the_exploration_and_stays_open() -> None:
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        farmed = race_explored(runs=30, executor=pool)
        same(race_explored(runs=30), farmed)
        assert pool.submit(sum, [1, 2]).result() == 3  # (not shut down by explore)


def test_a_scenario_that_cannot_be_pickled_says_what_to_do() -> None:
    shared = threading.Lock()

    def holder() -> None:
        with shared:
            pass

    with pytest.raises(TypeError, match=r"cannot be pickled.*_thread.lock.*workers=1"):
        sockviz.explore({"holder": holder}, runs=4, workers=2, progress=False)
    # the same scenario explores serially
    assert sockviz.explore({"holder": holder}, runs=2, progress=False).runs[0].status == "finished"


@pytest.mark.parametrize("workers", [0, -2, True, 1.5, "2"])
def test_workers_must_be_a_positive_number(workers: object) -> None:
    with pytest.raises(ValueError, match="workers must be a positive number of processes"):
        sockviz.explore(scenarios.race_scenario, runs=2, workers=workers)  # type: ignore[arg-type]


def test_an_executor_must_have_submit() -> None:
    with pytest.raises(TypeError, match=r"executor must be a concurrent\.futures\.Executor"):
        sockviz.explore(scenarios.race_scenario, runs=2, executor="dask")  # type: ignore[arg-type]


def test_an_outcome_function_that_fails_in_a_worker_fails_the_exploration() -> None:
    def broken(trace: sockviz.Trace) -> str:
        return str(1 / 0)

    with pytest.raises(ZeroDivisionError):
        sockviz.explore(scenarios.race_scenario, runs=6, outcome=broken, workers=2, progress=False)


def _echo_made_here() -> dict[str, Any]:
    """Components defined inside a function, as in a notebook cell: pickled by value."""

    def server() -> None:
        with socket.create_server(("", 9000)) as listener:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(conn.recv(100).upper())

    def client() -> None:
        with socket.create_connection(("server", 9000)) as sock:
            sock.sendall(b"hi")
            assert sock.recv(100) == b"HI"

    return {"server": server, "client": client}


def test_an_exploration_runs_on_a_dask_cluster_of_two_processes() -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        farmed = sockviz.explore(
            _echo_made_here, runs=16, executor=client.get_executor(), progress=False
        )
        searched = sockviz.explore(
            scenarios.race_scenario,
            exhaustive=True,
            outcome=scenarios.who_got_the_slot,
            executor=client.get_executor(),
            progress=False,
        )
    same(sockviz.explore(_echo_made_here, runs=16, progress=False), farmed)
    # (under some seeds the client comes first and is refused, as on Linux)
    assert sorted(o.name.split(";")[0] for o in farmed) == [
        "error (client: ConnectionRefusedError",
        "finished",
    ]
    same(race_explored(exhaustive=True), searched)


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        yield Kernel(manager, client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


_CELL = """
import socket, sockviz

def server():
    with socket.create_server(("", 8080)) as listener:
        for _ in range(2):
            conn, _ = listener.accept()
            conn.sendall(b"slot" if not taken else b"full")
            taken.append(1)
            conn.close()

def make():
    taken.clear()
    return {"server": server, "ann": lambda: grab("ann"), "bob": lambda: grab("bob")}

def grab(name):
    with socket.create_connection(("server", 8080)) as sock:
        got = sock.recv(10)
    print(name, got)

def first(trace):
    return next((e.get("line").split()[0] for e in trace if e.kind == "output"
                 and "slot" in e.get("line")), None)

taken = []
"""


def test_functions_written_in_a_notebook_cell_explore_on_two_workers(kernel: Kernel) -> None:
    assert kernel.run(_CELL).error is None
    cell = kernel.run(
        "one = sockviz.explore(make, runs=24, outcome=first, progress=False)\n"
        "two = sockviz.explore(make, runs=24, outcome=first, workers=2, progress=False)\n"
        "print(one.table() == two.table(), {'ann', 'bob'} <= {o.label for o in two})",
        timeout=120,
    )
    assert cell.error is None, cell.error
    assert cell.text.split("\n")[0] == "True True"


def test_ctrl_c_stops_a_farmed_exploration_and_its_workers(kernel: Kernel) -> None:
    assert kernel.run(_CELL).error is None
    cell = kernel.run(
        "sockviz.explore(make, runs=200_000, workers=2, progress=False)",
        interrupt_after=(4.0,),
        timeout=60,
    )
    assert cell.error is not None and cell.error.startswith("KeyboardInterrupt"), cell.error
    assert cell.seconds < 15
    left = kernel.run(
        "import multiprocessing, time\ntime.sleep(1)\nprint(len(multiprocessing.active_children()))"
    )
    assert left.text.strip() == "0"


def test_a_progress_bar_counts_the_runs_in_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    sockviz.explore(scenarios.race_scenario, runs=12, progress=True)
    shown = capsys.readouterr().err
    assert "tqdm_monitor" not in [thread.name for thread in threading.enumerate()]
    assert shown.lstrip("\r").startswith("explore: ") and "12/12 [" in shown and " runs/s" in shown
    sockviz.explore(scenarios.race_scenario, runs=12, progress=False)
    sockviz.explore(scenarios.race_scenario, runs=12)  # (None: only after a second)
    assert capsys.readouterr().err == ""


def test_progress_must_be_true_false_or_none() -> None:
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        sockviz.explore(scenarios.race_scenario, runs=2, progress="yes")  # type: ignore[arg-type]


def test_a_progress_bar_is_a_widget_in_a_notebook(kernel: Kernel) -> None:
    assert kernel.run(_CELL).error is None
    cell = kernel.run("found = sockviz.explore(make, runs=10, progress=True)")
    assert cell.error is None, cell.error
    shown = [m["content"]["data"] for m in cell.messages if m["msg_type"] == "display_data"]
    assert any("application/vnd.jupyter.widget-view+json" in data for data in shown), shown


def test_a_weld_shows_the_events_recorded_so_far(capsys: pytest.CaptureFixture[str]) -> None:
    trace = sockviz.weld(*scenarios.echo_scenario().items(), progress=True, echo=False)
    shown = capsys.readouterr().err
    assert shown.lstrip("\r").startswith("weld: ") and f"{len(trace)} events [" in shown, shown
    sockviz.weld(*scenarios.echo_scenario().items(), echo=False)  # (None: only after a second)
    assert capsys.readouterr().err == ""


def test_the_command_line_explores_on_two_workers(capsys: pytest.CaptureFixture[str]) -> None:
    from sockviz._cli._main import main

    assert main(["explore", "--scenario", "race", "--runs", "40"]) == 0
    serial = capsys.readouterr().out
    assert main(["explore", "--scenario", "race", "--runs", "40", "--workers", "2"]) == 0
    assert capsys.readouterr().out == serial
    assert main(["explore", "--workers", "0"]) == 2
    assert "workers must be a positive number of processes" in capsys.readouterr().err


def test_a_pickled_trace_is_the_same_trace_without_its_caches() -> None:
    import pickle

    trace = sockviz.weld(*scenarios.echo_scenario().items(), echo=False)
    trace.waits()
    trace.fingerprint()
    copy = pickle.loads(pickle.dumps(trace))
    assert copy.events == trace.events and copy.meta == trace.meta
    assert copy.fingerprint() == trace.fingerprint()
    assert copy.summary() == trace.summary()
    assert len(pickle.dumps(trace)) < 2 * len(pickle.dumps(trace._raw))
