"""Scenarios written once against the socket module, run on real and fake sockets.

Each scenario takes an :class:`Env` and returns a list of outcomes; the
differential test runs it on real loopback sockets and inside
``sockviz.fake_network("strict")`` and demands identical lists.  An outcome
is ``("ok", value)`` or ``(exception class name, errno)`` -- what a user of
the socket module would see.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from typing import Any

Outcome = tuple[Any, ...]


class Env:
    """What a scenario needs that differs between real and fake runs."""

    def __init__(self, real: bool) -> None:
        self.real = real

    def settle(self) -> None:
        """Let the real kernel deliver a FIN or RST on loopback (instant when fake)."""
        if self.real:
            time.sleep(0.02)

    def listener(self, backlog: int = 5) -> socket.socket:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(backlog)
        return sock

    def pair(self) -> tuple[socket.socket, socket.socket, socket.socket]:
        """(listener, client, server end) of one connection."""
        listener = self.listener()
        client = socket.socket()
        client.connect(listener.getsockname())
        server, _ = listener.accept()
        return listener, client, server

    def dead_port(self) -> int:
        """A port that is bound but where nobody listens: connect is refused."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._keep = sock
        return int(sock.getsockname()[1])


def attempt(fn: Callable[..., Any], *args: Any) -> Outcome:
    try:
        value = fn(*args)
    except OSError as exc:
        return (type(exc).__name__, exc.errno)
    except (TypeError, ValueError, OverflowError) as exc:
        return (type(exc).__name__, str(exc))
    return ("ok", _plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, socket.socket) or type(value).__name__ == "FakeSocket":
        return "<socket>"
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


# -- the scenarios ----------------------------------------------------------


def refused_connect(env: Env) -> list[Outcome]:
    port = env.dead_port()
    sock = socket.socket()
    out = [attempt(sock.connect, ("127.0.0.1", port))]
    out.append(attempt(lambda: sock.getsockname()[0]))
    out.append(attempt(sock.recv, 1))
    out.append(attempt(sock.connect, ("127.0.0.1", port)))
    out.append(attempt(socket.socket().connect_ex, ("127.0.0.1", port)))
    return out


def early_shut_read_then_refused(env: Env) -> list[Outcome]:
    """shutdown(SHUT_RD) before connecting makes recv() give b''; a refused connect undoes that."""
    port = env.dead_port()
    out = []
    for blocking in (True, False):
        sock = socket.socket()
        out.append(attempt(sock.shutdown, socket.SHUT_RD))
        sock.setblocking(False)
        out.append(attempt(sock.recv, 1))
        sock.setblocking(blocking)
        out.append(attempt(sock.connect_ex, ("127.0.0.1", port)))
        env.settle()
        out.append(attempt(sock.connect_ex, ("127.0.0.1", port)))
        sock.setblocking(False)
        out.append(attempt(sock.recv, 1))
        sock.close()
    return out


def address_in_use(env: Env) -> list[Outcome]:
    listener = env.listener()
    other = socket.socket()
    out = [attempt(other.bind, listener.getsockname())]
    reuse = socket.socket()
    reuse.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    out.append(attempt(reuse.bind, listener.getsockname()))  # a listener holds it even so
    out.append(attempt(lambda: other.bind(("127.0.0.1", 0))))  # the failed bind changed nothing
    return out


def double_bind(env: Env) -> list[Outcome]:
    sock = socket.socket()
    return [attempt(sock.bind, ("127.0.0.1", 0)), attempt(sock.bind, ("127.0.0.1", 0))]


def accept_not_listening(env: Env) -> list[Outcome]:
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    return [attempt(bound.accept), attempt(socket.socket().accept)]


def unconnected_calls(env: Env) -> list[Outcome]:
    sock = socket.socket()
    return [
        attempt(sock.recv, 1),
        attempt(sock.send, b"x"),
        attempt(sock.sendall, b"x"),
        attempt(sock.getpeername),
        attempt(sock.shutdown, socket.SHUT_WR),
        attempt(sock.getsockname),
        attempt(sock.gettimeout),
        attempt(sock.getblocking),
        attempt(sock.getsockopt, socket.SOL_SOCKET, socket.SO_ERROR),
        attempt(sock.getsockopt, socket.SOL_SOCKET, socket.SO_TYPE),
        attempt(sock.getsockopt, socket.SOL_SOCKET, 9999),
        attempt(sock.setsockopt, socket.SOL_SOCKET, 9999, 1),
        attempt(lambda: (sock.family, sock.type, sock.proto)),
    ]


