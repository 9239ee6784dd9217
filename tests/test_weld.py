"""Welding: components as threads, the patch's scope, failures, deadlocks and timeouts."""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable

import pytest

import sockviz

from .scenarios import left_alone


def _server(port: int = 8080, reply: bytes = b"pong"):
    def server() -> None:
        with socket.create_server(("", port)) as listener:
            conn, _ = listener.accept()
            with conn:
                conn.recv(100)
                conn.sendall(reply)

    return server


def _client(port: int = 8080, box: list | None = None):
    def client() -> None:
        with socket.create_connection(("server", port)) as sock:
            sock.sendall(b"ping")
            data = sock.recv(100)
            if box is not None:
                box.append(data)

    return client


def test_weld_runs_components_as_named_threads_and_bytes_arrive() -> None:
    """Each component runs in a thread named after it and the reply reaches the client."""
    box: list[bytes] = []
    trace = sockviz.weld({"server": _server(), "client": _client(box=box)})
    assert box == [b"pong"]
    assert trace.threads[:2] == ["server", "client"] or set(trace.threads) == {"server", "client"}
    starts = [e.thread for e in trace if e.kind == "thread.start"]
    assert sorted(starts) == ["client", "server"]


def test_meeting_is_one_event_naming_both_threads_and_every_fd() -> None:
    """connect/accept is recorded as one meet event with both threads and the three descriptors."""
    trace = sockviz.weld({"server": _server(), "client": _client()})
    [meet] = trace.of_kind("meet")
    assert meet.get("connect") == "client"
    assert meet.get("accept") == "server"
    fds = {meet.get("listener"), meet.get("client"), meet.get("server")}
    assert len(fds) == 3
    created = {e.obj for e in trace if e.kind == "state" and e.get("from") is None}
    assert fds <= created


def test_wakeups_name_the_waking_event() -> None:
    """Every cond.wake / sem.acquire after a wait carries the seq of the notify or post that woke it
    (weldr's semaphores)."""
    trace = sockviz.weld({"server": _server(), "client": _client()}, semantics="weldr")
    wakes = trace.of_kind("cond.wake")
    assert wakes
    for wake in wakes:
        cause = trace.by_seq(wake.get("cause"))
        assert cause is not None and cause.kind == "cond.notify" and cause.obj == wake.obj
        assert cause.thread != wake.thread
    sem_wakes = [e for e in trace.of_kind("sem.acquire") if e.get("cause") is not None]
    assert sem_wakes and all(trace.by_seq(e.get("cause")).kind == "sem.post" for e in sem_wakes)


def test_weldr_connect_waits_for_a_listener_that_comes_later() -> None:
    """weldr semantics: a client that starts first waits until the server listens."""
    box: list[bytes] = []

    def late_server() -> None:
        time.sleep(0.2)
        _server()()

    sockviz.weld({"client": _client(box=box), "server": late_server}, semantics="weldr")
    assert box == [b"pong"]


def test_strict_connect_to_nothing_is_refused_inside_a_weld() -> None:
    """strict semantics: a client with nobody listening gets ConnectionRefusedError."""

    def client() -> None:
        socket.create_connection(("localhost", 9999))

    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld(client, semantics="strict")
    [error] = info.value.exceptions
    assert isinstance(error, ConnectionRefusedError)
    assert error.errno == 111


def test_threads_started_by_a_component_are_welded() -> None:
    """A server's per-connection threads get fake sockets and appear in the trace under the
    component."""
    seen: list[str] = []

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()

            def handle() -> None:
                seen.append(type(socket.socket()).__name__)
                with conn:
                    conn.sendall(conn.recv(10).upper())

            worker = threading.Thread(target=handle, name="worker")
            worker.start()
            worker.join()

    box: list[bytes] = []
    trace = sockviz.weld({"server": server, "client": _client(box=box)})
    assert seen == ["FakeSocket"]
    assert box == [b"PING"]
    assert "server/worker" in trace.threads


def test_patch_is_scoped_to_welded_threads_and_undone_after() -> None:
    """A thread outside the weld gets real sockets during the weld; afterwards socket.socket is the
    original."""
    original, original_getaddrinfo = socket.socket, socket.getaddrinfo
    outside: list[type] = []
    inside: list[bool] = []
    go = threading.Event()

    def bystander() -> None:
        go.wait(5)
        with socket.socket() as sock:
            outside.append(type(sock))
            inside.append(isinstance(sock, socket.socket))

    other = threading.Thread(target=bystander)
    other.start()

    def component() -> None:
        go.set()
        sock = socket.socket()
        inside.append(isinstance(sock, socket.socket))
        other.join(5)
        sock.close()

    sockviz.weld(component)
    assert outside == [original]  # a real socket, though made during the weld
    assert inside == [True, True]  # isinstance(x, socket.socket) holds for fake and real
    assert socket.socket is original
    assert socket.getaddrinfo is original_getaddrinfo


