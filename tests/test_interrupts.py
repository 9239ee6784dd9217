"""Signals and Ctrl-C inside a fake wait leave the network consistent (the main thread gets them)."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest

import sockviz


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
    """A SIGALRM handler's exception ends a blocked send() twice; nobody is listed waiting; the peer reads and closes."""
    with sockviz.fake_network() as weld:
        a, b = socket.socketpair()
        idle = threading.Event()
        helper = threading.Thread(target=idle.wait, name="idle")  # a second welded thread: no deadlock
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
    """The interrupted thread waits again and is woken by the peer's read, as if nothing had happened."""
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
    assert wakes and all(weld.trace.by_seq(e.fields["cause"]).thread == "MainThread/reader" for e in wakes)


def test_ctrl_c_in_accept_leaves_the_listener_usable() -> None:
    """KeyboardInterrupt (Ctrl-C: the kernel's interrupt) in accept(): the next accept() gets the client."""
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
    """A semaphore wait (weldr's connect) interrupted: the network's books stay right, and the weld ends cleanly."""
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
        conn, _ = listener.accept()  # the interrupted connect is still queued, as Linux finishes it in the background
        client.close()
        assert conn.recv(10) == b""
        conn.close()
        listener.close()
