"""A fake socket's TCP state (``lowlevel.tcp_state``) is the state Linux's ``/proc/net/tcp`` gives
the same socket on real loopback, step by step through connections that close in every order."""

from __future__ import annotations

import contextlib
import pathlib
import socket
import struct
import time
from collections.abc import Callable

import pytest

import sockviz
from sockviz.lowlevel import tcp_state

_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 4: "FIN_WAIT_1", 5: "FIN_WAIT_2", 6: "TIME_WAIT",
           7: "CLOSED", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}  # fmt: skip
PROC = pathlib.Path("/proc/net/tcp")


def _hex(address: tuple[str, int]) -> str:
    ip = struct.unpack("<I", socket.inet_aton(address[0]))[0]
    return f"{ip:08X}:{address[1]:04X}"


def real_state(local: tuple[str, int], peer: tuple[str, int] | None) -> str:
    """What the kernel says of the connection (local, peer); CLOSED when it has forgotten it."""
    want = (_hex(local), _hex(peer) if peer else "00000000:0000")
    for line in PROC.read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == want:
            return _STATES[int(fields[3], 16)]
    return "CLOSED"


Step = Callable[[dict[str, socket.socket]], object]


def _walk(real: bool, steps: list[Step]) -> list[tuple[str, str]]:
    """(client's state, server end's state) after making a connection, then after each step."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    ends = {"client": client, "server": server, "listener": listener}
    names = {"client": (client.getsockname(), client.getpeername()),
             "server": (server.getsockname(), server.getpeername())}  # fmt: skip

    def states() -> tuple[str, str]:
        if real:
            time.sleep(0.02)  # let loopback deliver the FIN, ACK or RST
            return (real_state(*names["client"]), real_state(*names["server"]))
        return (tcp_state(client), tcp_state(server))

    seen = [states()]
    for step in steps:
        with contextlib.suppress(OSError):
            step(ends)
        seen.append(states())
    for sock in ends.values():
        sock.close()
    return seen


WALKS: dict[str, list[Step]] = {
    "the client shuts down first": [
        lambda e: e["client"].shutdown(socket.SHUT_WR),
        lambda e: e["server"].recv(10),
        lambda e: e["server"].close(),
        lambda e: e["client"].close(),
    ],
    "the server closes first": [
        lambda e: e["server"].close(),
        lambda e: e["client"].recv(10),
        lambda e: e["client"].close(),
    ],
    "both shut down": [
        lambda e: e["server"].shutdown(socket.SHUT_WR),
        lambda e: e["client"].shutdown(socket.SHUT_WR),
        lambda e: e["client"].close(),
        lambda e: e["server"].close(),
    ],
    "closed with bytes unread: a reset": [
        lambda e: e["client"].sendall(b"never read"),
        lambda e: e["server"].close(),
        lambda e: e["client"].recv(10),
    ],
    "SO_LINGER 0: a reset": [
        lambda e: e["client"].setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        ),
        lambda e: e["client"].close(),
    ],
    "shutdown(SHUT_RD) sends nothing": [
        lambda e: e["server"].shutdown(socket.SHUT_RD),
        lambda e: e["client"].shutdown(socket.SHUT_WR),
    ],
}


@pytest.mark.skipif(not PROC.exists(), reason="needs Linux's /proc/net/tcp")
@pytest.mark.parametrize("walk", sorted(WALKS))
def test_tcp_state_is_what_linux_says(walk: str) -> None:
    real = _walk(True, WALKS[walk])
    with sockviz.fake_network("strict"):
        fake = _walk(False, WALKS[walk])
    assert fake == real


def test_a_listener_and_a_fresh_socket() -> None:
    with sockviz.fake_network("strict"):
        listener, fresh = socket.socket(), socket.socket()
        listener.bind(("127.0.0.1", 0))
        assert tcp_state(listener) == "CLOSED"
        listener.listen()
        assert (tcp_state(listener), tcp_state(fresh)) == ("LISTEN", "CLOSED")
        listener.close()
        fresh.close()