def test_patch_is_undone_when_a_component_fails() -> None:
    """Even when the weld raises, the socket module and sys.stdout are restored."""
    original, stdout = socket.socket, sys.stdout

    def broken() -> None:
        raise ValueError("boom")

    with pytest.raises(sockviz.ComponentError):
        sockviz.weld(broken)
    assert socket.socket is original
    assert sys.stdout is stdout


def test_component_exceptions_are_reraised_together_with_the_trace() -> None:
    """Two failing components: one ComponentError holding both, naming the threads, trace
    attached."""

    def first() -> None:
        raise ValueError("first failed")

    def second() -> None:
        raise KeyError("second")

    def fine() -> None:
        pass

    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld(first, second, fine)
    group = info.value
    assert sorted(type(e).__name__ for e in group.exceptions) == ["KeyError", "ValueError"]
    assert set(group.threads) == {"first", "second"}
    assert "first failed" in str(group)
    assert group.trace is not None
    errors = group.trace.of_kind("thread.error")
    assert {e.thread for e in errors} == {"first", "second"}
    assert "Traceback" in errors[0].get("traceback")


def test_deadlock_both_sides_recv_first_is_reported_quickly_naming_both() -> None:
    """Both sides recv() first: DeadlockError within 2 s, saying what each thread waits for."""

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            conn.recv(100)

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.recv(100)

    started = time.monotonic()
    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld(server, client, timeout=20)
    assert time.monotonic() - started < 2.0
    error = info.value
    assert set(error.waits) == {"server", "client"}
    assert (
        "recv() on fd" in error.waits["server"]
        and "waits for client to send" in error.waits["server"]
    )
    assert "waits for server to send" in error.waits["client"]
    assert "server: recv() on fd" in str(error)
    assert error.trace is not None and error.trace.of_kind("deadlock")


def test_thread_sleeping_outside_the_network_is_no_deadlock() -> None:
    """A thread busy outside the fake network is not counted as blocked: no false alarm."""
    box: list[bytes] = []

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            time.sleep(0.3)  # the client waits in recv meanwhile
            conn.sendall(b"late")
            conn.close()

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            box.append(sock.recv(10))

    sockviz.weld(server, client)
    assert box == [b"late"]


def test_timeout_raises_a_clear_error_with_the_trace() -> None:
    """A weld that outlives its timeout raises WeldTimeoutError saying who waited for what."""

    def sleepy() -> None:
        sock = socket.socket()
        sock.settimeout(5)  # a timed wait is not a deadlock
        sock.bind(("127.0.0.1", 7000))
        sock.listen()
        with contextlib.suppress(TimeoutError):
            sock.accept()

    started = time.monotonic()
    with pytest.raises(sockviz.WeldTimeoutError) as info:
        sockviz.weld(sleepy, timeout=0.3)
    assert time.monotonic() - started < 3
    assert "accept() on fd" in info.value.waits["sleepy"]
    assert info.value.trace is not None and info.value.trace.of_kind("timeout")


def test_daemon_threads_left_behind_are_stopped_when_components_end() -> None:
    """A daemon thread still blocked in accept() when the components end is stopped, not waited
    for."""

    def server() -> None:
        listener = socket.create_server(("", 8080))
        threading.Thread(target=listener.accept, daemon=True, name="acceptor").start()

    started = time.monotonic()
    trace = sockviz.weld(server, timeout=10)
    assert time.monotonic() - started < 3
    exits = {e.thread: e.get("reason") for e in trace.of_kind("thread.exit")}
    assert exits["server/acceptor"].startswith("stopped")


def test_printed_lines_become_output_events_and_are_still_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """print() in a component is recorded line by line and still reaches stdout."""

    def talker() -> None:
        print("hello")
        print("two", "words", end="")

    trace = sockviz.weld(talker)
    lines = [e.get("line") for e in trace.of_kind("output")]
    assert lines == ["hello", "two words"]
    assert "hello\ntwo words" in capsys.readouterr().out


def test_bad_components_are_refused_clearly() -> None:
    """Wrong component specifications raise TypeError/ValueError before anything runs."""
    with pytest.raises(TypeError, match="callable"):
        sockviz.weld(42)
    with pytest.raises(ValueError, match="two components are named"):
        sockviz.weld(("a", print), ("a", print))
    with pytest.raises(ValueError, match="at least one"):
        sockviz.weld()
    with pytest.raises(ValueError, match="semantics"):
        sockviz.weld(print, semantics="loose")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="buffer_size"):
        sockviz.weld(print, buffer_size=0)