def listener_calls(env: Env) -> list[Outcome]:
    listener = env.listener()
    return [
        attempt(listener.connect, ("127.0.0.1", 1)),
        attempt(listener.send, b"x"),
        attempt(listener.recv, 1),
        attempt(listener.getpeername),
        attempt(listener.listen, 3),
        attempt(listener.getsockopt, socket.SOL_SOCKET, socket.SO_ACCEPTCONN),
    ]


def connect_twice(env: Env) -> list[Outcome]:
    listener, client, server = env.pair()
    return [
        attempt(client.connect, listener.getsockname()),
        attempt(client.connect_ex, listener.getsockname()),
        attempt(client.bind, ("127.0.0.1", 0)),
        attempt(client.listen, 1),
        attempt(client.accept),
        attempt(lambda: client.getpeername() == listener.getsockname()),
        attempt(lambda: server.getpeername() == client.getsockname()),
    ]


def peer_close(env: Env) -> list[Outcome]:
    _listener, client, server = env.pair()
    server.sendall(b"last words")
    server.close()
    env.settle()
    out = [
        attempt(client.recv, 100),
        attempt(client.recv, 100),
        attempt(lambda: client.getpeername()[0]),
    ]
    out.append(attempt(client.send, b"x"))  # the first send after a FIN succeeds
    env.settle()
    out += [attempt(client.send, b"x"), attempt(client.recv, 100), attempt(client.getpeername)]
    return out


def peer_close_with_unread_data(env: Env) -> list[Outcome]:
    _listener, client, server = env.pair()
    client.send(b"never read")
    env.settle()
    server.close()  # bytes left unread: Linux sends a reset, not a FIN
    env.settle()
    return [
        attempt(client.recv, 10),
        attempt(client.recv, 10),
        attempt(client.send, b"x"),
        attempt(client.getpeername),
    ]


def half_close(env: Env) -> list[Outcome]:
    _listener, client, server = env.pair()
    client.sendall(b"request")
    client.shutdown(socket.SHUT_WR)
    env.settle()
    out = [attempt(server.recv, 100), attempt(server.recv, 100)]
    out.append(attempt(server.sendall, b"response"))  # the half-closed side still receives
    env.settle()
    out += [
        attempt(client.recv, 100),
        attempt(client.send, b"more"),
        attempt(lambda: client.getpeername()[0]),
    ]
    out.append(attempt(client.shutdown, socket.SHUT_WR))  # again is fine
    return out


def shut_read(env: Env) -> list[Outcome]:
    _listener, client, server = env.pair()
    server.shutdown(socket.SHUT_RD)
    client.send(b"hello")
    env.settle()
    out = [attempt(server.recv, 10), attempt(server.recv, 10), attempt(server.send, b"yo")]
    env.settle()
    out.append(attempt(client.recv, 10))
    return out


def calls_after_close(env: Env) -> list[Outcome]:
    listener, client, _server = env.pair()
    client.close()
    out = [
        attempt(client.recv, 1),
        attempt(client.send, b"x"),
        attempt(client.bind, ("127.0.0.1", 0)),
        attempt(client.listen),
        attempt(client.accept),
        attempt(client.connect, listener.getsockname()),
        attempt(client.connect_ex, listener.getsockname()),
        attempt(client.getsockname),
        attempt(client.getpeername),
        attempt(client.shutdown, socket.SHUT_RDWR),
        attempt(client.setsockopt, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1),
        attempt(client.settimeout, 1.0),
        attempt(client.setblocking, False),
        attempt(client.gettimeout),
        attempt(client.fileno),
        attempt(client.close),
    ]
    return out


