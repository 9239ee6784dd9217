"""The demo scenarios: small, complete programs that use only the socket module.

Each scenario is a dict ``{component name: callable}`` ready for
:func:`sockviz.weld`; tests, benchmarks and lessons reuse them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

__all__ = ["SCENARIOS", "connect_with_retry", "echo_scenario"]

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
                handler = threading.Thread(target=handle, args=(conn,), name=f"handler{len(handlers) + 1}")
                handler.start()
                handlers.append(handler)
            for handler in handlers:
                handler.join()

    return server


def connect_with_retry(address: tuple[str, int], attempts: int = 200, pause: float = 0.005) -> socket.socket:
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


SCENARIOS: dict[str, Callable[[], dict[str, Callable[[], None]]]] = {"echo": echo_scenario}