def test_no_real_port_is_opened_by_a_welded_listener() -> None:
    """While a welded server listens on a port, a real socket can still bind that very port."""
    checked: list[bool] = []
    listening = threading.Event()
    done = threading.Event()
    with socket.socket() as probe:  # a port that is free on this machine right now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def server() -> None:
        with socket.create_server(("127.0.0.1", port)):
            listening.set()
            done.wait(5)

    def check() -> None:
        listening.wait(5)
        real = sockviz_real_socket()
        try:
            real.bind(("127.0.0.1", port))
            real.listen()
            checked.append(True)
        finally:
            real.close()
            done.set()

    checker = threading.Thread(target=check)
    checker.start()
    sockviz.weld(server)
    checker.join()
    assert checked == [True]


def sockviz_real_socket() -> socket.socket:
    """A real socket, made from a thread that is not welded."""
    return socket.socket()


def test_fake_network_welds_the_calling_thread_for_interactive_use() -> None:
    """Inside fake_network() the current thread makes fake sockets; the trace is there
    afterwards."""
    with sockviz.fake_network() as net:
        server = socket.create_server(("127.0.0.1", 5000))
        client = socket.socket()
        client.setblocking(False)
        with pytest.raises(BlockingIOError):
            client.connect(("127.0.0.1", 5000))
        conn, _ = server.accept()
        client.sendall(b"hi")
        assert conn.recv(10) == b"hi"
        assert isinstance(client, sockviz.lowlevel.FakeSocket)
        assert len(net.trace) > 0
    assert not isinstance(socket.socket(), sockviz.lowlevel.FakeSocket)
    assert net.trace.of_kind("meet")


def test_fake_network_raises_deadlock_instead_of_hanging() -> None:
    """A recv() that nobody can ever satisfy raises DeadlockError in the notebook's thread."""
    with sockviz.fake_network("strict") as net:
        server = socket.create_server(("127.0.0.1", 5001))
        client = socket.create_connection(("127.0.0.1", 5001))
        with pytest.raises(sockviz.DeadlockError) as info:
            client.recv(10)
    assert "recv() on fd" in str(info.value)
    assert info.value.trace is not None
    del server, net


def test_fds_are_real_descriptors_released_on_close() -> None:
    """fileno() is a real descriptor owned by the fake socket, and -1 after close."""
    import os

    with sockviz.fake_network():
        sock = socket.socket()
        fd = sock.fileno()
        os.fstat(fd)  # a real descriptor
        sock.close()
        assert sock.fileno() == -1
        with pytest.raises(OSError, match="Bad file descriptor"):
            os.fstat(fd)


def test_welds_leave_no_descriptor_open() -> None:
    """After finished, failed and deadlocked welds the process has the same open descriptors as
    before."""
    import gc
    import os

    from sockviz.scenarios import echo_scenario

    def deadlocked() -> None:
        a, _b = socket.socketpair()
        a.recv(1)

    def failing() -> None:
        socket.create_server(("", 1234))
        raise ValueError("oops")

    gc.collect()
    before = set(os.listdir("/proc/self/fd"))
    sockviz.weld(echo_scenario())
    with pytest.raises(sockviz.DeadlockError):
        sockviz.weld(deadlocked)
    with pytest.raises(sockviz.ComponentError):
        sockviz.weld(failing)
    gc.collect()
    assert set(os.listdir("/proc/self/fd")) == before


def test_a_component_that_failed_is_reported_before_the_deadlock_it_left() -> None:
    """A component died and left the other blocked: its own error is the weld's, and says what
    followed."""

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            listener.accept()

    def client() -> None:
        socket.create_connection(("no-such-component", 8080))

    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld(server, client)
    assert [type(e) for e in info.value.exceptions] == [socket.gaierror] and info.value.threads == (
        "client",
    )
    assert str(info.value).startswith(
        "1 welded thread(s) failed (client: gaierror: [Errno -2] Name or service not known); "
    )
    # (the server left alone in accept() is stuck, not deadlocked: nobody waits for it)
    assert (
        "after that, stuck: server waits in accept() for a client, and no thread that could "
        "connect is left" in str(info.value)
    )
    assert re.search(
        r"server: accept\(\) on fd \d+ waits for a client to connect to 0\.0\.0\.0:8080",
        str(info.value),
    )


def test_welded_threads_share_one_cpu_unless_asked_not_to() -> None:
    """By default every welded thread runs on one CPU; single_cpu=False leaves them alone."""
    import os

    seen: list[set[int]] = []

    def component() -> None:
        seen.append(os.sched_getaffinity(0))
        child = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
        child.start()
        child.join()

    allowed = os.sched_getaffinity(0)
    sockviz.weld(component)
    assert seen == [{max(allowed)}, {max(allowed)}]
    seen.clear()
    sockviz.weld(component, single_cpu=False)
    assert seen == [allowed, allowed]
    assert os.sched_getaffinity(0) == allowed  # the caller itself is never pinned