def timeouts(env: Env) -> list[Outcome]:
    listener, client, _server = env.pair()
    client.settimeout(0.2)
    started = time.monotonic()
    out = [attempt(client.recv, 10)]
    waited = time.monotonic() - started
    out.append(("waited about 0.2 s", 0.18 <= waited < 1.0))
    listener.settimeout(0.1)
    out.append(attempt(listener.accept))
    out += [attempt(client.gettimeout), attempt(client.getblocking)]
    out += [attempt(client.settimeout, -1), attempt(client.settimeout, "x")]
    return out


def nonblocking(env: Env) -> list[Outcome]:
    listener, client, server = env.pair()
    client.setblocking(False)
    listener.setblocking(False)
    out = [
        attempt(client.recv, 10),
        attempt(listener.accept),
        attempt(client.gettimeout),
        attempt(client.getblocking),
    ]
    server.sendall(b"now")
    env.settle()
    out.append(attempt(client.recv, 10))
    other = socket.socket()
    other.connect(listener.getsockname())
    env.settle()
    conn = listener.accept()[0]
    out.append(attempt(lambda: (conn.gettimeout(), conn.getblocking())))  # accepted: blocking again
    return out


def nonblocking_connect(env: Env) -> list[Outcome]:
    listener = env.listener()
    sock = socket.socket()
    sock.setblocking(False)
    out = [attempt(sock.connect, listener.getsockname())]
    env.settle()
    out.append(attempt(sock.connect, listener.getsockname()))
    out.append(attempt(sock.connect, listener.getsockname()))
    out.append(attempt(sock.getsockopt, socket.SOL_SOCKET, socket.SO_ERROR))
    return out


def nonblocking_connect_refused(env: Env) -> list[Outcome]:
    sock = socket.socket()
    sock.setblocking(False)
    out = [attempt(sock.connect, ("127.0.0.1", env.dead_port()))]
    env.settle()
    out.append(attempt(sock.getsockopt, socket.SOL_SOCKET, socket.SO_ERROR))
    out.append(attempt(sock.getsockopt, socket.SOL_SOCKET, socket.SO_ERROR))
    out.append(attempt(sock.recv, 1))
    return out


def refused_in_the_background_then_calls(env: Env) -> list[Outcome]:
    """The pending error goes to the first call that looks; after it, the socket is unconnected."""
    port = env.dead_port()
    out = []
    for first in ("send", "recv", "connect"):
        sock = socket.socket()
        sock.setblocking(False)
        out.append(attempt(sock.connect, ("127.0.0.1", port)))
        env.settle()
        call = {
            "send": lambda s=sock: s.send(b"x"),
            "recv": lambda s=sock: s.recv(1),
            "connect": lambda s=sock: s.connect(("127.0.0.1", port)),
        }[first]
        out += [
            (first, attempt(call)),
            attempt(sock.getsockopt, socket.SOL_SOCKET, socket.SO_ERROR),
            attempt(lambda s=sock: s.getsockname()[0]),
        ]
        out += [attempt(sock.getpeername), attempt(sock.listen)]
    sock = socket.socket()
    sock.setblocking(False)
    sock.connect_ex(("127.0.0.1", port))
    env.settle()
    sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    # ECONNABORTED, then a new try
    out += [attempt(sock.connect, ("127.0.0.1", port)), attempt(sock.connect, ("127.0.0.1", port))]
    out.append(attempt(sock.bind, ("127.0.0.1", 0)))
    return out


def listener_closed_before_a_nonblocking_connect_was_reported(env: Env) -> list[Outcome]:
    """The reset becomes the connect's pending error, reported by whichever call comes first."""
    dead = ("127.0.0.1", env.dead_port())
    out: list[Outcome] = []
    for first in ("connect", "SO_ERROR", "recv", "send"):
        listener = env.listener(backlog=0)
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(listener.getsockname())
        env.settle()
        listener.close()
        env.settle()
        calls = {
            "connect": lambda s=sock: s.connect(dead),
            "SO_ERROR": lambda s=sock: s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR),
            "recv": lambda s=sock: s.recv(1),
            "send": lambda s=sock: s.send(b"x"),
        }
        out.append((first, attempt(calls[first])))
        out += [
            attempt(calls["SO_ERROR"]),
            attempt(calls["recv"]),
            attempt(calls["send"]),
            attempt(calls["connect"]),
        ]
    return out


