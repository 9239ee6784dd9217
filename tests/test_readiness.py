"""select, poll, epoll and selectors on fake sockets: the same answers as on real loopback
sockets."""

from __future__ import annotations

import select
import selectors
import socket
import time

import pytest

import sockviz

from .differential import Env


def ready(sock: socket.socket) -> tuple[bool, bool]:
    """(readable, writable) right now, by select()."""
    readable, writable, _ = select.select([sock], [sock], [], 0)
    return bool(readable), bool(writable)


def polled(sock: socket.socket) -> tuple[str, ...]:
    """What poll() and epoll() report right now (they must agree): IN, OUT, HUP, ERR, RDHUP."""
    names = ("IN", "OUT", "HUP", "ERR", "RDHUP")
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLOUT | select.POLLRDHUP)
    mask = dict(poller.poll(0)).get(sock.fileno(), 0)
    with select.epoll() as ep:
        ep.register(sock.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP)
        emask = dict(ep.poll(0)).get(sock.fileno(), 0)
    bits = tuple(name for name in names if mask & getattr(select, f"POLL{name}"))
    assert bits == tuple(name for name in names if emask & getattr(select, f"EPOLL{name}"))
    return bits


def life_of_a_connection(env: Env) -> list[object]:
    """Readiness at each step of a connection's life, by select and by poll."""
    out: list[object] = []
    fresh = socket.socket()
    # poll() says POLLOUT|POLLHUP here; sockviz's carrier says POLLIN|POLLOUT (docs/design.md)
    out += [("fresh", ready(fresh))]
    listener = env.listener()
    out += [("idle listener", ready(listener), polled(listener))]
    client = socket.socket()
    client.connect(listener.getsockname())
    env.settle()
    out += [("listener with a pending connection", ready(listener), polled(listener))]
    server, _ = listener.accept()
    out += [("listener after accept", ready(listener))]
    out += [("idle connection", ready(client), ready(server), polled(server))]
    client.sendall(b"hello")
    env.settle()
    out += [("data waiting", ready(server), polled(server))]
    out += [("read", server.recv(100), ready(server))]
    client.shutdown(socket.SHUT_WR)
    env.settle()
    out += [("peer shut down writing", ready(server), polled(server), server.recv(100))]
    client.close()
    env.settle()
    out += [("peer closed", ready(server))]
    for sock in (server, listener, fresh):
        sock.close()
    return out


def nonblocking_connect(env: Env) -> list[object]:
    """A non-blocking connect reports EINPROGRESS, becomes writable, and SO_ERROR says 0 (as asyncio
    expects)."""
    listener = env.listener()
    client = socket.socket()
    client.setblocking(False)
    out: list[object] = [client.connect_ex(listener.getsockname())]
    _, writable, _ = select.select([], [client], [], 2)
    out += [bool(writable), client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)]
    refused = socket.socket()
    refused.setblocking(False)
    out += [refused.connect_ex(("127.0.0.1", env.dead_port()))]
    readable, writable, _ = select.select([refused], [refused], [], 2)
    out += [bool(readable), bool(writable), polled(refused)]
    out += [refused.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), polled(refused)]
    for sock in (client, refused, listener):
        sock.close()
    return out


def hang_ups(env: Env) -> list[object]:
    """POLLRDHUP when the peer is done sending, POLLHUP when both ways are shut."""
    out: list[object] = []
    listener, client, server = env.pair()
    client.close()
    env.settle()
    out += [("peer closed", polled(server))]
    server.shutdown(socket.SHUT_WR)
    env.settle()
    out += [("peer closed, own SHUT_WR", polled(server))]
    server.close()
    second, client, server = env.pair()
    server.shutdown(socket.SHUT_RDWR)
    env.settle()
    out += [("own SHUT_RDWR", polled(server)), ("its peer", polled(client))]
    for sock in (client, server, second):
        sock.close()
    _, client, server = env.pair()
    server.sendall(b"unread")
    env.settle()
    client.close()  # with bytes unread: a reset, not a FIN
    env.settle()
    out += [("reset", polled(server))]
    try:
        server.recv(10)
    except OSError as error:
        out += [("recv after the reset", type(error).__name__)]
    out += [("reset reported", polled(server))]
    server.close()
    listener.close()
    return out


@pytest.mark.parametrize(
    "scenario", [life_of_a_connection, nonblocking_connect, hang_ups], ids=lambda f: f.__name__
)
def test_readiness_matches_real_loopback(scenario) -> None:
    """select(), poll() and epoll() say what Linux says at every step, for fake sockets too."""
    real = scenario(Env(real=True))
    with sockviz.fake_network("strict"):
        fake = scenario(Env(real=False))
    assert fake == real