def test_a_socket_kept_after_its_weld_is_closed() -> None:
    """A fake socket that outlives its fake_network block has been closed: calls raise EBADF."""
    with sockviz.fake_network():
        kept = socket.create_server(("127.0.0.1", 6000))
    assert kept.fileno() == -1
    with pytest.raises(OSError, match="Bad file descriptor"):
        kept.accept()


@pytest.mark.parametrize("timeout", [0, -1, "10", None, True])
def test_a_bad_weld_timeout_is_refused(timeout: object) -> None:
    """weld(timeout=...) must be a positive number of seconds."""
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        sockviz.weld(print, timeout=timeout)  # type: ignore[arg-type]


def test_an_unwritable_trace_path_fails_before_anything_runs(tmp_path) -> None:
    """A trace_path in a missing folder raises at once, runs nothing and leaks no descriptor."""
    import os

    before = set(os.listdir("/proc/self/fd"))
    ran: list[bool] = []
    with pytest.raises(FileNotFoundError):
        sockviz.weld(lambda: ran.append(True), trace_path=tmp_path / "missing" / "t.jsonl")
    assert ran == []
    assert set(os.listdir("/proc/self/fd")) == before


def test_timeout_is_reported_even_if_busy_threads_finish_during_the_grace_period() -> None:
    """A component sleeping past the timeout (outside the network) still makes the weld raise
    WeldTimeoutError."""

    def sleeper() -> None:
        time.sleep(0.4)

    with pytest.raises(sockviz.WeldTimeoutError) as info:
        sockviz.weld(sleeper, timeout=0.2)
    assert (
        "still running, not in a fake socket call (sleeping, computing, or watching sockets with "
        "select)" in str(info.value)
    )
    assert "sleeper: at test_weld.py:" in str(info.value)


def test_a_thread_outliving_its_weld_never_gets_a_real_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A component still sleeping after a timeout and the grace period gets no real socket later."""
    from sockviz._net import _wrap
    from sockviz._weld import _session

    monkeypatch.setattr(_session, "GRACE", 0.1)
    late: list[str] = []

    def sleeper() -> None:
        time.sleep(0.5)  # outlives the timeout (0.1 s) and the grace period (0.1 s)
        try:
            late.append(type(socket.socket()).__name__)
        except sockviz.NetworkStopped:
            late.append("refused")
            raise

    with pytest.raises(sockviz.WeldTimeoutError):
        sockviz.weld(sleeper, timeout=0.1)
    assert _wrap._originals  # the patch stays while the sleeper lives
    deadline = time.monotonic() + 5
    while _wrap._originals and time.monotonic() < deadline:
        time.sleep(0.02)
    # stopped at its next line (LeftRunning), or by the stopped network if it got to the call: never
    # a real socket
    assert late in ([], ["refused"])
    assert not _wrap._originals  # and once the sleeper is gone, the patch is too


# -- start order --------------------------------------------------------------------------------


def test_a_client_that_connects_at_once_is_never_refused() -> None:
    """Linux semantics by default, and the server (given first) listens before the client starts."""
    for _ in range(5):
        box: list[bytes] = []
        trace = sockviz.weld({"server": _server(), "client": _client(box=box)})
        assert box == [b"pong"]
        assert trace.meta["semantics"] == "strict"
        assert not trace.of_kind("refused")
        calls = [(e.thread, e.get("op")) for e in trace.of_kind("call")]
        assert calls.index(("server", "listen")) < calls.index(("client", "socket"))


def test_the_next_component_waits_for_a_server_that_computes_before_listening() -> None:
    """A server busy outside the network (here: 0.2 s of computing) is waited for, as a person
    would."""

    def slow_server() -> None:
        end = time.thread_time() + 0.2
        while time.thread_time() < end:
            pass
        _server()()

    box: list[bytes] = []
    sockviz.weld({"server": slow_server, "client": _client(box=box)})
    assert box == [b"pong"]


def test_a_server_asleep_before_listening_holds_the_client_back_only_a_moment() -> None:
    """Quiet outside the network for about 50 ms: the next component starts, and is refused, as on
    Linux."""

    def sleepy_server() -> None:
        time.sleep(1.0)
        with socket.create_server(("", 8080)):
            pass

    def client() -> None:
        socket.create_connection(("server", 8080))

    began = time.monotonic()
    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld({"server": sleepy_server, "client": client})
    assert [type(e) for e in info.value.exceptions] == [ConnectionRefusedError]
    (refused,) = info.value.trace.of_kind("refused")  # type: ignore[union-attr]
    assert 0.04 < refused.t_ns / 1e9 < 0.9
    assert time.monotonic() - began >= 1.0  # the server still ran to its end


def test_stagger_false_starts_every_component_at_once() -> None:
    """stagger=False: a client given first connects before anybody listens, and is refused."""

    def client() -> None:
        socket.create_connection(("server", 8080))

    def server() -> None:
        time.sleep(0.1)

    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld({"client": client, "server": server}, stagger=False)
    assert [type(e) for e in info.value.exceptions] == [ConnectionRefusedError]


def test_components_start_in_the_order_given() -> None:
    """A client given before its server starts first, and is refused: the order is the caller's."""
    with pytest.raises(
        sockviz.ComponentError, match=r"client: ConnectionRefusedError.*after that, stuck"
    ) as info:
        sockviz.weld({"client": _client(), "server": _server()}, timeout=5)
    assert "server: accept()" in str(info.value)  # ...and the server waits in accept() for ever


