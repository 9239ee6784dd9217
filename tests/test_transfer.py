"""Bytes through fake connections: exact, in order, with backpressure, EOF and timeouts."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sockviz


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=st.lists(st.binary(min_size=0, max_size=3000), min_size=1, max_size=8),
    read_size=st.integers(min_value=1, max_value=5000),
    buffer_size=st.integers(min_value=1, max_value=4096),
    semantics=st.sampled_from(["weldr", "strict"]),
)
def test_bytes_arrive_exactly_whatever_the_sizes(
    messages: list[bytes], read_size: int, buffer_size: int, semantics: str
) -> None:
    """Whatever the message, read and buffer sizes, the receiver gets every byte in order, then
    EOF."""
    received = bytearray()
    listening = threading.Event()  # strict semantics refuse a client that comes too early

    def server() -> None:
        with socket.create_server(("", 9000)) as listener:
            listening.set()
            conn, _ = listener.accept()
            with conn:
                while chunk := conn.recv(read_size):
                    assert len(chunk) <= min(read_size, buffer_size)
                    received.extend(chunk)

    def client() -> None:
        listening.wait(5)
        with socket.create_connection(("server", 9000)) as sock:
            for message in messages:
                sock.sendall(message)

    sockviz.weld(server, client, buffer_size=buffer_size, semantics=semantics, timeout=20)  # type: ignore[arg-type]
    assert bytes(received) == b"".join(messages)


def test_send_blocks_while_the_peer_buffer_is_full_and_the_trace_shows_it() -> None:
    """A 10 KiB sendall through a 1 KiB buffer waits for the reader, recorded as waits on the
    buffer's space."""
    got = bytearray()

    def server() -> None:
        with socket.create_server(("", 9001)) as listener:
            conn, _ = listener.accept()
            with conn:
                time.sleep(0.05)  # let the client fill the buffer
                while chunk := conn.recv(300):
                    got.extend(chunk)

    def client() -> None:
        with socket.create_connection(("server", 9001)) as sock:
            sock.sendall(bytes(range(256)) * 40)

    trace = sockviz.weld(server, client, buffer_size=1024)
    assert bytes(got) == bytes(range(256)) * 40
    space_waits = [e for e in trace.of_kind("cond.wait") if e.obj.endswith(".space")]
    assert space_waits and all(e.thread == "client" for e in space_waits)
    first = space_waits[0]
    assert (first.get("call"), first.get("until"), first.get("peer_owner")) == (
        "send",
        "room",
        "server",
    )
    fills = [e.get("fill") for e in trace.of_kind("buf.write")]
    assert max(fills) == 1024  # never more than the capacity


def test_send_with_a_timeout_returns_a_partial_count() -> None:
    """send() on a socket with a timeout returns what fitted, as the real call does; then
    TimeoutError."""
    with sockviz.fake_network("strict", buffer_size=100):
        listener = socket.create_server(("127.0.0.1", 9002))
        client = socket.create_connection(("127.0.0.1", 9002))
        client.settimeout(0.1)
        assert client.send(b"x" * 250) == 100
        with pytest.raises(TimeoutError):
            client.send(b"more")
        conn, _ = listener.accept()
        assert conn.recv(1000) == b"x" * 100
        assert client.send(b"more") == 4


def test_nonblocking_send_on_a_full_buffer_raises_blocking_io_error() -> None:
    """A non-blocking send with no room raises BlockingIOError (EAGAIN) and sends nothing."""
    with sockviz.fake_network("strict", buffer_size=10):
        # kept: a dropped listener is collected and closed
        listener = socket.create_server(("127.0.0.1", 9003))
        client = socket.create_connection(("127.0.0.1", 9003))
        client.setblocking(False)
        assert client.send(b"0123456789abc") == 10
        with pytest.raises(BlockingIOError) as info:
            client.send(b"z")
        assert info.value.errno == 11
        listener.close()


