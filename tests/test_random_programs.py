"""Random programs of socket calls behave the same on real loopback and in strict fake mode.

Hypothesis writes short programs over a pool of non-blocking sockets (so that
nothing can hang), each step naming sockets by index; the program runs once
on real sockets and once inside ``fake_network("strict")``, and every step's
outcome -- value, or exception class and errno -- must be the same.
"""

from __future__ import annotations

import errno
import gc
import socket
import time
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sockviz

Step = tuple[Any, ...]

steps = st.one_of(
    st.tuples(st.just("new")),
    st.tuples(st.just("bind"), st.integers(0, 5)),
    st.tuples(st.just("listen"), st.integers(0, 5), st.integers(0, 2)),
    st.tuples(st.just("connect"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("accept"), st.integers(0, 5)),
    st.tuples(st.just("send"), st.integers(0, 5), st.integers(0, 300)),
    st.tuples(st.just("recv"), st.integers(0, 5), st.integers(0, 300)),
    st.tuples(
        st.just("shutdown"),
        st.integers(0, 5),
        st.sampled_from([socket.SHUT_RD, socket.SHUT_WR, socket.SHUT_RDWR]),
    ),
    st.tuples(st.just("close"), st.integers(0, 5)),
    st.tuples(st.just("getpeername"), st.integers(0, 5)),
)
programs = st.lists(steps, min_size=1, max_size=14).map(lambda rest: [("new",), ("new",), *rest])


def run(program: list[Step], *, real: bool) -> list[Any]:
    """Run ``program``; one outcome a step."""
    pool: list[socket.socket] = []
    shut_unconnected: set[int] = set()  # sockets shut down before any connection (see _step)
    spare = socket.socket()  # bound, never listening: connecting to it is refused
    spare.bind(("127.0.0.1", 0))
    outcomes: list[Any] = []
    for op, *args in program:
        if op != "new" and not pool:
            continue
        sock = pool[args[0] % len(pool)] if op != "new" else None
        try:
            value = _step(op, sock, args, pool, spare, shut_unconnected)
        except OSError as exc:
            value = (type(exc).__name__, exc.errno)
        outcomes.append((op, value))
        if real:
            time.sleep(0.003)  # let the kernel deliver SYN, FIN and RST on loopback
    for sock in pool:
        sock.close()
    spare.close()
    return outcomes


def _step(
    op: str,
    sock: socket.socket | None,
    args: list[int],
    pool: list[socket.socket],
    spare: socket.socket,
    shut: set[int],
) -> Any:
    if op == "new":
        new = socket.socket()
        new.setblocking(False)
        pool.append(new)
        return "ok"
    assert sock is not None
    if op == "bind":
        sock.bind(("127.0.0.1", 0))
    elif op == "listen":
        if id(sock) in shut:
            # Linux keeps the shut-down directions of an unconnected socket (shutdown() still raises
            # ENOTCONN), and the connections it accepts inherit them; sockviz does not model this
            # (docs/design.md)
            return "skipped"
        sock.listen(args[1])
    elif op == "connect":
        target = pool[args[1] % len(pool)]
        address = (
            target.getsockname()
            if target.fileno() >= 0 and target.getsockname()[1]
            else spare.getsockname()
        )
        if sock.fileno() >= 0 and address == sock.getsockname():
            # TCP self-connect: Linux connects the socket to itself; sockviz refuses
            # (docs/design.md)
            return "skipped"
        sock.connect(address)
    elif op == "accept":
        conn, _ = sock.accept()
        conn.setblocking(False)
        pool.append(conn)
    elif op == "send":
        return sock.send(b"x" * args[1])
    elif op == "recv":
        return sock.recv(args[1])
    elif op == "shutdown":
        try:
            sock.shutdown(args[1])
        except OSError as exc:
            if exc.errno == errno.ENOTCONN:
                shut.add(id(sock))
            raise
    elif op == "close":
        sock.close()
    elif op == "getpeername":
        return sock.getpeername()[0]
    return "ok"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs)
# found by hypothesis: a socket shut down before it listens (Linux keeps the directions; see _step)
@example(
    program=[
        ("new",),
        ("new",),
        ("shutdown", 1, 2),
        ("listen", 1, 0),
        ("connect", 0, 1),
        ("send", 0, 1),
        ("bind", 0),
    ]
)
def test_random_programs_match_real_loopback(program: list[Step]) -> None:
    """Any short program of socket calls gives the same outcomes, step by step, on real and fake
    sockets."""
    real = run(program, real=True)
    gc.collect()
    with sockviz.fake_network("strict"):
        fake = run(program, real=False)
    assert fake == real
