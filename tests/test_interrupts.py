"""Signals and Ctrl-C inside a fake wait leave the network consistent (the main thread gets
them)."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
import weakref
from collections.abc import Iterator

import pytest

import sockviz
from sockviz._weld import _ctrl_c


class AlarmError(Exception):
    """What the test's SIGALRM handler raises."""


@pytest.fixture
def alarm() -> Iterator[None]:
    def handler(signum: int, frame: object) -> None:
        raise AlarmError

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _fill(sock: socket.socket) -> None:
    sock.setblocking(False)
    try:
        while True:
            sock.send(b"x" * 65536)
    except BlockingIOError:
        sock.setblocking(True)


def test_two_interrupted_sends_leave_no_waiter_behind(alarm: None) -> None:
    """A SIGALRM handler's exception ends a blocked send() twice; nobody is listed waiting; the peer
    reads and closes."""
    with sockviz.fake_network() as weld:
        a, b = socket.socketpair()
        idle = threading.Event()
        # a second welded thread: no deadlock
        helper = threading.Thread(target=idle.wait, name="idle")
        helper.start()
        _fill(a)
        for _ in range(2):
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            with pytest.raises(AlarmError):
                a.send(b"y" * 1000)
        assert weld.waiting() == {}
        assert weld.net.tracker.blocked == 0
        assert len(b.recv(1 << 20)) == 65536
        b.close()  # wakes nobody wrongly: "release unlocked lock" before the fix
        a.close()
        idle.set()
        helper.join()


def test_after_an_interrupted_wait_a_later_notify_wakes_the_thread(alarm: None) -> None:
    """The interrupted thread waits again and is woken by the peer's read, as if nothing had
    happened."""
    with sockviz.fake_network() as weld:
        a, b = socket.socketpair()
        _fill(a)

        def reader() -> None:
            time.sleep(0.2)  # after the interrupted send() and into the second one
            while b.recv(1 << 20):
                pass

        thread = threading.Thread(target=reader, name="reader")
        thread.start()
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(AlarmError):
            a.send(b"y" * 100_000)
        a.sendall(b"z" * 100_000)  # blocks until the reader makes room
        a.close()
        thread.join(5)
        assert not thread.is_alive()
        assert weld.waiting() == {}
    wakes = [e for e in weld.trace.of_kind("cond.wake") if e.thread == "MainThread"]
    assert wakes and all(
        weld.trace.by_seq(e.fields["cause"]).thread == "MainThread/reader" for e in wakes
    )


def test_ctrl_c_in_accept_leaves_the_listener_usable() -> None:
    """KeyboardInterrupt (Ctrl-C: the kernel's interrupt) in accept(): the next accept() gets the
    client."""
    with sockviz.fake_network() as weld:
        listener = socket.create_server(("127.0.0.1", 9400))
        go = threading.Event()

        def ctrl_c_then_client() -> None:
            time.sleep(0.1)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # Ctrl-C
            go.wait(5)
            socket.create_connection(("127.0.0.1", 9400)).close()

        thread = threading.Thread(target=ctrl_c_then_client, name="client")
        thread.start()
        with pytest.raises(KeyboardInterrupt):
            listener.accept()
        assert weld.waiting() == {}
        go.set()
        conn, _ = listener.accept()
        assert conn.recv(10) == b""
        conn.close()
        listener.close()
        thread.join(5)


def test_an_interrupted_weldr_connect_gives_its_permit_back() -> None:
    """A semaphore wait (weldr's connect) interrupted: the network's books stay right, and the weld
    ends cleanly."""
    with sockviz.fake_network(semantics="weldr") as weld:
        listener = socket.create_server(("127.0.0.1", 9401))

        def ctrl_c() -> None:
            time.sleep(0.1)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # Ctrl-C

        thread = threading.Thread(target=ctrl_c, name="interrupter")
        thread.start()
        client = socket.socket()
        with pytest.raises(KeyboardInterrupt):
            client.connect(("127.0.0.1", 9401))  # waits for accept(): nobody accepts
        thread.join(5)
        assert weld.waiting() == {}
        assert weld.net.tracker.blocked == 0
        # the interrupted connect is still queued, as Linux finishes it in the background
        conn, _ = listener.accept()
        client.close()
        assert conn.recv(10) == b""
        conn.close()
        listener.close()


