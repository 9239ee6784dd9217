"""The socket life cycle as data: complete tables, Linux errnos, illegal steps change nothing."""

from __future__ import annotations

import contextlib
import errno
import socket

import pytest

import sockviz
from sockviz.lowlevel import REFUSALS, TRANSITIONS, Op, SocketMode


def test_every_mode_and_operation_is_in_exactly_one_table() -> None:
    """Each (mode, op) pair is either a transition or a refusal with an errno, never both or
    neither."""
    for mode in SocketMode:
        for op in Op:
            assert ((mode, op) in TRANSITIONS) != ((mode, op) in REFUSALS), (mode, op)


def test_refusals_are_the_errnos_linux_uses() -> None:
    """The refusal table names only errnos Linux gives for socket calls in the wrong state."""
    assert set(REFUSALS.values()) <= {
        errno.EINVAL,
        errno.EISCONN,
        errno.EALREADY,
        errno.EPIPE,
        errno.ENOTCONN,
        errno.EBADF,
        errno.EAGAIN,
    }
    assert REFUSALS[SocketMode.NOT_INIT, Op.SEND] == errno.EPIPE
    assert REFUSALS[SocketMode.BOUND, Op.ACCEPT] == errno.EINVAL
    assert REFUSALS[SocketMode.OUTBOUND, Op.CONNECT] == errno.EISCONN
    assert all(
        code == errno.EBADF for (mode, op), code in REFUSALS.items() if mode is SocketMode.CLOSED
    )


def test_the_original_modes_are_all_there() -> None:
    """weldr's NOT_INIT, LISTEN, INBOUND and OUTBOUND exist, plus the real life cycle's stages."""
    names = {m.name for m in SocketMode}
    assert {
        "NOT_INIT",
        "LISTEN",
        "INBOUND",
        "OUTBOUND",
        "BOUND",
        "CONNECTING",
        "CLOSED",
        "SHUT_WR",
        "SHUT_RD",
        "REFUSED",
    } <= names


def _socket_in(mode: SocketMode) -> sockviz.lowlevel.FakeSocket:
    """A fake socket brought into ``mode`` (inside an open fake_network)."""
    if mode is SocketMode.INBOUND:
        listener = socket.create_server(("127.0.0.1", 0))
        client = socket.create_connection(listener.getsockname())
        _keep.extend([listener, client])
        return listener.accept()[0]  # type: ignore[return-value]
    sock = socket.socket()
    if mode is SocketMode.NOT_INIT:
        return sock  # type: ignore[return-value]
    if mode is SocketMode.BOUND:
        sock.bind(("127.0.0.1", 0))
    elif mode is SocketMode.LISTEN:
        sock.bind(("127.0.0.1", 5555))  # a named port: it stays when the listener stops
        sock.listen()
    elif mode is SocketMode.CONNECTING:
        listener = socket.create_server(("127.0.0.1", 0), backlog=0)
        _keep.append(listener)
        _keep.append(socket.create_connection(listener.getsockname()))  # fills the backlog
        sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            sock.connect(listener.getsockname())
    elif mode is SocketMode.CLOSED:
        sock.close()
    elif mode is SocketMode.REFUSED:
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))  # bound, nobody listening
        _keep.append(dead)
        sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            sock.connect(dead.getsockname())
        # consume the pending error
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 111
    else:
        listener = socket.create_server(("127.0.0.1", 0))
        _keep.append(listener)
        sock.connect(listener.getsockname())
        _keep.append(listener.accept()[0])
        how = {SocketMode.SHUT_RD: 0, SocketMode.SHUT_WR: 1, SocketMode.SHUT_RDWR: 2}.get(mode)
        if how is not None:
            sock.shutdown(how)
        elif mode is SocketMode.RESET:
            _keep[-1].close()
            sock.send(b"x")
    assert sock.mode is mode  # type: ignore[attr-defined]
    return sock  # type: ignore[return-value]


_keep: list[socket.socket] = []
_CALLS = {
    Op.BIND: lambda s: s.bind(("127.0.0.1", 0)),
    Op.LISTEN: lambda s: s.listen(),
    Op.CONNECT: lambda s: s.connect(("127.0.0.1", 1)),
    Op.ACCEPT: lambda s: s.accept(),
    Op.SEND: lambda s: s.send(b"x"),
    Op.RECV: lambda s: s.recv(1),
    Op.SHUT_RD: lambda s: s.shutdown(socket.SHUT_RD),
    Op.SHUT_WR: lambda s: s.shutdown(socket.SHUT_WR),
    Op.SHUT_RDWR: lambda s: s.shutdown(socket.SHUT_RDWR),
    Op.GETPEERNAME: lambda s: s.getpeername(),
}