def connect_after_a_reset_is_eisconn(env: Env) -> list[Outcome]:
    """A socket that had connected stays "connected" for connect() after a reset: EISCONN, every
    time.

    Reset two ways: the peer closed with bytes unread, and the listener was shut
    down (SHUT_RD stops it) with the reported connection still in its queue.
    """
    out: list[Outcome] = []
    listener = env.listener()
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    client.sendall(b"unread")
    env.settle()
    server.close()  # unread bytes: a reset, not a FIN
    env.settle()
    out += [
        attempt(client.connect, listener.getsockname()),
        attempt(client.recv, 1),
        attempt(client.connect, listener.getsockname()),
    ]
    other = socket.create_connection(listener.getsockname())
    peer, _ = listener.accept()
    other.sendall(b"unread")
    env.settle()
    peer.close()
    env.settle()
    # the reset first, then EPIPE
    out += [attempt(other.send, b"x"), attempt(other.send, b"x"), attempt(other.recv, 1)]
    queued = env.listener(backlog=0)
    sock = socket.socket()
    sock.setblocking(False)
    out.append(attempt(sock.connect, queued.getsockname()))  # EINPROGRESS
    env.settle()
    out.append(attempt(sock.connect, queued.getsockname()))  # done: reported
    queued.shutdown(socket.SHUT_RD)
    env.settle()
    out += [attempt(sock.connect, queued.getsockname()), attempt(sock.send, b"x")]
    return out


def early_shutdown_write_then_connect(env: Env) -> list[Outcome]:
    """shutdown(SHUT_WR) before connecting says ENOTCONN yet sticks: once connected, send() is
    EPIPE.

    A refused connect forgets it, as it forgets an early SHUT_RD.
    """
    out: list[Outcome] = []
    for blocking in (True, False):
        listener = env.listener()
        sock = socket.socket()
        out.append(attempt(sock.shutdown, socket.SHUT_WR))
        sock.setblocking(blocking)
        out.append(attempt(sock.connect, listener.getsockname()))
        env.settle()
        out += [
            attempt(sock.send, b""),
            attempt(sock.send, b"x"),
            attempt(sock.getsockopt, socket.SOL_SOCKET, socket.SO_ERROR),
        ]
        conn, _ = listener.accept()
        conn.setblocking(False)
        out.append(attempt(conn.recv, 1))  # no FIN was sent: nothing to read yet
    # shut early, then listening stopped by shutdown: Linux's disconnect forgets the marks
    stopped = socket.socket()
    stopped.setblocking(False)
    out += [
        attempt(stopped.shutdown, socket.SHUT_RDWR),
        attempt(stopped.listen, 0),
        attempt(stopped.shutdown, socket.SHUT_RD),
    ]
    out += [attempt(stopped.recv, 1), attempt(stopped.send, b"x")]
    refused = socket.socket()
    out.append(attempt(refused.shutdown, socket.SHUT_WR))
    out.append(attempt(refused.connect, ("127.0.0.1", env.dead_port())))
    listener = env.listener()
    out.append(attempt(refused.connect, listener.getsockname()))
    out.append(attempt(refused.send, b"x"))
    return out


def refused_blocking_then_bind_and_listen(env: Env) -> list[Outcome]:
    """A refused blocking connect gives its automatic port back: bind and listen work again."""
    port = env.dead_port()
    first, second = socket.socket(), socket.socket()
    out = [attempt(first.connect, ("127.0.0.1", port)), attempt(lambda: first.getsockname()[0])]
    out += [attempt(first.bind, ("127.0.0.1", 0)), attempt(lambda: first.getsockname()[0])]
    second.connect_ex(("127.0.0.1", port))
    second.setblocking(False)
    out += [attempt(second.listen), attempt(second.accept)]
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    name = bound.getsockname()
    # a bound port stays
    out += [
        attempt(bound.connect, ("127.0.0.1", port)),
        attempt(lambda: bound.getsockname() == name),
    ]
    return out


