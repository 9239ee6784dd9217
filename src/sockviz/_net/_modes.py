"""The life cycle of a fake stream socket, as data.

Theory of operation
-------------------
weldr's C library tracked each fake socket with a ``SOCKET_MODE`` enum:
NOT_INIT, LISTEN, INBOUND, OUTBOUND.  The real life cycle needs a few more
stages, so :class:`SocketMode` adds BOUND, CONNECTING, the half-closed modes,
RESET (the peer is gone for good) and CLOSED.

Like h11's state machine, the rules are two tables rather than ``if``s spread
over the code:

* :data:`TRANSITIONS` -- ``(mode, op) -> next mode`` for every legal step;
* :data:`REFUSALS` -- ``(mode, op) -> errno`` for every illegal step, the
  errno Linux gives for the same sequence of calls (checked against real
  loopback sockets by the differential tests).

Every (mode, op) pair is in exactly one of the two tables; :func:`step`
consults them and raises ``OSError(errno, strerror)`` -- the real thing, with
the message the ``socket`` module would show -- leaving the mode unchanged.
The docs draw the table of modes from the same tables (``markdown_table``).

A third table, :data:`COMPLETIONS`, holds the steps no call of the socket's
own program takes: the network's answer to a call made earlier or by
another thread -- a connection queued or accepted, refused, reset -- as
``(mode, Completion) -> next mode``; :func:`complete` consults it.  Those
and :data:`TRANSITIONS` are the only way a socket changes mode (a socket is
born NOT_INIT, or INBOUND from ``accept()``).

Side flags
----------
A few facts live beside the mode, on the socket (``_net/_base.py``), because
Linux keeps them apart from its TCP state too:

* ``_so_error``: the error of a connect that failed in the background,
  reported once by the next call or by ``SO_ERROR`` (mode REFUSED meanwhile);
* ``_unreported_connect``: a non-blocking connect that succeeded and has not
  yet been told (the next ``connect()`` returns 0 once, then EISCONN);
* ``_read_shut_early`` / ``_write_shut_early``: ``shutdown()`` of a socket not
  yet connected (Linux records the directions though it raises ENOTCONN);
* ``_disconnecting``: ``connect()`` to ``AF_UNSPEC`` under way;
* ``_autobound``: the kernel chose the port, so a failed connect or a reset
  gives it back;
* ``_fd_lost``: this object's descriptor was closed under it (EBADF).
"""

from __future__ import annotations

import enum
import errno
import os
from typing import Final

__all__ = [
    "COMPLETIONS",
    "REFUSALS",
    "TRANSITIONS",
    "Completion",
    "Op",
    "SocketMode",
    "complete",
    "completions_table",
    "markdown_table",
    "os_error",
    "step",
]


#: how long Linux keeps a connection that closed first in TIME_WAIT (TCP_TIMEWAIT_LEN), in s
TIME_WAIT_S = 60.0


class SocketMode(enum.Enum):
    """Where a fake socket is in its life cycle."""

    NOT_INIT = "not_init"  #: fresh from socket(): no address, no peer
    BOUND = "bound"  #: has a local address (bind, or a failed connect)
    LISTEN = "listen"  #: accepting connections into its backlog
    CONNECTING = "connecting"  #: connect() under way
    OUTBOUND = "outbound"  #: connected, by connect() (the client's end)
    INBOUND = "inbound"  #: connected, returned by accept() (the server's end)
    SHUT_WR = "shut_wr"  #: half-closed: this end sends no more (peer sees EOF)
    SHUT_RD = "shut_rd"  #: half-closed: this end reads no more
    SHUT_RDWR = "shut_rdwr"  #: both directions shut, descriptor still open
    RESET = "reset"  #: reset by the peer: nothing more can be sent
    #: a non-blocking connect() failed (refused, or reset); the next call learns it
    REFUSED = "refused"
    CLOSED = "closed"  #: close() was called; the descriptor is released

    def __str__(self) -> str:
        return self.name

    # Members are singletons: hashing by identity is correct and, unlike Enum's own __hash__ (Python
    # code), costs nothing on every socket call.
    __hash__ = object.__hash__


class Op(enum.Enum):
    """The operations whose legality depends on the mode."""

    __hash__ = object.__hash__

    BIND = "bind"
    LISTEN = "listen"
    CONNECT = "connect"
    ACCEPT = "accept"
    SEND = "send"
    RECV = "recv"
    SHUT_RD = "shutdown(SHUT_RD)"
    SHUT_WR = "shutdown(SHUT_WR)"
    SHUT_RDWR = "shutdown(SHUT_RDWR)"
    GETPEERNAME = "getpeername"
    CLOSE = "close"


M = SocketMode
_CONNECTED: Final = (M.OUTBOUND, M.INBOUND)
_HALF: Final = (M.SHUT_WR, M.SHUT_RD, M.SHUT_RDWR)
_OPEN: Final = tuple(m for m in M if m is not M.CLOSED)

TRANSITIONS: dict[tuple[SocketMode, Op], SocketMode] = {}
REFUSALS: dict[tuple[SocketMode, Op], int] = {}