def test_a_weld_that_times_out_while_starting_never_starts_the_rest() -> None:
    """A first component computing past the timeout: the others never start, the weld still ends."""
    started: list[str] = []

    def busy() -> None:
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            pass

    with pytest.raises(sockviz.WeldTimeoutError):
        sockviz.weld({"busy": busy, "late": lambda: started.append("late")}, timeout=0.5)
    time.sleep(1.2)
    assert started == []


# -- every thread a welded thread starts is welded ----------------------------------------------


def test_a_thread_started_with__thread_is_welded() -> None:
    """_thread.start_new_thread (as CPython's socket tests use) gives a welded thread with fake
    sockets."""
    import _thread

    box: list[bytes] = []

    def server() -> None:
        done = threading.Event()

        def client() -> None:
            _client(box=box)()
            done.set()

        with socket.create_server(("", 8080)) as listener:
            ident = _thread.start_new_thread(client, ())
            assert isinstance(ident, int)
            conn, _ = listener.accept()
            with conn:
                conn.sendall(conn.recv(100).upper())
            done.wait(5)

    trace = sockviz.weld(server)
    assert box == [b"PING"]
    assert "server/Thread-1 (client)" in trace.threads
    assert socket.socket is not sockviz._net._wrap.SocketStandIn  # type: ignore[attr-defined]


def test__thread_argument_errors_are_those_of__thread() -> None:
    import _thread

    errors: list[str] = []

    def component() -> None:
        for args in [(1, ()), (print, []), (print, (), [])]:
            try:
                _thread.start_new_thread(*args)
            except TypeError as error:
                errors.append(str(error))

    sockviz.weld(component)
    assert errors == [
        "first arg must be callable",
        "2nd arg must be a tuple",
        "optional 3rd arg must be a dictionary",
    ]


def test_an_executor_made_inside_the_weld_runs_welded() -> None:
    """concurrent.futures workers started by a welded thread use the fake network."""
    from concurrent.futures import ThreadPoolExecutor

    def server() -> None:
        with socket.create_server(("", 8080)) as listener, ThreadPoolExecutor(2) as pool:
            reply = pool.submit(_client_returning, 8080)
            conn, _ = listener.accept()
            with conn:
                conn.sendall(conn.recv(100) * 2)
            assert reply.result(5) == b"pingping"

    trace = sockviz.weld(server)
    assert any(name.startswith("server/ThreadPoolExecutor-") for name in trace.threads)


def _client_returning(port: int) -> bytes:
    with socket.create_connection(("server", port)) as sock:
        sock.sendall(b"ping")
        return sock.recv(100)


def test__thread_outside_a_weld_stays_real() -> None:
    """A thread started with _thread by an ordinary thread, during a weld, gets real sockets."""
    import _thread

    kinds: list[type] = []
    go, made = threading.Event(), threading.Event()

    def outside() -> None:
        with socket.socket() as sock:
            kinds.append(type(sock))
        made.set()

    def bystander() -> None:
        go.wait(5)
        _thread.start_new_thread(outside, ())

    real = socket.socket
    threading.Thread(target=bystander).start()
    sockviz.weld({"c": lambda: (go.set(), made.wait(5))})
    assert kinds == [real]


def test_a_component_counts_only_its_own_threads() -> None:
    """threading.active_count()/enumerate() in a welded thread: its component's threads, as in its
    own process."""
    seen: dict[str, object] = {}
    release = threading.Event()

    def server() -> None:
        workers = [threading.Thread(target=release.wait, name=f"w{i}") for i in range(2)]
        for worker in workers:
            worker.start()
        seen["count"] = threading.active_count()
        seen["names"] = sorted(t.name for t in threading.enumerate())
        release.set()
        for worker in workers:
            worker.join()

    def client() -> None:
        seen["client"] = threading.active_count()

    outside_before = threading.active_count()
    sockviz.weld(server, client)
    assert seen == {"count": 3, "names": ["server", "w0", "w1"], "client": 1}
    assert threading.active_count() == outside_before
    assert threading.enumerate is sockviz._weld._patches._real_enumerate  # type: ignore[attr-defined]  # put back