def nonblocking_connect_to_a_full_backlog(env: Env) -> list[Outcome]:
    listener = env.listener(backlog=0)
    first = socket.socket()
    first.connect(listener.getsockname())
    env.settle()
    sock = socket.socket()
    sock.setblocking(False)
    out = [
        attempt(sock.connect, listener.getsockname()),
        attempt(sock.connect, listener.getsockname()),
    ]
    out.append(attempt(sock.getsockopt, socket.SOL_SOCKET, socket.SO_ERROR))
    out.append(attempt(sock.send, b"x"))
    return out


def backlog(env: Env) -> list[Outcome]:
    listener = env.listener(backlog=1)
    clients = []
    out = []
    for i in range(3):
        client = socket.socket()
        client.settimeout(0.3)
        out.append(attempt(client.connect, listener.getsockname()))
        client.sendall(b"%d" % i) if out[-1][0] == "ok" else None
        clients.append(client)
    env.settle()
    for _ in range(2):
        conn, _ = listener.accept()
        out.append(attempt(conn.recv, 10))  # accepted in arrival order
    return out


def makefile_lines(env: Env) -> list[Outcome]:
    _listener, client, server = env.pair()
    writer = client.makefile("wb")
    writer.write(b"first line\nsecond line\n")
    writer.flush()
    writer.close()
    client.shutdown(socket.SHUT_WR)
    reader = server.makefile("r", encoding="ascii", newline="\n")
    out = [attempt(reader.readline), attempt(reader.readline), attempt(reader.readline)]
    server.close()  # the file keeps the socket open ...
    out.append(attempt(lambda: server.fileno() >= 0))
    reader.close()  # ... until it is closed too
    out.append(attempt(server.fileno))
    return out


def zero_sizes(env: Env) -> list[Outcome]:
    _listener, client, _server = env.pair()
    return [
        attempt(client.recv, 0),
        attempt(client.send, b""),
        attempt(client.recv, -1),
        attempt(client.send, "text"),
    ]


def bad_arguments(env: Env) -> list[Outcome]:
    sock = socket.socket()
    return [
        attempt(sock.bind, "127.0.0.1"),
        attempt(sock.bind, ("127.0.0.1",)),
        attempt(sock.bind, ("127.0.0.1", 70000)),
        attempt(sock.bind, ("10.1.2.3", 0)),
        attempt(sock.connect, ("127.0.0.1", -1)),
        attempt(sock.shutdown, 7),
        attempt(sock.getsockname),
    ]


def unknown_names(env: Env) -> list[Outcome]:
    return [
        attempt(socket.getaddrinfo, "no-such-host.invalid", 80),
        attempt(socket.getaddrinfo, "localhost", "no-such-service"),
        attempt(socket.gethostbyname, "localhost"),
        attempt(lambda: socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)[0][4]),
        attempt(
            lambda: socket.getaddrinfo(None, 80, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
                0
            ][4]
        ),
        attempt(lambda: socket.socket().connect(("no-such-host.invalid", 80))),
    ]


def recv_variants(env: Env) -> list[Outcome]:
    _listener, client, server = env.pair()
    client.sendall(b"abcdefgh")
    env.settle()
    buffer = bytearray(4)
    out = [attempt(server.recv_into, buffer), ("buffer", bytes(buffer))]
    out.append(attempt(server.recv, 2, socket.MSG_PEEK))
    out.append(attempt(server.recvfrom, 10))
    out.append(attempt(server.recv_into, bytearray(2), 5))
    out.append(attempt(client.sendto, b"xy", ("127.0.0.1", 9)))
    return out


def recv_waitall(env: Env) -> list[Outcome]:
    _listener, client, server = env.pair()
    client.sendall(b"0123456789")
    env.settle()
    out = [attempt(server.recv, 4, socket.MSG_WAITALL)]
    client.shutdown(socket.SHUT_WR)
    env.settle()
    out.append(attempt(server.recv, 100, socket.MSG_WAITALL))  # EOF comes first
    buffer = bytearray(8)
    out.append(attempt(server.recv_into, buffer, 8, socket.MSG_WAITALL))
    return out