def _allow(modes: tuple[SocketMode, ...], op: Op, to: SocketMode | None = None) -> None:
    """Allow ``op`` in ``modes``; it moves to ``to`` (default: stays)."""
    for mode in modes:
        TRANSITIONS[mode, op] = to if to is not None else mode


def _refuse(modes: tuple[SocketMode, ...], op: Op, code: int) -> None:
    for mode in modes:
        REFUSALS[mode, op] = code


# bind: only a socket with no address may take one (a refused connect gave its automatic port back).
_allow((M.NOT_INIT,), Op.BIND, M.BOUND)
_allow((M.REFUSED, M.RESET), Op.BIND)  # takes an address (if its port was given back)
_refuse(tuple(m for m in _OPEN if m not in (M.NOT_INIT, M.REFUSED, M.RESET)), Op.BIND, errno.EINVAL)

# listen: binds a fresh socket to an ephemeral port first; again on a listener just changes the
# backlog.
_allow((M.NOT_INIT, M.BOUND, M.LISTEN), Op.LISTEN, M.LISTEN)
_refuse((M.CONNECTING, *_CONNECTED, *_HALF, M.RESET, M.REFUSED), Op.LISTEN, errno.EINVAL)

# connect: the outcome (OUTBOUND, or unconnected again if refused) is a second step. After a refusal
# in the background, the next connect() only reports it.
_allow((M.NOT_INIT, M.BOUND), Op.CONNECT, M.CONNECTING)
_allow((M.REFUSED,), Op.CONNECT, M.NOT_INIT)
_refuse((M.CONNECTING,), Op.CONNECT, errno.EALREADY)
# A reset socket had connected: Linux keeps it "connected" (SS_CONNECTED) for connect().
_refuse((M.LISTEN, *_CONNECTED, *_HALF, M.RESET), Op.CONNECT, errno.EISCONN)

# accept: only on a listener.
_allow((M.LISTEN,), Op.ACCEPT)
_refuse(tuple(m for m in _OPEN if m is not M.LISTEN), Op.ACCEPT, errno.EINVAL)

# send: Linux says EPIPE, not ENOTCONN, for a socket that never connected. While a (non-blocking)
# connect is under way both send and recv say EAGAIN: Linux would make a blocking call wait for the
# handshake; sockviz refuses it.
_allow((*_CONNECTED, M.SHUT_RD), Op.SEND)
_refuse(
    (M.NOT_INIT, M.BOUND, M.LISTEN, M.SHUT_WR, M.SHUT_RDWR, M.RESET, M.REFUSED),
    Op.SEND,
    errno.EPIPE,
)
_refuse((M.CONNECTING,), Op.SEND, errno.EAGAIN)

# recv: after SHUT_RD the buffered bytes still come, then b'' without waiting.
_allow((*_CONNECTED, *_HALF, M.RESET, M.REFUSED), Op.RECV)
_refuse((M.NOT_INIT, M.BOUND, M.LISTEN), Op.RECV, errno.ENOTCONN)
_refuse((M.CONNECTING,), Op.RECV, errno.EAGAIN)

# shutdown: shutting the receiving side of a listener stops it listening (a waiting accept() gets
# EINVAL); SHUT_WR alone leaves a listener as it is.
for _op, _to in ((Op.SHUT_RD, M.SHUT_RD), (Op.SHUT_WR, M.SHUT_WR), (Op.SHUT_RDWR, M.SHUT_RDWR)):
    _allow(_CONNECTED, _op, _to)
    _allow((M.LISTEN,), _op, M.LISTEN if _op is Op.SHUT_WR else M.BOUND)
    _refuse((M.NOT_INIT, M.BOUND, M.CONNECTING, M.RESET, M.REFUSED), _op, errno.ENOTCONN)
_allow((M.SHUT_RD,), Op.SHUT_RD)
_allow((M.SHUT_RD, M.SHUT_WR, M.SHUT_RDWR), Op.SHUT_RDWR, M.SHUT_RDWR)
_allow((M.SHUT_RD,), Op.SHUT_WR, M.SHUT_RDWR)
_allow((M.SHUT_WR,), Op.SHUT_WR)
_allow((M.SHUT_WR,), Op.SHUT_RD, M.SHUT_RDWR)
_allow((M.SHUT_RDWR,), Op.SHUT_RD)
_allow((M.SHUT_RDWR,), Op.SHUT_WR)

# getpeername: there is a peer while connected or half-closed.
_allow((*_CONNECTED, *_HALF), Op.GETPEERNAME)
_refuse(
    (M.NOT_INIT, M.BOUND, M.LISTEN, M.CONNECTING, M.RESET, M.REFUSED),
    Op.GETPEERNAME,
    errno.ENOTCONN,
)

# close: from anywhere; closing twice is fine (the socket module ignores it).
_allow(_OPEN, Op.CLOSE, M.CLOSED)
_allow((M.CLOSED,), Op.CLOSE)