def _ctrl_c_after(*delays: float) -> None:
    """Send the main thread SIGINT (Ctrl-C) after each delay, as Jupyter's interrupt does."""
    main = threading.main_thread().ident
    assert main is not None
    for delay in delays:
        time.sleep(delay)
        signal.pthread_kill(main, signal.SIGINT)


def test_ctrl_c_during_a_weld_keeps_the_trace_and_reaches_no_real_network() -> None:
    """Two interrupts, the second during the clean-up: the trace so far comes with the
    KeyboardInterrupt and sockviz.last_trace(); a welded thread that wakes up later still gets no
    real socket."""
    real = socket.create_server(("127.0.0.1", 0))
    real.settimeout(0)
    port = real.getsockname()[1]
    reached: list[str] = []

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            listener.accept()  # for ever

    def student() -> None:
        _ctrl_c_after(0.1, 0.05)
        try:
            time.sleep(0.6)  # outside the network through the clean-up...
        except (
            BaseException
        ) as stop:  # ... told to stop (LeftRunning), a stubborn program goes on anyway:
            reached.append(type(stop).__name__)
        try:
            socket.create_connection(
                ("127.0.0.1", port), timeout=1
            ).close()  # ... to a real address
            reached.append("connected")
        except BaseException as error:
            reached.append(type(error).__name__)
            raise

    def weld_and_linger() -> None:
        try:
            sockviz.weld(server, student, timeout=10, stagger=False)
        except KeyboardInterrupt:
            time.sleep(0.2)  # the second Ctrl-C lands in the weld's clean-up or here
            raise

    with pytest.raises(KeyboardInterrupt) as info:
        weld_and_linger()
    trace = info.value.trace  # type: ignore[attr-defined]
    assert isinstance(trace, sockviz.Trace) and "server" in trace.threads
    assert sockviz.last_trace() is trace
    time.sleep(0.8)
    # stopped, and even then given no real socket
    assert reached == ["LeftRunning", "NetworkStopped"]
    with pytest.raises(BlockingIOError):
        real.accept()  # nobody came
    real.close()


def test_an_interrupted_fake_network_block_records_no_deadlock() -> None:
    """Ctrl-C in a fake_network() block while a thread it started waits: no bogus DEADLOCK event."""
    blocks: list[sockviz.Weld] = []

    def block_until_ctrl_c() -> None:
        with sockviz.fake_network() as weld:
            blocks.append(weld)
            _, b = socket.socketpair()
            threading.Thread(target=lambda: b.recv(10), name="reader").start()
            threading.Thread(target=_ctrl_c_after, args=(0.1,), name="ctrl-c").start()
            time.sleep(5)

    with pytest.raises(KeyboardInterrupt):
        block_until_ctrl_c()
    (weld,) = blocks
    assert weld.trace.of_kind("deadlock") == []
    assert sockviz.last_trace() is not None and len(sockviz.last_trace()) == len(weld.trace)  # type: ignore[arg-type]


def test_except_star_keeps_the_trace() -> None:
    """except* on a weld's ComponentError: the matched group still carries .trace and its
    threads."""

    def bad_value() -> None:
        raise ValueError("no")

    def bad_key() -> None:
        raise KeyError("k")

    caught: list[object] = []
    try:
        sockviz.weld(bad_value, bad_key)
    except* ValueError as group:
        caught.append((type(group).__name__, group.trace is not None, group.threads))  # type: ignore[attr-defined]
    except* KeyError as group:
        caught.append((type(group).__name__, group.trace is not None, group.threads))  # type: ignore[attr-defined]
    assert caught == [
        ("ComponentError", True, ("bad_value",)),
        ("ComponentError", True, ("bad_key",)),
    ]