def test_sendall_with_a_timeout_gives_up_after_the_whole_timeout() -> None:
    """sendall() into a full buffer nobody reads raises TimeoutError after about the timeout."""
    with sockviz.fake_network("strict", buffer_size=10):
        # kept: a dropped listener is collected and closed
        listener = socket.create_server(("127.0.0.1", 9004))
        client = socket.create_connection(("127.0.0.1", 9004))
        client.settimeout(0.2)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            client.sendall(b"y" * 100)
        assert 0.15 < time.monotonic() - started < 1.0
        listener.close()


def test_weldr_backlog_queues_clients_and_accept_takes_them_in_arrival_order() -> None:
    """Three clients queue in the backlog; accept() returns them in the order they connected."""
    order: list[bytes] = []

    def server() -> None:
        with socket.create_server(("", 9005), backlog=3) as listener:
            time.sleep(0.2)  # all three clients are waiting by now
            for _ in range(3):
                conn, _ = listener.accept()
                with conn:
                    order.append(conn.recv(10))

    def client(name: bytes, delay: float):
        def run() -> None:
            time.sleep(delay)
            with socket.create_connection(("server", 9005)) as sock:
                sock.sendall(name)

        return run

    trace = sockviz.weld(
        {"server": server, "a": client(b"a", 0.0), "b": client(b"b", 0.05), "c": client(b"c", 0.1)}
    )
    assert order == [b"a", b"b", b"c"]
    assert [m.get("connect") for m in trace.of_kind("meet")] == ["a", "b", "c"]


def test_weldr_connect_returns_only_after_accept() -> None:
    """weldr semantics: connect() waits on a semaphore until accept() posts it (the original's
    rendezvous)."""

    def server() -> None:
        with socket.create_server(("", 9006)) as listener:
            time.sleep(0.1)
            listener.accept()[0].close()

    def client() -> None:
        socket.create_connection(("server", 9006)).close()

    trace = sockviz.weld(server, client, semantics="weldr")
    [meet] = trace.of_kind("meet")
    connect_return = next(e for e in trace if e.kind == "return" and e.get("op") == "connect")
    assert connect_return.seq > meet.seq
    acquire = next(e for e in trace.of_kind("sem.acquire") if e.thread == "client")
    assert trace.by_seq(acquire.get("cause")).thread == "server"


def test_strict_connect_returns_before_accept() -> None:
    """strict semantics: connect() completes when queued, like Linux, before the server accepts."""
    listening = threading.Event()

    def server() -> None:
        with socket.create_server(("", 9007)) as listener:
            listening.set()
            time.sleep(0.1)
            listener.accept()[0].close()

    def client() -> None:
        listening.wait(5)
        socket.create_connection(("server", 9007)).close()

    trace = sockviz.weld(server, client, semantics="strict")
    [meet] = trace.of_kind("meet")
    connect_return = next(e for e in trace if e.kind == "return" and e.get("op") == "connect")
    assert connect_return.seq < meet.seq


def test_shutdown_rdwr_from_another_thread_wakes_a_blocked_recv_and_accept() -> None:
    """Another thread's shutdown(SHUT_RDWR) wakes recv() with b'' and accept() with EINVAL, as on
    Linux."""
    results: dict[str, object] = {}

    def server() -> None:
        listener = socket.create_server(("", 9008))
        conn, _ = listener.accept()

        def stopper() -> None:
            time.sleep(0.1)
            conn.shutdown(socket.SHUT_RDWR)
            listener.shutdown(socket.SHUT_RDWR)

        threading.Thread(target=stopper, name="stopper").start()
        results["recv"] = conn.recv(10)
        try:
            listener.accept()
        except OSError as exc:
            results["accept"] = exc.errno

    def client() -> None:
        sock = socket.create_connection(("server", 9008))
        time.sleep(0.3)
        sock.close()

    sockviz.weld(server, client)
    assert results == {"recv": b"", "accept": 22}


def test_socketpair_in_a_welded_thread_is_a_connected_fake_pair() -> None:
    """socket.socketpair() gives two connected fake sockets, and a meet event."""
    with sockviz.fake_network() as net:
        left, right = socket.socketpair()
        assert isinstance(left, sockviz.lowlevel.FakeSocket)
        left.sendall(b"over")
        assert right.recv(10) == b"over"
        assert left.getsockname() == ""
        left.close()
        assert right.recv(10) == b""
    assert [m.get("what") for m in net.trace.of_kind("meet")] == ["socketpair"]