# Everything on a closed socket: EBADF.
for _op in Op:
    if _op is not Op.CLOSE:
        _refuse((M.CLOSED,), _op, errno.EBADF)


class Completion(enum.Enum):
    """What the network does to a socket, as the answer to a call made earlier or by another
    thread."""

    __hash__ = object.__hash__

    #: strict (Linux): the listener's kernel queued the connection, so connect() is done
    QUEUED = "queued"
    ACCEPTED = "accepted"  #: weldr: the server accepted the connection connect() waited for
    #: a connect failed (refused, timed out, interrupted): no address is left
    UNCONNECTED = "unconnected"
    #: the same, for a socket that keeps the address it was bound to
    UNCONNECTED_BOUND = "unconnected, bound"
    FAILED = "failed in the background"  #: a non-blocking connect failed: the next call learns it
    #: the peer reset the connection (it closed with bytes unread, or its listener went away)
    RESET = "reset"
    #: shutdown() of a listener whose port the kernel chose: the port goes back
    STOPPED = "stopped listening, unbound"
    PAIRED_OUT = "paired (first end)"  #: socketpair() connected it, as the connecting end
    PAIRED_IN = "paired (second end)"  #: socketpair() connected it, as the accepted end


COMPLETIONS: dict[tuple[SocketMode, Completion], SocketMode] = {}


def _completes(modes: tuple[SocketMode, ...], what: Completion, to: SocketMode) -> None:
    for mode in modes:
        COMPLETIONS[mode, what] = to


_UNCONNECTED: Final = (M.NOT_INIT, M.BOUND, M.CONNECTING, M.REFUSED, M.RESET)
_completes((M.CONNECTING,), Completion.QUEUED, M.OUTBOUND)
_completes((M.CONNECTING,), Completion.ACCEPTED, M.OUTBOUND)
# A blocking connect that fails leaves the socket as if it had never connected; so does reporting a
# background failure (REFUSED) to the next connect(). A weldr connect reset while it waited for
# accept().
_completes(_UNCONNECTED, Completion.UNCONNECTED, M.NOT_INIT)
_completes(_UNCONNECTED, Completion.UNCONNECTED_BOUND, M.BOUND)
# A non-blocking connect fails while under way, or after it was queued and before it was told (its
# listener went away): the socket keeps the error for its next call.
_completes((M.CONNECTING, *_CONNECTED, *_HALF, M.REFUSED), Completion.FAILED, M.REFUSED)
# A reset reaches a connected socket, half-closed or not, or a weldr connect waiting for accept().
_completes((M.CONNECTING, *_CONNECTED, *_HALF, M.RESET), Completion.RESET, M.RESET)
_completes((M.LISTEN,), Completion.STOPPED, M.NOT_INIT)
_completes((M.NOT_INIT,), Completion.PAIRED_OUT, M.OUTBOUND)
_completes((M.NOT_INIT,), Completion.PAIRED_IN, M.INBOUND)


def complete(mode: SocketMode, what: Completion) -> SocketMode:
    """The mode after the network's step ``what`` in ``mode``; a pair not in the table is a sockviz
    bug."""
    try:
        return COMPLETIONS[mode, what]
    except KeyError:
        raise AssertionError(
            f"sockviz: no completion {what.name} from {mode.name} in _net/_modes.py"
        ) from None


def os_error(code: int, message: str | None = None) -> OSError:
    """The ``OSError`` (subclass picked by errno) the socket module raises."""
    return OSError(code, message or os.strerror(code))


def step(mode: SocketMode, op: Op) -> SocketMode:
    """The mode after ``op`` in ``mode``; raises the errno Linux raises if illegal."""
    try:
        return TRANSITIONS[mode, op]
    except KeyError:
        raise os_error(REFUSALS[mode, op]) from None


def markdown_table() -> str:
    """The two tables as one Markdown table: a row per mode, a column per operation.

    Each cell is the next mode (``·`` when it stays) or the errno refused with.
    ``docs/design.md`` includes this very text; a test keeps the two equal.
    """
    ops = list(Op)
    lines = ["| mode | " + " | ".join(op.value for op in ops) + " |", "|---" * (len(ops) + 1) + "|"]
    for mode in SocketMode:
        cells = []
        for op in ops:
            if (mode, op) in TRANSITIONS:
                nxt = TRANSITIONS[mode, op]
                cells.append("·" if nxt is mode else nxt.name)
            else:
                cells.append(errno.errorcode[REFUSALS[mode, op]])
        lines.append(f"| **{mode.name}** | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def completions_table() -> str:
    """:data:`COMPLETIONS` as a Markdown table: a row per completion, the modes it moves from and
    to."""
    lines = ["| completion | from | to |", "|---|---|---|"]
    for what in Completion:
        moves: dict[SocketMode, list[str]] = {}
        for (mode, done), to in COMPLETIONS.items():
            if done is what:
                moves.setdefault(to, []).append(mode.name)
        for to, froms in moves.items():
            lines.append(f"| {what.value} | {', '.join(froms)} | {to.name} |")
    return "\n".join(lines)