def listener_shutdown(env: Env) -> list[Outcome]:
    listener = env.listener()
    listener.shutdown(socket.SHUT_RDWR)
    listener.setblocking(False)
    out = [attempt(listener.accept), attempt(lambda: listener.getsockname()[0])]
    out.append(attempt(socket.socket().connect_ex, listener.getsockname()))
    return out


def create_helpers(env: Env) -> list[Outcome]:
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname(), timeout=2)
    conn, _ = server.accept()
    client.sendall(b"ping")
    out = [
        attempt(conn.recv, 10),
        attempt(client.gettimeout),
        attempt(server.getsockopt, socket.SOL_SOCKET, socket.SO_REUSEADDR),
    ]
    out.append(attempt(socket.create_connection, ("127.0.0.1", env.dead_port())))
    return out


def integer_arguments(env: Env) -> list[Outcome]:
    """CPython's own conversions: listen() parses a C int via a long, shutdown() with
    _PyLong_AsInt."""
    sock = socket.socket()
    return [
        attempt(sock.listen, 2**31),
        attempt(sock.listen, -(2**31) - 1),
        attempt(sock.listen, 2**63),
        attempt(sock.listen, 1.5),
        attempt(sock.shutdown, 2**31),
        attempt(sock.shutdown, -(2**31) - 1),
        attempt(sock.shutdown, "x"),
        attempt(sock.shutdown, -1),
        attempt(lambda: sock.getsockname()[1] > 0),  # the listen() calls that parsed bound it
    ]


def inheritable(env: Env) -> list[Outcome]:
    sock = socket.socket()
    out = [
        attempt(sock.get_inheritable),
        attempt(sock.set_inheritable, True),
        attempt(sock.get_inheritable),
    ]
    sock.listen()
    sock.fileno()  # (a fake socket gets its readiness carrier here: the flag must survive it)
    out += [
        attempt(sock.get_inheritable),
        attempt(sock.set_inheritable, False),
        attempt(sock.get_inheritable),
    ]
    sock.close()
    return [*out, attempt(sock.get_inheritable), attempt(sock.set_inheritable, True)]


def dropped_sockets_are_closed(env: Env) -> list[Outcome]:
    """A listener nobody refers to any more is collected and closed: its port is free, a connect
    refused."""
    import gc
    import warnings

    def listen_and_drop() -> tuple[str, int]:
        listener = socket.create_server(("127.0.0.1", 0))
        return listener.getsockname()  # type: ignore[no-any-return]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        address = listen_and_drop()
        gc.collect()
    out = [
        (warning.category.__name__, str(warning.message).startswith("unclosed <"))
        for warning in caught
    ]
    out.append(attempt(lambda: socket.create_connection(address)))
    again = socket.socket()
    out.append(attempt(again.bind, address))
    again.close()
    return out


def descriptors(env: Env) -> list[Outcome]:
    """dup(), fromfd(), detach() + socket(fileno=): several objects, one socket; the last close ends
    it."""
    _listener, client, server = env.pair()
    client.settimeout(2.5)
    twin = client.dup()
    out = [attempt(twin.gettimeout), attempt(lambda: twin.fileno() != client.fileno())]
    server.sendall(b"hello")
    env.settle()
    out += [attempt(twin.recv, 2), attempt(client.recv, 10)]  # one stream, read through either
    client.close()
    server.setblocking(False)
    # no FIN yet
    out += [
        attempt(server.recv, 10),
        attempt(client.recv, 1),
        attempt(client.dup),
        attempt(client.fileno),
    ]
    copy = socket.fromfd(twin.fileno(), socket.AF_INET, socket.SOCK_STREAM)
    out += [attempt(copy.gettimeout), attempt(lambda: copy.getpeername() == twin.getpeername())]
    fd = copy.detach()
    out += [attempt(copy.fileno), attempt(copy.detach), attempt(copy.recv, 1)]
    again = socket.socket(fileno=fd)
    server.sendall(b"through the detached descriptor")
    env.settle()
    out += [attempt(again.recv, 100), attempt(lambda: again.getsockname() == twin.getsockname())]
    twin.close()
    out.append(attempt(server.recv, 10))  # one descriptor is still open
    again.close()
    env.settle()
    out.append(attempt(server.recv, 10))  # the last one: end of file
    return out