def test_a_full_buffer_is_not_writable_until_the_reader_reads() -> None:
    """Backpressure shows: with the peer's buffer full, select() says not writable; a recv() frees
    it."""
    with sockviz.fake_network("strict", buffer_size=1024):
        listener = socket.create_server(("127.0.0.1", 0))
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        client.setblocking(False)
        assert client.send(b"x" * 5000) == 1024
        assert ready(client) == (False, False)
        server.recv(10)
        assert ready(client) == (False, True)
        for sock in (client, server, listener):
            sock.close()


def test_selectors_wait_exactly_as_long_as_asked_and_wake_on_data() -> None:
    """A selector times out on time with nothing to do, and wakes when another thread sends."""
    times: dict[str, float] = {}

    def server() -> None:
        with socket.create_server(("", 7000)) as listener:
            conn, _ = listener.accept()
            with conn, selectors.DefaultSelector() as selector:
                selector.register(conn, selectors.EVENT_READ)
                started = time.monotonic()
                assert selector.select(0.25) == []
                times["timeout"] = time.monotonic() - started
                started = time.monotonic()
                assert selector.select(5)
                times["woken"] = time.monotonic() - started
                assert conn.recv(10) == b"ping"

    def client() -> None:
        with socket.create_connection(("server", 7000)) as sock:
            time.sleep(0.5)
            sock.sendall(b"ping")

    sockviz.weld(server, client)
    assert 0.24 <= times["timeout"] < 0.4
    assert times["woken"] < 0.45


def test_a_fake_socket_nobody_selects_on_gets_no_carrier() -> None:
    """Readiness costs nothing until someone asks for fileno()."""
    with sockviz.fake_network() as weld:
        sock = socket.socket()
        assert not weld.net.carriers
        fd = sock.fileno()
        assert list(weld.net.carriers) == [fd]
        sock.close()
        assert not weld.net.carriers and sock.fileno() == -1


def test_select_mixes_fake_sockets_and_real_descriptors() -> None:
    """One select() call over a fake socket and a real pipe reports each as it stands."""
    import os

    read_end, write_end = os.pipe()
    try:
        with sockviz.fake_network():
            a, b = socket.socketpair()
            os.write(write_end, b"x")
            readable, _, _ = select.select([a, read_end], [], [], 0)
            assert readable == [read_end]
            b.sendall(b"y")
            readable, _, _ = select.select([a, read_end], [], [], 0)
            assert set(map(id, readable)) == {id(a), id(read_end)}
            a.close()
            b.close()
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize(
    "kind", ["SelectSelector", "PollSelector", "EpollSelector", "DefaultSelector"]
)
def test_every_selector_sees_accepts_data_and_end_of_file(kind: str) -> None:
    """Each selectors class reports a pending connection, then data, then end of file on fake
    sockets."""
    seen: list[str] = []

    def server() -> None:
        with socket.create_server(("", 7100)) as listener, getattr(selectors, kind)() as selector:
            listener.setblocking(False)
            selector.register(listener, selectors.EVENT_READ, "listener")
            while len(seen) < 3:
                for key, _ in selector.select(5):
                    if key.data == "listener":
                        conn, _ = listener.accept()
                        conn.setblocking(False)
                        selector.register(conn, selectors.EVENT_READ, "conn")
                        seen.append("accept")
                    else:
                        data = key.fileobj.recv(100)
                        seen.append("data" if data else "eof")
                        if not data:
                            selector.unregister(key.fileobj)
                            key.fileobj.close()

    def client() -> None:
        with socket.create_connection(("server", 7100)) as sock:
            sock.sendall(b"hello")
            time.sleep(0.05)

    sockviz.weld(server, client, timeout=20)
    assert seen == ["accept", "data", "eof"]


def test_a_reset_shown_on_an_unwritable_carrier_does_not_raise() -> None:
    """An unwritable descriptor (its buffer filled) that then shows a reset: POLLERR, no EAGAIN."""
    import os
    import select

    from sockviz._net._readiness import Carrier

    fd = os.open(os.devnull, os.O_RDONLY)  # a descriptor number for the carrier to take over
    carrier = Carrier(fd)
    try:
        # unwritable: the buffer is filled
        carrier.show(lambda: (False, False, False, False, False))
        carrier.show(lambda: (True, True, True, True, True))  # then reset
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLOUT)
        ((_, events),) = poller.poll(0)
        assert events & select.POLLERR and events & select.POLLHUP
    finally:
        carrier.close()
        os.close(fd)