@pytest.mark.parametrize(
    ("mode", "op"),
    sorted((k for k in REFUSALS if k[1] in _CALLS), key=lambda k: (k[0].value, k[1].value)),
)
def test_an_illegal_call_raises_the_tables_errno_and_leaves_the_mode(
    mode: SocketMode, op: Op
) -> None:
    """Each refusal in the table happens on a real fake socket, with that errno, and the mode
    stays."""
    with sockviz.fake_network("strict"):
        sock = _socket_in(mode)
        if mode is not SocketMode.CLOSED:
            sock.setblocking(False)  # a refusal must not depend on waiting
        with pytest.raises(OSError) as info:
            _CALLS[op](sock)
        assert info.value.errno == REFUSALS[mode, op]
        assert sock.mode is mode
        _keep.clear()


def test_state_events_follow_the_transition_table() -> None:
    """Every recorded state change of a real run is a step the table allows (or a connection
    outcome)."""
    from sockviz.scenarios import echo_scenario

    trace = sockviz.weld(echo_scenario(), semantics="strict")
    outcomes = {
        ("CONNECTING", "OUTBOUND"),
        ("CONNECTING", "BOUND"),
        ("CONNECTING", "NOT_INIT"),
        ("CONNECTING", "REFUSED"),
        ("LISTEN", "NOT_INIT"),
        ("REFUSED", "BOUND"),
    }
    allowed = {(a.name, b.name) for (a, _), b in TRANSITIONS.items() if a is not b} | outcomes
    for event in trace.of_kind("state"):
        if event.get("from") is not None:
            assert (event.get("from"), event.get("to")) in allowed


def _full_listener() -> tuple[str, int]:
    """A listener whose backlog is full: a non-blocking connect to it stays CONNECTING."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    _keep.extend([listener, socket.create_connection(listener.getsockname())])
    return listener.getsockname()  # type: ignore[no-any-return]


def _legal_call(sock: socket.socket, mode: SocketMode, op: Op) -> None:
    """Make ``op`` in ``mode`` without waiting; only errors that are outcomes, not refusals,
    pass."""
    if mode is not SocketMode.CLOSED:
        sock.setblocking(False)
    if op is Op.CONNECT:
        # In progress, or (from REFUSED) the report of the failure: outcomes, not refusals.
        with contextlib.suppress(BlockingIOError, ConnectionAbortedError):
            sock.connect(_full_listener())
    elif op is Op.ACCEPT:
        _keep.append(socket.create_connection(sock.getsockname()))
        _keep.append(sock.accept()[0])
    elif op is Op.RECV:
        with contextlib.suppress(BlockingIOError):  # legal, nothing to read yet
            sock.recv(1)
    elif op is Op.CLOSE:
        sock.close()
    else:
        _CALLS[op](sock)


@pytest.mark.parametrize(
    ("mode", "op"), sorted(TRANSITIONS, key=lambda k: (k[0].value, k[1].value))
)
def test_every_legal_call_moves_to_the_tables_mode(mode: SocketMode, op: Op) -> None:
    """Each transition in the table happens on a real fake socket: the call succeeds and the mode is
    the table's."""
    with sockviz.fake_network("strict"):
        sock = _socket_in(mode)
        _legal_call(sock, mode, op)
        assert sock.mode is TRANSITIONS[mode, op]  # type: ignore[attr-defined]
        _keep.clear()


def test_every_completion_moves_some_mode_and_never_leaves_closed() -> None:
    """The network's own steps are a table too: each has moves, none starts from or ends in
    CLOSED."""
    from sockviz._net._modes import COMPLETIONS, Completion

    assert {what for _, what in COMPLETIONS} == set(Completion)
    assert all(
        mode is not SocketMode.CLOSED and to is not SocketMode.CLOSED
        for (mode, _), to in COMPLETIONS.items()
    )


def test_a_completion_missing_from_the_table_is_reported_as_a_bug() -> None:
    from sockviz._net._modes import Completion, complete

    assert complete(SocketMode.CONNECTING, Completion.QUEUED) is SocketMode.OUTBOUND
    with pytest.raises(AssertionError, match="no completion QUEUED from LISTEN"):
        complete(SocketMode.LISTEN, Completion.QUEUED)


def test_only_the_tables_change_a_sockets_mode() -> None:
    """h11's rule: everything that changes state goes through the tables.  The socket's mode is
    assigned only where it is born (NOT_INIT, or INBOUND from accept()), in _set_mode (which records
    it), and in _close_silently (the weld is over) -- each with a mode from step() or complete()."""
    import ast
    import pathlib

    net = pathlib.Path(sockviz.__file__).parent / "_net"
    writers = set()
    for path in net.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for inner in ast.walk(node):
                    targets = inner.targets if isinstance(inner, ast.Assign) else []
                    for target in targets:
                        names = target.elts if isinstance(target, ast.Tuple) else [target]
                        if any(isinstance(t, ast.Attribute) and t.attr == "_mode" for t in names):
                            writers.add((path.name, node.name))
    assert writers == {
        ("_base.py", "__init__"),
        ("_base.py", "_set_mode"),
        ("_base.py", "_close_silently"),
    }