def test_the_patches_are_gone_the_moment_a_weld_returns() -> None:
    """Every time, on every Python: the weld joins its ended threads before it returns (3.13 kept
    them alive a moment)."""
    original, start, enumerate_ = socket.socket, threading.Thread.start, threading.enumerate
    for _ in range(20):
        box: list[bytes] = []
        sockviz.weld({"server": _server(), "client": _client(box=box)}, echo=False)
        assert box == [b"pong"]
        assert (
            socket.socket is original
            and threading.Thread.start is start
            and threading.enumerate is enumerate_
        )


# -- time limits --------------------------------------------------------------------------------


def test_a_weld_ends_within_its_timeout_whatever_its_threads_do() -> None:
    """A thread asleep and one computing: the weld raises within timeout + 0.5 s, naming each with
    its line."""

    def sleeper() -> None:
        time.sleep(1.5)  # the line the message shows

    def computer() -> None:
        end = time.monotonic() + 1.5
        while time.monotonic() < end:  # the line the message shows
            pass

    began = time.monotonic()
    with pytest.raises(sockviz.WeldTimeoutError) as info:
        sockviz.weld(sleeper, computer, timeout=0.5, stagger=False)
    assert time.monotonic() - began < 1.0
    message = str(info.value)
    assert "still running, not in a fake socket call" in message
    assert "sleeper: at test_weld.py:" in message and "time.sleep(1.5)" in message
    assert "computer: at test_weld.py:" in message and "while time.monotonic() < end:" in message
    assert set(info.value.running) == {"sleeper", "computer"}
    assert info.value.trace is not None and info.value.trace.of_kind("timeout")
    _left_running_end()


def _left_running_end(within: float = 5.0) -> None:
    """Wait for threads a weld left running to end (their weld's patches go with the last), so
    that later tests start with the real modules."""
    from sockviz._weld import _patches

    deadline = time.monotonic() + within
    while _patches._count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _patches._count, "a thread left running by the weld did not end"


@pytest.mark.parametrize("timeout", [float("inf"), 1e12])
def test_an_infinite_or_huge_timeout_means_no_limit(timeout: float) -> None:
    """timeout=inf (or more than threading can wait) is no limit, not an OverflowError."""
    box: list[bytes] = []
    trace = sockviz.weld({"server": _server(), "client": _client(box=box)}, timeout=timeout)
    assert box == [b"pong"] and trace.meetings()


# -- a component that dies ----------------------------------------------------------------------


def test_a_crashing_server_closes_its_sockets_like_a_dying_process() -> None:
    """A server that raises holding a connection: its client reads end of file, and the error is the
    server's own."""
    got: list[bytes] = []

    def server() -> None:
        listener = socket.create_server(("", 8080))
        conn, _ = listener.accept()
        conn.recv(100)
        raise ValueError("the student's bug")  # conn and listener still open

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"hello")
            got.append(sock.recv(100))  # on Linux the dead process's socket gives end of file

    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld(server, client, timeout=10)
    assert [type(e) for e in info.value.exceptions] == [ValueError] and info.value.threads == (
        "server",
    )
    assert got == [b""]
    trace = info.value.trace
    assert trace is not None
    server_exit = next(e.seq for e in trace.of_kind("thread.exit") if e.thread == "server")
    closes = [
        e
        for e in trace.of_kind("call")
        if e.thread == "server" and e.fields["op"] == "close" and e.seq > server_exit
    ]
    assert len(closes) == 2  # the connection and the listener, closed at its end


def test_a_dying_server_with_unread_bytes_resets_its_client() -> None:
    """Bytes left unread when the process dies: the client gets ECONNRESET, as Linux gives it."""
    errors: list[int] = []

    def server() -> None:
        listener = socket.create_server(("", 8080))
        listener.accept()
        time.sleep(0.1)  # the client's bytes arrive, unread
        raise ValueError("dies")

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"never read")
            try:
                sock.recv(100)
            except ConnectionResetError as error:
                errors.append(error.errno)

    with pytest.raises(sockviz.ComponentError):
        sockviz.weld(server, client, timeout=10)
    assert errors == [104]


# -- memory is bounded --------------------------------------------------------------------------


def _ping_pong_for_ever():
    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            while True:  # the student forgot to stop
                conn.sendall(conn.recv(10))

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            while True:
                sock.sendall(b"ping")
                sock.recv(10)

    return {"server": server, "client": client}


