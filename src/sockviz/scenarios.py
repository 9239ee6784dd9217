"""The demo scenarios: small, complete programs that use only the socket module.

Each scenario is a dict ``{component name: callable}`` ready for
:func:`sockviz.weld`; tests, benchmarks and lessons reuse them.  The
standard library's own servers (``http_scenario``, ``xmlrpc_scenario``,
``wsgi_scenario``, ``asyncio_scenario``, and the ``FILES`` they serve) are
here too, imported when first used: they pull in ``http.server`` and friends.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (at run time from _realprograms, when first asked for: see __getattr__)
    from ._realprograms import (
        FILES,
        asyncio_scenario,
        http_scenario,
        wsgi_scenario,
        xmlrpc_scenario,
    )

__all__ = [
    "FILES",
    "OUTCOMES",
    "SCENARIOS",
    "asyncio_scenario",
    "backlog_scenario",
    "backpressure_scenario",
    "connect_with_retry",
    "deadlock_scenario",
    "echo_scenario",
    "http_scenario",
    "race_scenario",
    "who_got_the_slot",
    "wsgi_scenario",
    "xmlrpc_scenario",
]

#: The standard library's servers, from ``_realprograms`` when first asked for.
_REAL_PROGRAMS = ("FILES", "asyncio_scenario", "http_scenario", "wsgi_scenario", "xmlrpc_scenario")


def __getattr__(name: str) -> object:
    if name in _REAL_PROGRAMS:
        from . import _realprograms

        return getattr(_realprograms, name)
    raise AttributeError(f"module 'sockviz.scenarios' has no attribute {name!r}")


PORT = 8080


def _echo_server(clients: int, port: int) -> Callable[[], None]:
    def server() -> None:
        """Accept ``clients`` connections; echo each in a thread of its own."""

        def handle(conn: socket.socket) -> None:
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(data)

        with socket.create_server(("", port), backlog=clients) as listener:
            handlers: list[threading.Thread] = []
            for _ in range(clients):
                conn, address = listener.accept()
                print(f"accepted a client from {address[0]}:{address[1]}")
                handler = threading.Thread(
                    target=handle, args=(conn,), name=f"handler{len(handlers) + 1}"
                )
                handler.start()
                handlers.append(handler)
            for handler in handlers:
                handler.join()

    return server


def connect_with_retry(
    address: tuple[str, int], attempts: int = 200, pause: float = 0.005
) -> socket.socket:
    """Connect, retrying while nobody listens yet.

    With ``semantics="strict"`` (Linux), a client that starts before its
    server is refused, so real clients retry; with the original's ``weldr``
    semantics ``connect()`` simply waits and the first attempt succeeds.
    """
    for _ in range(attempts - 1):
        try:
            return socket.create_connection(address)
        except ConnectionRefusedError:
            time.sleep(pause)
    return socket.create_connection(address)


def _echo_client(name: str, lines: list[str], port: int) -> Callable[[], None]:
    def client() -> None:
        with connect_with_retry(("server", port)) as sock:
            for line in lines:
                sock.sendall(line.encode())
                echoed = sock.recv(1024)
                print(f"{name} got back {echoed.decode()!r}")

    client.__name__ = name
    return client


def echo_scenario(port: int = PORT) -> dict[str, Callable[[], None]]:
    """An echo server (a thread per client) and two clients."""
    return {
        "server": _echo_server(2, port),
        "alice": _echo_client("alice", ["hello", "bye"], port),
        "bob": _echo_client("bob", ["hi there"], port),
    }


def backpressure_scenario(
    port: int = PORT, total: int = 256 * 1024
) -> dict[str, Callable[[], None]]:
    """A sender pushes ``total`` bytes at a slow reader: send() waits while the buffer is full."""

    def sender() -> None:
        with connect_with_retry(("reader", port)) as sock:
            sock.sendall(b"x" * total)

    def reader() -> None:
        with socket.create_server(("", port)) as listener:
            conn, _ = listener.accept()
            with conn:
                received = 0
                while chunk := conn.recv(16 * 1024):
                    received += len(chunk)
                print(f"reader got {received} bytes")

    return {"reader": reader, "sender": sender}


def deadlock_scenario(port: int = PORT) -> dict[str, Callable[[], None]]:
    """Both sides recv() first: each waits for the other to send.  The weld raises DeadlockError."""

    def server() -> None:
        with socket.create_server(("", port)) as listener:
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)  # waits for the client to speak first...
                conn.sendall(b"hello")

    def client() -> None:
        with connect_with_retry(("server", port)) as sock:
            sock.recv(1024)  # ...which waits for the server to speak first
            sock.sendall(b"hi")

    return {"server": server, "client": client}


def backlog_scenario(port: int = PORT, clients: int = 3) -> dict[str, Callable[[], None]]:
    """One server with ``listen(1)`` serving clients one at a time: connects queue in the
    backlog."""

    def server() -> None:
        with socket.create_server(("", port), backlog=1) as listener:
            for _ in range(clients):
                conn, _ = listener.accept()
                with conn:
                    conn.sendall(conn.recv(64).upper())

    def client(name: str) -> Callable[[], None]:
        def run() -> None:
            with connect_with_retry(("server", port)) as sock:
                sock.sendall(name.encode())
                print(f"{name} got {sock.recv(64).decode()!r}")

        return run

    names = ["ann", "ben", "cat", "dan", "eve"][:clients]
    return {"server": server, **{name: client(name) for name in names}}


def race_scenario(port: int = PORT) -> dict[str, Callable[[], None]]:
    """Two clients race for a server that serves one: who gets the slot depends on the interleaving.

    The server accepts a single connection, answers it and stops listening;
    the client that connected second is refused.  ``sockviz.explore`` shows
    both endings (see :func:`who_got_the_slot`).
    """

    def server() -> None:
        with socket.create_server(("", port), backlog=0) as listener:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"you got the slot, " + conn.recv(64))

    def client(name: str) -> Callable[[], None]:
        def run() -> None:
            try:
                with socket.create_connection(("server", port), timeout=1) as sock:
                    sock.sendall(name.encode())
                    print(sock.recv(64).decode())
            except OSError as exc:
                print(f"{name} lost the race: {type(exc).__name__}")

        return run

    return {"server": server, "ann": client("ann"), "bob": client("bob")}


def who_got_the_slot(trace: object) -> str:
    """The race's outcome, read from its trace: "ann got the slot", "bob got the slot" or
    "nobody"."""
    for event in getattr(trace, "events", ()):
        line = str(event.fields.get("line", "")) if event.kind == "output" else ""
        if line.startswith("you got the slot, "):
            return f"{line.removeprefix('you got the slot, ')} got the slot"
    return "nobody"


def _real(name: str) -> Callable[[], dict[str, Callable[[], None]]]:
    """A scenario of the standard library's servers (see _realprograms), imported when run."""

    def make() -> dict[str, Callable[[], None]]:
        from . import _realprograms

        scenario: Callable[[], tuple[dict[str, Callable[[], None]], dict[str, object]]] = getattr(
            _realprograms, f"{name}_scenario"
        )
        components, _results = scenario()
        return components

    return make


#: Every demo scenario by name: ``sockviz demo --scenario NAME`` runs one.
SCENARIOS: dict[str, Callable[[], dict[str, Callable[[], None]]]] = {
    "echo": echo_scenario,
    "backpressure": backpressure_scenario,
    "backlog": backlog_scenario,
    "deadlock": deadlock_scenario,
    "race": race_scenario,
    "http": _real("http"),
    "xmlrpc": _real("xmlrpc"),
    "wsgi": _real("wsgi"),
    "asyncio": _real("asyncio"),
}

#: How ``sockviz explore`` labels the runs of a scenario, when the scenario has a question to
#: answer.
OUTCOMES: dict[str, Callable[[object], str]] = {"race": who_got_the_slot}