def dual_stack(env: Env) -> list[Outcome]:
    """An IPv4 client of a dual-stack IPv6 listener: both ends see IPv4-mapped addresses on the IPv6
    side."""
    listener = socket.create_server(("::", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, peer = listener.accept()
    out = [
        ("peer", peer[0], peer[2:]),
        ("local", conn.getsockname()[0]),
        ("peer of conn", conn.getpeername()[0]),
    ]
    out += [("client", client.getsockname()[0], client.getpeername() == ("127.0.0.1", port))]
    for sock in (conn, client, listener):
        sock.close()
    return out


def one_descriptor_two_objects(env: Env) -> list[Outcome]:
    """socket(fileno=fd) of a descriptor an object owns, and socket.close(fd): closed under the
    object, EBADF after."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    other = socket.socket(fileno=sock.fileno())
    out = [attempt(lambda: other.getsockname() == sock.getsockname())]
    other.close()
    out += [
        attempt(sock.listen),
        attempt(sock.setblocking, False),
        attempt(sock.close),
        attempt(sock.fileno),
    ]
    third = socket.socket()
    third.bind(("127.0.0.1", 0))
    socket.close(third.fileno())
    out += [
        attempt(third.listen, 1),
        attempt(lambda: third.detach() >= 0),
        attempt(socket.close, -1),
        attempt(socket.close, None),
    ]
    return out


def bind_after_a_reset(env: Env) -> list[Outcome]:
    """An accepted socket reset by its peer may bind anew (found by the random programs on 3.13)."""
    listener, client, server = env.pair()
    client.close()
    env.settle()
    out = [attempt(server.send, b"x")]  # the peer is gone: it answers with a reset
    env.settle()
    out += [
        attempt(lambda: server.getsockname() == listener.getsockname()),
        attempt(server.getpeername),
    ]
    out += [
        attempt(server.bind, listener.getsockname()),
        attempt(lambda: server.bind(("127.0.0.1", 0))),
    ]
    return out


def _closed_first_by(env: Env, first: str, reuse: bool) -> tuple[str, int]:
    """A listener (SO_REUSEADDR if ``reuse``) with one connection that ``first`` ("server" or
    "client") closes first, the other end next, then the listener: its address, now free or not."""
    listener = socket.socket()
    if reuse:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    ends = [server, client] if first == "server" else [client, server]
    for end in ends:
        end.close()
        env.settle()
    address = listener.getsockname()
    listener.close()
    env.settle()
    return address


def _bind_again(address: tuple[str, int], reuse: bool) -> Outcome:
    sock = socket.socket()
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        return attempt(sock.bind, address)
    finally:
        sock.close()


def time_wait_holds_the_address_of_the_server_that_closed_first(env: Env) -> list[Outcome]:
    address = _closed_first_by(env, "server", reuse=False)
    return [_bind_again(address, reuse=False), _bind_again(address, reuse=True)]


def time_wait_gives_way_to_reuseaddr_on_both(env: Env) -> list[Outcome]:
    address = _closed_first_by(env, "server", reuse=True)
    return [_bind_again(address, reuse=False), _bind_again(address, reuse=True)]


def the_end_that_closed_second_holds_nothing(env: Env) -> list[Outcome]:
    address = _closed_first_by(env, "client", reuse=False)
    return [_bind_again(address, reuse=False)]


def linger_zero_close_is_a_reset(env: Env) -> list[Outcome]:
    listener = env.listener()
    # SO_LINGER {on, 0 s} on the listener: the accepted socket inherits it
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    server.sendall(b"sent before the reset")
    env.settle()
    server.close()
    env.settle()
    return [attempt(client.recv, 100), attempt(client.send, b"x"), attempt(client.recv, 100)]


SCENARIOS: dict[str, Callable[[Env], list[Outcome]]] = {
    name: fn
    for name, fn in list(globals().items())
    if callable(fn)
    and getattr(fn, "__module__", None) == __name__
    and not name.startswith("_")
    and name not in ("attempt", "Env")
}
