"""`sockviz run`: unmodified scripts and modules as welded components, from the command line."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

import sockviz

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def run(*args: str, cwd: pathlib.Path = EXAMPLES) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sockviz", "run", *args], cwd=cwd, capture_output=True, text=True, timeout=90)


def test_two_scripts_with_their_own_arguments(tmp_path: pathlib.Path) -> None:
    """Each script runs as __main__ with its own sys.argv; lines are prefixed; the trace shows them meet."""
    out = tmp_path / "echo.jsonl"
    result = run("echo_server.py --port 9100", "echo_client.py --port 9100 hi there", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "[echo_server] listening on port 9100" in result.stdout
    assert "[echo_client] got back HI" in result.stdout and "[echo_client] got back THERE" in result.stdout
    trace = sockviz.load(out)
    (meeting,) = trace.meetings()
    assert (meeting.connect_thread, meeting.accept_thread) == ("echo_client", "echo_server")
    assert "meetings (1):" in result.stdout


def test_a_module_that_serves_for_ever_with_until(tmp_path: pathlib.Path) -> None:
    """`-m http.server 8000` runs as __main__ with its argv; --until ends the run when the client is done."""
    out = tmp_path / "http.jsonl"
    result = run("-m http.server 8123", "fetch.py http://server:8123/", "--until", "fetch", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "[fetch] 200 " in result.stdout and "Serving HTTP on 0.0.0.0 port 8123" in result.stdout
    trace = sockviz.load(out)
    assert {m.connect_thread for m in trace.meetings()} == {"fetch"}
    assert all(m.accept_thread.startswith("server") for m in trace.meetings())


def test_a_seeded_run_of_unmodified_scripts_repeats_exactly(tmp_path: pathlib.Path) -> None:
    """`sockviz run --seed N`: http.server and a client, one thread at a time, twice the same run."""
    traces = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.jsonl"
        # --weldr: the seed may start fetch before the server listens; weldr's connect() waits for it
        result = run("-m http.server 8124", "fetch.py http://server:8124/", "--until", "fetch", "--seed", "5", "--weldr", "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert "[fetch] 200 " in result.stdout
        traces.append(sockviz.load(out))
    assert traces[0].fingerprint() == traces[1].fingerprint()
    assert traces[0].meta["schedule"]["policy"] == "seeded"


def test_a_failing_script_is_reported_with_its_traceback(tmp_path: pathlib.Path) -> None:
    """A script that raises: its traceback under its name, exit status 1, the trace still written."""
    (tmp_path / "broken.py").write_text("import socket\nsocket.socket().connect(('nowhere.invalid', 1))\n")
    result = run("broken.py", "-o", str(tmp_path / "t.jsonl"), "--strict", cwd=tmp_path)
    assert result.returncode == 1
    assert "--- broken ---" in result.stderr and "gaierror" in result.stderr
    assert sockviz.load(tmp_path / "t.jsonl").threads == ["broken"]


def test_a_deadlock_ends_the_run_with_its_explanation(tmp_path: pathlib.Path) -> None:
    """Two scripts that both recv() first: the run ends at once, saying who waits for what."""
    (tmp_path / "a.py").write_text("import socket\nwith socket.create_server(('', 9200)) as l:\n    c, _ = l.accept()\n    c.recv(10)\n")
    (tmp_path / "b.py").write_text("import socket\nwith socket.create_connection(('a', 9200)) as s:\n    s.recv(10)\n")
    result = run("a.py", "b.py", "-o", str(tmp_path / "t.jsonl"), cwd=tmp_path)
    assert result.returncode == 1
    assert "deadlock" in result.stderr and "a: recv() on fd" in result.stderr and "b: recv() on fd" in result.stderr


@pytest.mark.parametrize(
    ("specs", "problem"),
    [
        (["missing.py"], "no such script: missing.py"),
        (["-m "], "needs a module name"),
        (["echo_client.py", "echo_client.py"], "the same name"),
        (["echo_client.py", "--until", "nobody"], "--until names no component: nobody"),
    ],
)
def test_bad_specs_are_clear_errors(specs: list[str], problem: str) -> None:
    """A missing script, a bare -m, two components of one name, an unknown --until: one line, exit 2."""
    result = run(*specs)
    assert result.returncode == 2 and problem in result.stderr