def test_a_signal_handlers_exception_in_the_calling_thread_keeps_the_trace(alarm: None) -> None:
    """A student's SIGALRM handler raises while the weld runs: the exception escapes the weld with
    the trace."""

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            listener.accept()  # for ever

    def idler() -> None:
        while True:
            time.sleep(0.05)  # outside the network: no deadlock

    signal.setitimer(signal.ITIMER_REAL, 0.3)
    with pytest.raises(AlarmError) as info:
        sockviz.weld(server, idler, timeout=10)
    trace = info.value.trace  # type: ignore[attr-defined]
    assert isinstance(trace, sockviz.Trace) and trace.threads == ["server", "idler"]
    assert sockviz.last_trace() is trace


def test_ctrl_c_raises_weld_interrupted_a_keyboard_interrupt_with_the_trace() -> None:
    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            listener.accept()  # for ever

    def idler() -> None:
        while True:
            time.sleep(0.05)

    ctrl_c = threading.Timer(0.3, signal.pthread_kill, (threading.get_ident(), signal.SIGINT))
    ctrl_c.start()
    with pytest.raises(
        sockviz.WeldInterrupted, match=r"the weld was interrupted \(Ctrl-C\)"
    ) as info:
        sockviz.weld(server, idler, timeout=10)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.trace is sockviz.last_trace() and info.value.trace.threads == [
        "server",
        "idler",
    ]


class _Collected:
    """An object whose weakref callback runs when it is freed -- where Python drops a
    KeyboardInterrupt."""


def _ctrl_c_while_the_collector_runs() -> None:
    """Press Ctrl-C just as a weakref callback runs in the main thread: Python cannot raise it
    there, prints "Exception ignored in ..." and goes on (the CI saw `sockviz explore` carry on
    after a Ctrl-C this way)."""
    doomed = _Collected()
    keep = weakref.ref(doomed, lambda ref: signal.raise_signal(signal.SIGINT))
    del doomed
    assert keep() is None


def test_a_ctrl_c_dropped_by_a_weakref_callback_still_ends_an_exploration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    done: list[object] = []

    def outcome(trace: sockviz.Trace) -> str:
        done.append(trace)
        if len(done) == 2:
            _ctrl_c_while_the_collector_runs()
        return "ok"

    with pytest.raises(KeyboardInterrupt):
        sockviz.explore(sockviz.scenarios.echo_scenario(), runs=50, outcome=outcome)
    assert len(done) == 2  # the third run never started
    assert "Exception ignored" not in capsys.readouterr().err  # it was not ignored
    # Python's own handler is back
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_ctrl_c_dropped_by_a_weakref_callback_still_ends_a_weld() -> None:
    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            listener.accept()  # for ever

    def idler() -> None:  # (so that the server alone in accept() is not stuck)
        while True:
            time.sleep(0.05)

    with _ctrl_c.ctrl_c_latch():  # (a weld inside an exploration, or `sockviz run`)
        _ctrl_c_while_the_collector_runs()
        started = time.monotonic()
        with pytest.raises(sockviz.WeldInterrupted):
            sockviz.weld(server, idler, timeout=10)
    # not the timeout: the noted Ctrl-C ends it at the first look
    assert time.monotonic() - started < 2


def test_other_exceptions_dropped_by_a_callback_are_still_reported() -> None:
    reported: list[BaseException | None] = []
    before = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: reported.append(unraisable.exc_value)
    try:
        with _ctrl_c.ctrl_c_latch():
            doomed = _Collected()
            keep = weakref.ref(doomed, lambda ref: 1 / 0)
            del doomed
            _ctrl_c.check()  # nothing to raise: no Ctrl-C was dropped
    finally:
        sys.unraisablehook = before
    assert keep() is None and [type(e) for e in reported] == [ZeroDivisionError]
