"""The command line: ``sockviz demo`` and friends, and lazy imports."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import time

import pytest

import sockviz
from sockviz._cli._main import main


def test_demo_prints_the_timeline_and_writes_a_loadable_trace(
    tmp_path: pathlib.Path, capsys
) -> None:
    """`sockviz demo` prints the echo run's timeline and writes its trace file."""
    out_file = tmp_path / "demo.jsonl"
    assert main(["demo", "-o", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "alice got back 'hello'" in out and "MEET alice (connect" in out
    assert "2 connect/accept meetings" in out
    trace = sockviz.load(out_file)
    assert len(trace.of_kind("meet")) == 2


def test_python_dash_m_runs_the_cli(tmp_path: pathlib.Path) -> None:
    """`python -m sockviz demo --strict` works from a fresh process."""
    result = subprocess.run(
        [sys.executable, "-m", "sockviz", "demo", "--strict", "-o", "t.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "semantics=strict" in result.stdout
    assert (tmp_path / "t.jsonl").exists()


def test_no_command_prints_help(capsys) -> None:
    """Without a command the CLI shows its help and exits 2."""
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


#: What ``import sockviz`` and a weld leave unimported (each costs import time a weld does not
#: need: the views, the explorer's processes and pickling, progress bars, the file formats)
_NOT_FOR_A_WELD = (
    "matplotlib", "ipywidgets", "concurrent.futures.process", "multiprocessing", "cloudpickle",
    "tqdm",
    "msgspec", "sockviz._weld._explore", "sockviz._weld._stepper", "sockviz.lowlevel",
)  # fmt: skip


def test_import_and_weld_do_not_import_matplotlib_or_ipywidgets() -> None:
    """`import sockviz` and a whole weld leave matplotlib, ipywidgets and what only explore,
    the stepper or a trace file needs unimported."""
    code = (
        "import sys, sockviz; from sockviz.scenarios import echo_scenario; "
        f"sockviz.weld(echo_scenario()); print(sorted(m for m in {_NOT_FOR_A_WELD!r} if m "
        "in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_strict_demo_clients_retry_until_the_server_listens() -> None:
    """In strict semantics a client that comes first is refused; the demo's clients retry and
    succeed."""
    import time

    from sockviz.scenarios import echo_scenario

    scenario = echo_scenario()
    server = scenario["server"]

    def late_server() -> None:
        time.sleep(0.05)
        server()

    trace = sockviz.weld({**scenario, "server": late_server}, semantics="strict", stagger=False)
    assert trace.of_kind("refused")  # the clients were refused at first ...
    assert len(trace.of_kind("meet")) == 2  # ... and met the server in the end


def test_demo_with_a_seed_writes_the_same_trace_every_time(tmp_path: pathlib.Path, capsys) -> None:
    """`sockviz demo --seed N` is a lecture demo that never changes."""
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["demo", "--seed", "4", "-o", str(first)]) == 0
    assert main(["demo", "--seed", "4", "-o", str(second)]) == 0
    a, b = sockviz.load(first), sockviz.load(second)
    assert a.fingerprint() == b.fingerprint()
    assert [e.t_ns for e in a] == [e.t_ns for e in b]
    assert a.meta["schedule"]["seed"] == 4
    assert (tmp_path / "a.png").stat().st_size > 10_000
    assert "Seeded(4)" not in capsys.readouterr().err


def test_explore_prints_the_outcomes_and_writes_their_traces(
    tmp_path: pathlib.Path, capsys
) -> None:
    """`sockviz explore --scenario race` counts who got the slot and saves one trace per outcome."""
    assert (
        main(
            [
                "explore",
                "--scenario",
                "race",
                "--runs",
                "12",
                "--weldr",
                "-o",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("12 runs, 2 outcome(s)")
    assert "finished: ann got the slot" in out and "finished: bob got the slot" in out
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 2
    assert {sockviz.scenarios.who_got_the_slot(sockviz.load(f)) for f in files} == {
        "ann got the slot",
        "bob got the slot",
    }


def test_explore_refuses_a_bad_number_of_runs(capsys) -> None:
    assert main(["explore", "--runs", "0"]) == 2
    assert "runs must be a positive number of runs" in capsys.readouterr().err


def test_ctrl_c_in_a_long_exploration_is_a_clean_exit(tmp_path: pathlib.Path) -> None:
    """Ctrl-C during `sockviz explore`: one line saying so and exit status 130, no traceback."""
    command = [sys.executable, "-m", "sockviz", "explore", "--runs", "1000000", "-o", str(tmp_path)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as running:
        time.sleep(3)
        running.send_signal(signal.SIGINT)
        try:
            _, stderr = running.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            running.kill()
            pytest.fail(
                f"still exploring 10 s after Ctrl-C; it printed: {running.communicate()[1]}"
            )
    assert running.returncode == 130
    assert stderr.strip() == "sockviz explore: interrupted (Ctrl-C)"