def test_a_loop_that_never_ends_stops_at_the_event_limit() -> None:
    """max_events: the weld stops with a clear error naming the busiest threads; the trace so far
    loads back."""
    began = time.monotonic()
    with pytest.raises(sockviz.EventLimitError) as info:
        sockviz.weld(_ping_pong_for_ever(), max_events=20_000, timeout=30)
    assert time.monotonic() - began < 10
    error = info.value
    message = str(error)
    assert "recorded 20,000 events, its limit" in message and "max_events=80,000" in message
    assert {thread for thread, _, _ in error.busiest} == {"server", "client"}
    # what each did before the stop
    assert {last.split("(")[0] for _, _, last in error.busiest} <= {"send", "sendall", "recv"}
    # and where, in the student's code
    assert "at test_weld.py:" in message and "conn.sendall(conn.recv(10))" in message
    assert error.trace is not None and 20_000 <= len(error.trace) < 40_000
    assert sockviz.last_trace() is error.trace


def _a_cell_that_never_ends() -> None:
    with sockviz.fake_network(max_events=5_000):
        a, b = socket.socketpair()
        while True:
            a.send(b"x")
            b.recv(1)


def test_a_fake_network_cell_stops_at_the_event_limit() -> None:
    """In a notebook's own thread: the cell gets EventLimitError instead of filling memory."""
    with pytest.raises(sockviz.EventLimitError, match="recorded 5,000 events"):
        _a_cell_that_never_ends()


def test_a_print_flood_is_cut_on_screen_and_kept_in_the_trace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A loop printing without end would send megabytes to the notebook: 1,000 lines are shown, then
    one line says the rest is only in the trace."""

    def chatty() -> None:
        for i in range(1500):
            print("line", i)

    trace = sockviz.weld(chatty)
    shown = capsys.readouterr().out.splitlines()
    assert shown[:1000] == [f"line {i}" for i in range(1000)]
    assert shown[-1] == (
        "[sockviz] the welded threads printed more than 1,000 lines; the rest is not shown here "
        "(it is in the trace: trace.of_kind('output'))"
    )
    assert len(shown) == 1001  # the 1,000 lines, the notice
    assert [e.fields["line"] for e in trace.of_kind("output")] == [f"line {i}" for i in range(1500)]


def test_threads_printing_at_once_show_whole_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """print() writes its text and its newline apart; two welded threads printing at the same
    moment still show as whole lines on screen, never one line spliced from both."""
    import threading

    start = threading.Barrier(4)

    def talker(name: str) -> Callable[[], None]:
        def talk() -> None:
            start.wait()
            for i in range(200):
                print(f"{name} says hello {i}")

        return talk

    names = ("ann", "bob", "cat", "dan")
    sockviz.weld({name: talker(name) for name in names}, stagger=False, echo=True)
    shown = capsys.readouterr().out.splitlines()
    assert sorted(shown) == sorted(f"{name} says hello {i}" for name in names for i in range(200))

    def unfinished() -> None:
        print("no newline at the end", end="")

    sockviz.weld(unfinished)
    assert capsys.readouterr().out == "no newline at the end"  # shown when the thread ends


def test_a_bad_max_events_is_refused() -> None:
    with pytest.raises(ValueError, match="max_events must be a positive number of events"):
        sockviz.weld(lambda: None, max_events=0)


# -- leftovers ----------------------------------------------------------------------------------


def test_a_leftover_loop_is_stopped_and_reported_by_name_and_line() -> None:
    """A daemon thread computing for ever outlives its component: the weld warns where it is, then
    stops it."""
    spinning: list[threading.Thread] = []

    def spin() -> None:
        while True:  # the leftover's line
            pass

    def component() -> None:
        thread = threading.Thread(target=spin, name="spinner", daemon=True)
        thread.start()
        spinning.append(thread)

    with pytest.warns(
        RuntimeWarning, match=r"component/spinner: at test_weld.py:\d+ in spin\(\): while True:"
    ):
        sockviz.weld(component)
    spinning[0].join(1)
    assert not spinning[0].is_alive()  # no CPU burnt after the weld


def test_a_timed_out_busy_component_does_not_keep_burning_cpu() -> None:
    """After a timeout, a component stuck in a computing loop is stopped too (it would burn a core
    for ever)."""

    def busy() -> None:
        while True:
            pass

    with pytest.raises(sockviz.WeldTimeoutError, match=r"busy: at test_weld\.py"):
        sockviz.weld(busy, timeout=0.3)
    time.sleep(0.3)
    assert not [t for t in threading.enumerate() if t.name == "busy"]


# -- no way out to the real network or the real process
# ---------------------------------------------


def test_a_thread_pool_made_before_the_weld_is_refused_to_welded_code() -> None:
    """An earlier cell's pool runs work in real threads, with real sockets: refused, clearly; the
    real listener gets nothing; a pool made inside the component works."""
    real = socket.create_server(("127.0.0.1", 0))
    real.settimeout(0)
    port = real.getsockname()[1]
    pool = concurrent.futures.ThreadPoolExecutor(2)
    pool.submit(int).result()  # its threads start now, outside any weld
    answers: list[int] = []

    def sneaky() -> None:
        pool.submit(socket.create_connection, ("127.0.0.1", port)).result()

    def proper() -> None:
        with concurrent.futures.ThreadPoolExecutor(2) as own:
            answers.append(own.submit(sum, [1, 2]).result())

    try:
        with pytest.raises(sockviz.ComponentError) as caught:
            sockviz.weld(sneaky, proper)
        [error] = caught.value.exceptions
        assert str(error).startswith("sneaky gave work to a thread pool made outside the weld")
        assert answers == [3]
        with pytest.raises(BlockingIOError):
            real.accept()  # nobody came
        assert pool.submit(int, "7").result() == 7  # outside the weld the pool is as it was
    finally:
        pool.shutdown()
        real.close()


def test_fork_is_refused_to_welded_code_with_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A forked child would be a copy of the whole process (a notebook's kernel) hanging for ever:
    refused. socketserver's ForkingTCPServer reports the error and drops the connection, as it does
    for any error."""
    import socketserver

    class Upper(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.sendall(self.request.recv(100).upper())

    def server() -> None:
        with socketserver.ForkingTCPServer(("", 8080), Upper) as srv:
            srv.handle_request()

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"hi")
            sock.recv(100)

    with pytest.raises(sockviz.ComponentError):
        sockviz.weld(server, client, timeout=10)
    assert (
        "RuntimeError: server called os.fork(): welded components are threads of one process"
        in capsys.readouterr().err
    )


