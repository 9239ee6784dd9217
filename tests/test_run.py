"""`sockviz run`: unmodified scripts and modules as welded components, from the command line."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import time

import pytest

import sockviz

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def run(*args: str, cwd: pathlib.Path = EXAMPLES) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sockviz", "run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_two_scripts_with_their_own_arguments(tmp_path: pathlib.Path) -> None:
    """Each script runs as __main__ with its own sys.argv; lines are prefixed; the trace shows them
    meet."""
    out = tmp_path / "echo.jsonl"
    result = run(
        "echo_server.py --port 9100", "echo_client.py --port 9100 hi there", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "[echo_server] listening on port 9100" in result.stdout
    assert (
        "[echo_client] got back HI" in result.stdout
        and "[echo_client] got back THERE" in result.stdout
    )
    trace = sockviz.load(out)
    (meeting,) = trace.meetings()
    assert (meeting.connect_thread, meeting.accept_thread) == ("echo_client", "echo_server")
    assert "meetings (1):" in result.stdout


def test_a_module_that_serves_for_ever_with_until(tmp_path: pathlib.Path) -> None:
    """`-m http.server 8000` runs as __main__ with its argv; --until ends the run when the client is
    done."""
    out = tmp_path / "http.jsonl"
    result = run(
        "-m http.server 8123", "fetch.py http://server:8123/", "--until", "fetch", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "[fetch] 200 " in result.stdout and "Serving HTTP on 0.0.0.0 port 8123" in result.stdout
    trace = sockviz.load(out)
    assert {m.connect_thread for m in trace.meetings()} == {"fetch"}
    assert all(m.accept_thread.startswith("server") for m in trace.meetings())


def test_a_seeded_run_of_unmodified_scripts_repeats_exactly(tmp_path: pathlib.Path) -> None:
    """`sockviz run --seed N`: http.server and a client, one thread at a time, twice the same
    run."""
    traces = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.jsonl"
        # --weldr: the seed may start fetch before the server listens; weldr's connect() waits for
        # it
        result = run(
            "-m http.server 8124",
            "fetch.py http://server:8124/",
            "--until",
            "fetch",
            "--seed",
            "5",
            "--weldr",
            "-o",
            str(out),
        )
        assert result.returncode == 0, result.stderr
        assert "[fetch] 200 " in result.stdout
        traces.append(sockviz.load(out))
    assert traces[0].fingerprint() == traces[1].fingerprint()
    assert traces[0].meta["schedule"]["policy"] == "seeded"


def test_a_failing_script_is_reported_with_its_traceback(tmp_path: pathlib.Path) -> None:
    """A script that raises: its traceback under its name, exit status 1, the trace still
    written."""
    (tmp_path / "broken.py").write_text(
        "import socket\nsocket.socket().connect(('nowhere.invalid', 1))\n"
    )
    result = run("broken.py", "-o", str(tmp_path / "t.jsonl"), "--strict", cwd=tmp_path)
    assert result.returncode == 1
    assert "--- broken ---" in result.stderr and "gaierror" in result.stderr
    assert sockviz.load(tmp_path / "t.jsonl").threads == ["broken"]


def test_ctrl_c_ends_the_run_with_its_summary_and_the_trace_written(tmp_path: pathlib.Path) -> None:
    """Ctrl-C in the terminal during a run whose server serves for ever: no traceback, the summary
    of what happened, the trace file loadable, exit status 130 as for any program ended by
    SIGINT."""
    out = tmp_path / "t.jsonl"
    command = [
        sys.executable,
        "-m",
        "sockviz",
        "run",
        "-m http.server 8125",
        "fetch.py http://server:8125/",
        "-o",
        str(out),
    ]
    with subprocess.Popen(
        command, cwd=EXAMPLES, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as running:
        time.sleep(3)  # fetch is done; the server serves for ever
        running.send_signal(signal.SIGINT)
        stdout, stderr = running.communicate(timeout=10)
    assert running.returncode == 130, stderr
    assert "Traceback" not in stderr and "The run was interrupted (Ctrl-C)" in stderr
    assert "[fetch] 200 " in stdout and "meetings (1):" in stdout
    assert {m.connect_thread for m in sockviz.load(out).meetings()} == {"fetch"}


def test_a_script_that_installs_a_signal_handler_runs(tmp_path: pathlib.Path) -> None:
    """signal.signal() at the top of a script works as in a process's main thread (the handler is
    kept, and nothing sends it a signal), instead of 'signal only works in main thread'."""
    (tmp_path / "server.py").write_text(
        "import signal, socket, sys\ndef bye(signum, frame):\n    "
        "sys.exit(0)\nprint(signal.signal(signal.SIGINT, bye) is "
        "signal.default_int_handler)\nprint(signal.signal(signal.SIGINT, signal.SIG_DFL) is "
        "bye)\nwith socket.create_server(('', 8080)) as listener:\n    conn, _ = "
        "listener.accept()\n    conn.sendall(conn.recv(10).upper())\n"
    )
    (tmp_path / "client.py").write_text(
        "import socket\nwith socket.create_connection(('server', 8080)) as sock:\n    "
        "sock.sendall(b'hi')\n    print(sock.recv(10))\n"
    )
    result = run("server.py", "client.py", "-o", str(tmp_path / "t.jsonl"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[server] True\n[server] True\n" in result.stdout and "[client] b'HI'" in result.stdout
    # (this process's own: untouched)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_deadlock_ends_the_run_with_its_explanation(tmp_path: pathlib.Path) -> None:
    """Two scripts that both recv() first: the run ends at once, saying who waits for what."""
    (tmp_path / "a.py").write_text(
        "import socket\nwith socket.create_server(('', 9200)) as l:\n    c, _ = l.accept()\n    "
        "c.recv(10)\n"
    )
    (tmp_path / "b.py").write_text(
        "import socket\nwith socket.create_connection(('a', 9200)) as s:\n    s.recv(10)\n"
    )
    result = run("a.py", "b.py", "-o", str(tmp_path / "t.jsonl"), cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "deadlock" in result.stderr
        and "a: recv() on fd" in result.stderr
        and "b: recv() on fd" in result.stderr
    )


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
    """A missing script, a bare -m, two components of one name, an unknown --until: one line, exit
    2."""
    result = run(*specs)
    assert result.returncode == 2 and problem in result.stderr


def _write(folder: pathlib.Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def test_a_script_imports_the_helper_module_beside_it(tmp_path: pathlib.Path) -> None:
    """The script's own folder is first on sys.path, as `python app/server.py` makes it (run from
    elsewhere)."""
    _write(
        tmp_path,
        {
            "app/proto.py": "PORT = 9301\ndef frame(text):\n    return text.upper().encode()\n",
            "app/server.py": "import socket, proto\n"
            "with socket.create_server(('', proto.PORT)) as s:\n"
            "    c, _ = s.accept()\n    c.sendall(proto.frame(c.recv(10).decode()))\n",
            "app/client.py": "import socket, proto\n"
            "with socket.create_connection(('server', proto.PORT)) as s:\n"
            "    s.sendall(b'hi'); print(s.recv(10))\n",
        },
    )
    result = run("app/server.py", "app/client.py", "-o", str(tmp_path / "t.jsonl"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[client] b'HI'" in result.stdout
    assert str(tmp_path / "app") not in sys.path


_OLD_STYLE_ASYNCIO = """
import asyncio