def test_garbage_collected_socket_closes_and_the_peer_sees_eof() -> None:
    """A dropped fake socket is closed like a real one, so the peer's recv() returns b''."""
    import gc

    with sockviz.fake_network("strict"):
        listener = socket.create_server(("127.0.0.1", 9009))
        client = socket.create_connection(("127.0.0.1", 9009))
        conn, _ = listener.accept()
        del conn
        gc.collect()
        assert client.recv(10) == b""


def test_msg_waitall_waits_for_every_byte_across_sends() -> None:
    """recv(n, MSG_WAITALL) on a blocking socket returns n bytes even when they come in pieces."""
    got: list[bytes] = []

    def server() -> None:
        with socket.create_server(("", 9010)) as listener:
            conn, _ = listener.accept()
            with conn:
                got.append(conn.recv(11, socket.MSG_WAITALL))

    def client() -> None:
        with socket.create_connection(("server", 9010)) as sock:
            sock.sendall(b"hello ")
            time.sleep(0.05)
            sock.sendall(b"world")

    sockviz.weld(server, client)
    assert got == [b"hello world"]


def test_another_threads_close_does_not_wake_a_blocked_recv() -> None:
    """As on Linux, closing a socket from another thread leaves its blocked recv() waiting (here: a
    deadlock)."""

    def server() -> None:
        with socket.create_server(("", 9011)) as listener:
            conn, _ = listener.accept()
            closer = threading.Thread(
                target=lambda: (time.sleep(0.05), conn.close()), name="closer"
            )
            closer.start()
            conn.recv(10)  # never returns: close() wakes nobody

    def client() -> None:
        with socket.create_connection(("server", 9011)) as sock:
            sock.recv(10)

    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld(server, client, timeout=10)
    assert "recv() on fd" in info.value.waits["server"]


def test_a_listener_closed_by_another_thread_keeps_accepting_until_its_accept_returns() -> None:
    """As on Linux: close() while accept() waits frees the fd, but the blocked accept still gets the
    next client."""
    results: dict[str, object] = {}
    closed = threading.Event()

    def server() -> None:
        listener = socket.create_server(("", 9012))

        def closer() -> None:
            time.sleep(0.05)
            listener.close()
            results["fileno after close"] = listener.fileno()
            closed.set()

        threading.Thread(target=closer, name="closer").start()
        conn, _ = listener.accept()  # still waiting after the close ...
        results["accepted"] = conn.recv(10)  # ... and it gets the client

    def client() -> None:
        closed.wait(5)
        with socket.create_connection(("server", 9012)) as sock:
            sock.sendall(b"late")

    trace = sockviz.weld(server, client)
    assert results == {"fileno after close": -1, "accepted": b"late"}
    deferred = [e for e in trace.of_kind("return") if e.get("op") == "close" and e.get("deferred")]
    assert deferred and deferred[0].thread == "server/closer"


def test_a_socket_closed_while_it_connects_stays_closed() -> None:
    """close() while another thread waits in connect(): the connect still completes, the socket
    stays CLOSED, the server sees EOF."""
    got: dict[str, object] = {}
    listening = threading.Event()

    def client() -> None:
        sock = socket.socket()

        def closer() -> None:
            time.sleep(0.05)  # the connect is waiting for a listener by now
            sock.close()
            listening.set()

        threading.Thread(target=closer, name="closer").start()
        sock.connect(("server", 9013))
        got["mode"] = sock.mode  # type: ignore[attr-defined]

    def server() -> None:
        listening.wait(5)
        with socket.create_server(("", 9013)) as listener:
            conn, _ = listener.accept()
            got["eof"] = conn.recv(10)

    sockviz.weld(client, server, semantics="weldr")  # the connect waits for a listener
    assert got == {"mode": sockviz.lowlevel.SocketMode.CLOSED, "eof": b""}