def test_sys_exit_with_a_message_is_a_failure_that_shows_its_line() -> None:
    def server() -> None:
        sys.exit("server: bye")  # the line the report shows

    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld(server)
    [error] = info.value.exceptions
    assert str(error) == "server called sys.exit('server: bye')"
    shown = "".join(traceback.format_exception(error))
    assert 'sys.exit("server: bye")  # the line the report shows' in shown


def test_a_cell_that_retries_a_call_that_can_never_succeed_is_stopped() -> None:
    """In a fake_network() block, a loop that catches DeadlockError and tries again would spin for
    ever at full speed (plain Python would sit in accept()): after 100 more calls the cell is
    stopped, by an exception `except Exception` does not catch."""
    tries = 0

    def cell() -> None:
        nonlocal tries
        with sockviz.fake_network():
            listener = socket.create_server(("", 8080))
            while True:
                try:
                    listener.accept()
                    break
                except Exception:  # the student's
                    tries += 1

    with pytest.raises(sockviz.CellStopped, match="called its stopped network 100 times more"):
        cell()
    assert tries == 101  # the deadlock itself, then the 100 calls after it
    assert not isinstance(sockviz.CellStopped(), Exception)


def test_a_deadlock_is_a_cycle_of_threads_waiting_for_each_other() -> None:
    """Both sides recv() first: each waits for the other, a circle -- a deadlock, said as one."""
    from sockviz import scenarios

    for semantics in ("strict", "weldr"):
        with pytest.raises(sockviz.DeadlockError) as info:
            sockviz.weld(scenarios.deadlock_scenario(), semantics=semantics)
        assert info.value.cycle == ["client", "server"]
        assert str(info.value).startswith(
            "deadlock: client waits for server, server waits for client\n"
        )


def test_stuck_says_what_no_thread_is_left_to_do_and_who_waits_for_whom() -> None:
    """A client waiting for an answer from a server that went back to accept() without giving
    one: the client waits for the server, which waits for a client nobody is left to be -- a
    chain that ends in what nobody can do, not a circle."""

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            listener.accept()  # forgot to answer
            conn.close()

    def client() -> None:
        with socket.create_connection(("server", 8080)) as s:
            s.sendall(b"hello?")
            s.recv(100)

    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld(server, client)
    assert info.value.cycle is None
    assert sorted(info.value.stuck) == [
        "client waits for server",
        "server waits in accept() for a client, and no thread that could connect is left",
    ]
    assert str(info.value).splitlines()[0] in (
        "stuck: client waits for server; server waits in accept() for a client, and no thread "
        "that could connect is left",
        "stuck: server waits in accept() for a client, and no thread that could connect is left; "
        "client waits for server",
    )


def test_a_server_left_alone_in_accept_is_stuck_not_deadlocked() -> None:
    """Every thread blocked is not always a deadlock: a server waiting in accept() after its only
    client has gone waits for nobody in particular, and nobody is left to connect."""
    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld(left_alone())
    assert info.value.cycle is None
    assert info.value.stuck == [
        "server waits in accept() for a client, and no thread that could connect is left"
    ]
    assert str(info.value).startswith(
        "stuck: server waits in accept() for a client, and no thread that could connect is left\n"
        "  server: accept() on fd "
    )