async def handle(reader, writer):
    writer.write((await reader.read(100)).upper())
    await writer.drain()
    writer.close()

loop = asyncio.get_event_loop()  # at module level: a loop, as in a script's main thread
server = loop.run_until_complete(asyncio.start_server(handle, '127.0.0.1', 9302))
loop.run_until_complete(server.serve_forever())
"""

_OLD_STYLE_CLIENT = """
import asyncio

async def ask():
    reader, writer = await asyncio.open_connection('127.0.0.1', 9302)
    writer.write(b'hello')
    print((await reader.read(100)).decode())
    writer.close()

loop = asyncio.get_event_loop()
loop.run_until_complete(ask())
"""


def test_module_level_get_event_loop_works_as_in_a_script(tmp_path: pathlib.Path) -> None:
    """asyncio.get_event_loop() at module level makes a loop in each script's thread, as in a main
    thread."""
    _write(tmp_path, {"aserver.py": _OLD_STYLE_ASYNCIO, "aclient.py": _OLD_STYLE_CLIENT})
    result = run(
        "aserver.py",
        "aclient.py",
        "--until",
        "aclient",
        "-o",
        str(tmp_path / "t.jsonl"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "[aclient] HELLO" in result.stdout
    # the RuntimeError
    assert "There is no current event loop in thread" not in result.stdout + result.stderr
    # each script's loop is closed when its thread ends
    assert "Exception ignored" not in result.stderr
    # and this Python's own DeprecationWarning, as `python aserver.py` gives it
    if sys.version_info >= (3, 12):
        assert (
            "[aserver] aserver.py:9: DeprecationWarning: There is no current event loop"
            in result.stderr
        )


def test_the_asyncio_main_thread_view_is_only_for_the_run() -> None:
    """Outside `sockviz run` a thread is no main thread for asyncio: get_event_loop() there still
    raises."""
    import asyncio
    import threading

    from sockviz._cli._run import Component, script_context

    errors: list[str] = []

    def elsewhere() -> None:
        try:
            asyncio.get_event_loop()
        except RuntimeError as error:
            errors.append(str(error))

    with script_context([Component("x", ["x.py"])]):
        thread = threading.Thread(target=elsewhere, name="bystander")
        thread.start()
        thread.join()
    assert errors == ["There is no current event loop in thread 'bystander'."]


def test_until_never_hides_a_deadlock(tmp_path: pathlib.Path) -> None:
    """A book's classic: the client sends everything before reading; both block in send(). Reported
    in moments."""
    _write(
        tmp_path,
        {
            "srv.py": "import socket\nwith socket.create_server(('', 9303)) as s:\n"
            "    while True:\n"
            "        c, _ = s.accept()\n        while data := c.recv(16):\n            "
            "c.sendall(data.upper())\n",
            "cli.py": "import socket\nwith socket.create_connection(('srv', 9303)) as s:\n"
            "    s.sendall(b'x' * 10_000_000)\n    print(s.recv(10))\n",
        },
    )
    began = time.monotonic()
    result = run(
        "srv.py", "cli.py", "--until", "cli", "-o", str(tmp_path / "t.jsonl"), cwd=tmp_path
    )
    assert time.monotonic() - began < 10
    assert result.returncode == 1
    assert (
        "deadlock" in result.stderr
        and "cli: send() on fd" in result.stderr
        and "srv: send() on fd" in result.stderr
    )


def test_a_run_ends_as_soon_as_the_until_components_are_done(tmp_path: pathlib.Path) -> None:
    """http.server in serve_forever (a real select() on its listener) is stopped at once, not after
    a grace."""
    began = time.monotonic()
    result = run(
        "-m http.server 8125",
        "fetch.py http://server:8125/",
        "--until",
        "fetch",
        "-o",
        str(tmp_path / "t.jsonl"),
    )
    elapsed = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    trace = sockviz.load(tmp_path / "t.jsonl")
    (server_exit,) = [e for e in trace.of_kind("thread.exit") if e.thread == "server"]
    (fetch_exit,) = [e for e in trace.of_kind("thread.exit") if e.thread == "fetch"]
    assert server_exit.fields["reason"].startswith("stopped")
    assert (server_exit.t_ns - fetch_exit.t_ns) / 1e9 < 0.3
    assert elapsed < 5
