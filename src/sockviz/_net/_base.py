"""What every part of a fake socket shares: its state and a few helpers.

:class:`SocketBase` holds a fake socket's state -- descriptor, mode, addresses,
timeout, buffers -- and the helpers every part of the API uses (the mode
change that records a ``state`` event, address formatting, waiting within the
socket's timeout).  The parts themselves are mixins over it:
:mod:`._rendezvous` (listen, accept, connect), :mod:`._options` (options and
timeouts), :mod:`._descriptors` (dup, detach, fromfd), :mod:`._files`
(makefile, sendfile) and :mod:`._fakesocket` (bytes, shutdown, close), which
joins them into :class:`~sockviz.lowlevel.FakeSocket`.
"""

from __future__ import annotations

import errno
import os
import socket as _socket
import weakref
from typing import TYPE_CHECKING, Any, TypeVar

from .._core._events import WaitReason
from .._core._sync import Condition
from ._args import parse_address
from ._filebuf import ByteBuffer, timed_out, would_block
from ._modes import Completion, Op, SocketMode, complete, os_error, step
from ._traced import fmt_address

if TYPE_CHECKING:
    from ._manager import FakeNetwork
    from ._readiness import Carrier
    from ._rendezvous import Connection, Listener

__all__ = ["SocketBase"]

M = SocketMode
H = TypeVar("H", bound="SocketBase")
_NAME = {mode: mode.name for mode in M}  # Enum.name is a Python-level property
_FAMILY_NAME = {int(f): f.name for f in (_socket.AF_INET, _socket.AF_INET6, _socket.AF_UNIX)}
#: the enum members sockets are made with, looked up without calling the enum (a microsecond)
_FAMILIES = {int(f): f for f in _socket.AddressFamily}
_KINDS = {int(k): k for k in _socket.SocketKind}


class SocketBase:
    """A fake socket's state and shared helpers (see the module docstring).

    The slots are what each socket *object* owns (see :mod:`._descriptors`):
    its descriptor, timeout, ``makefile()`` count and readiness carrier.  The
    rest of the state is in ``__dict__``, which every object of one socket
    shares.
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_carrier",
        "_closed",
        "_fd",
        "_fd_lost",
        "_io_refs",
        "_timeout",
    )

    def __init__(
        self,
        net: FakeNetwork,
        family: int = -1,
        type: int = -1,
        proto: int = -1,
        *,
        _pair: bool = False,
        _accepted: tuple[tuple[str, int] | None, tuple[str, int] | None, Connection] | None = None,
    ) -> None:
        family = _socket.AF_INET if family == -1 else family
        type = _socket.SOCK_STREAM if type == -1 else type
        nonblocking = bool(type & _socket.SOCK_NONBLOCK)
        kind = type & ~(_socket.SOCK_NONBLOCK | _socket.SOCK_CLOEXEC)
        _check_kind(family, kind, proto, pair=_pair)
        self._net = net
        self._rec = net.recorder
        self._family = _FAMILIES.get(family) or _socket.AddressFamily(family)
        self._type = _KINDS.get(kind) or _socket.SocketKind(kind)
        self.proto = (
            0
            if family == _socket.AF_UNIX
            else _socket.IPPROTO_TCP
            if proto == _socket.IPPROTO_TCP
            else 0
        )
        self._fd = net.new_fd()
        self._number = self._fd  # the descriptor events name, kept after close
        self._mode = M.NOT_INIT
        self._timeout: float | None = 0.0 if nonblocking else _socket.getdefaulttimeout()
        self._local: tuple[str, int] | None = None
        self._autobound = False  # the kernel chose the port (connect, or bind to port 0)
        self._stale_name: tuple[str, int] | None = None  # getsockname() after a refusal
        self._peer: tuple[str, int] | None = None
        self._peer_owner: str | None = None  # the thread that owns the other end, once known
        self._peer_fd: int | None = None  # the other end's descriptor, once connected
        self._conn: Connection | None = None
        self._rx: ByteBuffer | None = None
        self._tx: ByteBuffer | None = None
        self._listener: Listener | None = None
        self._options: dict[tuple[int, int], int] = {}
        self._so_error = 0
        self._read_shut_early = False  # shutdown(SHUT_RD) before connecting (see shutdown)
        # shutdown(SHUT_WR) before connecting: send() is EPIPE once connected
        self._write_shut_early = False
        self._disconnecting = False  # shutdown() while a connect was pending or failed
        self._unreported_connect = False
        self._io_refs = 0
        # Calls blocked on this socket right now: close() from another thread defers the teardown
        # (FIN, listener stop) until they return, as Linux does.
        self._in_calls = 0
        self._torn_down = False
        self._closed = False
        # TCP's close: this end sent its FIN before the peer's came (it holds its address in
        # TIME_WAIT after close); SO_LINGER on with a zero timeout makes close() a reset instead
        self._fin_first = False
        self._abortive_close = False
        self._time_wait_until = 0.0  # when TIME_WAIT ends, once this end closed first
        self._born_accepted = _accepted is not None
        self._carrier: Carrier | None = None  # made when fileno() is first asked for
        self.owner = self._rec.thread_name()
        #: how many descriptors refer to this socket (dup, fromfd); the last close() ends it
        self._descriptors = 1
        self._fd_lost = False
        net.sockets[self._fd] = weakref.ref(self)
        if _accepted is not None:  # born connected, inside accept(): no socket() call of its own
            self._mode = M.INBOUND
            self._local, self._peer, self._conn = _accepted
            # the kernel gave it its address: a reset frees it, as for a connect's port
            self._autobound = True
        self._record_birth(family)

    def _record_birth(self, family: int) -> None:
        """A new socket's events: socket() called, NOT_INIT; or, made by accept(), born INBOUND."""
        rec, fd = self._rec, self._fd
        if self._mode is M.INBOUND:
            assert self._conn is not None
            local, peer = fmt_address(self._local), fmt_address(self._peer)
            # fmt: off
            rec.emit(
                "state", fd, "from", None, "to", "INBOUND", "owner", self.owner,
                "local", local, "peer", peer, "conn", self._conn.cid,
            )
            # fmt: on
            return
        family_name = _FAMILY_NAME.get(family, str(family))
        rec.emit("call", fd, "op", "socket", "family", family_name, "type", "SOCK_STREAM")
        rec.emit("state", fd, "from", None, "to", "NOT_INIT", "owner", self.owner)
        rec.emit("return", fd, "op", "socket", "result", fd)

    @property
    def _anchor(self) -> SocketBase:
        """The socket in the network's tables: an object of it that no descriptor or caller holds.

        Made when first needed (a bind, a detach); the objects of one socket share it.
        """
        state = self.__dict__
        anchor: SocketBase | None = state.get("_anchor_object")
        if anchor is None:
            anchor = state["_anchor_object"] = self._new_handle(-1, owns=False)
            anchor._closed = True
        return anchor

    def _new_handle(self: H, fd: int, *, owns: bool = True) -> H:
        """Another object of this socket, on descriptor ``fd`` (``owns``: the descriptor's first
        object; -1: none, the anchor).  Its slots are its own, its state this socket's (see
        _descriptors.py)."""
        handle = object.__new__(type(self))
        handle.__dict__ = self.__dict__  # the socket's state, shared
        handle._fd = fd
        handle._fd_lost = False
        handle._timeout = self._timeout
        handle._closed = False
        handle._io_refs = 0
        handle._carrier = None
        if owns:
            self._net.sockets[fd] = weakref.ref(handle)
        return handle

    @property
    def family(self) -> _socket.AddressFamily:
        return self._family

    @property
    def type(self) -> _socket.SocketKind:
        return self._type

    @property
    def timeout(self) -> float | None:
        return self._timeout

    @property
    def mode(self) -> SocketMode:
        """Where this socket is in its life cycle (see :class:`SocketMode`)."""
        return self._mode

    @property
    def listening(self) -> bool:
        """Has a backlog: listen() was called and the socket has not stopped listening.

        Not the same as ``mode is LISTEN``: a listener closed by one thread while
        another waits in accept() keeps listening until that accept() returns.
        """
        return self._listener is not None

    @property
    def reuse_address(self) -> bool:
        return bool(self._options.get((_socket.SOL_SOCKET, _socket.SO_REUSEADDR)))

    def fileno(self) -> int:
        """The socket's descriptor: a real one, which ``select``, ``poll`` and asyncio can watch.

        The first call gives it a carrier (see :mod:`._readiness`), so that the
        kernel reports it readable and writable exactly when this socket is.
        """
        if self._carrier is None and self._fd >= 0 and not self._fd_lost:
            self._net.attach_carrier(self)
        return self._fd

    def _readiness(self) -> tuple[bool, bool, bool, bool, bool]:
        """(readable, writable, read hang-up, hang-up, error), as Linux's ``poll`` reports this
        socket.

        POLLRDHUP once the peer will send no more; POLLHUP once both directions
        are shut or the connection was reset; POLLERR while a reset waits to be
        reported (a reset, or a refused non-blocking connect).  What sockviz
        does not show is the POLLHUP of a socket that never connected (shown as
        readable and writable, which is what ``select`` says of it too).
        """
        if self._net.tracker.stopped is not None:
            # The network stopped: every descriptor is ready, so that a leftover thread in select()
            # wakes up, makes its next call and is stopped there (NetworkStopped).
            return True, True, False, False, False
        mode = self._mode
        listener = self._listener
        if listener is not None:
            return bool(listener.queue), False, False, False, False
        rx, tx = self._rx, self._tx
        if mode is M.RESET:
            return True, True, True, True, bool(rx is not None and rx.reset)
        if mode is M.REFUSED:  # a refused non-blocking connect: Linux shows it like a reset
            return True, True, True, True, bool(self._so_error)
        if self._so_error:
            return True, True, False, False, False
        if mode is M.CONNECTING:
            return False, False, False, False, False
        if rx is None or tx is None:  # not connected (NOT_INIT, BOUND): select says both
            return True, True, False, False, False
        peer_done = rx.eof or rx.reset
        read_shut = rx.read_shut or self._read_shut_early
        readable = bool(rx.level) or peer_done or read_shut
        writable = tx.level < tx.capacity or tx.reader_gone or tx.eof
        hangup = mode is M.SHUT_RDWR or (tx.eof and (peer_done or read_shut))
        return readable, writable, bool(peer_done), bool(hangup), False

    def _show_readiness(self) -> None:
        carrier = self._carrier
        if carrier is not None:
            carrier.show(self._readiness, self._rec.last_seq)

    def _set_mode(self, new: SocketMode) -> None:
        """Move to mode ``new``, recording a ``state`` event with the addresses as they stand."""
        old = self._mode
        if new is not old:
            self._mode = new
            conn = self._conn
            # fmt: off
            self._rec.emit(
                "state", self._number, "from", _NAME[old], "to", _NAME[new],
                "local", fmt_address(self._local), "peer", fmt_address(self._peer),
                "conn", None if conn is None else conn.cid,
            )
            # fmt: on

    def _any_address(self) -> tuple[Any, ...]:
        return ("::", 0, 0, 0) if self._family == _socket.AF_INET6 else ("0.0.0.0", 0)

    def _address_out(self, addr: tuple[str, int] | None) -> Any:
        if self._family == _socket.AF_UNIX:
            return ""
        if addr is None:
            return self._any_address()
        if self._family != _socket.AF_INET6:
            return addr
        # an IPv4 peer of a dual-stack socket
        host = addr[0] if ":" in addr[0] else f"::ffff:{addr[0]}"
        return (host, addr[1], 0, 0)

    def _parse(self, address: Any, op: str, *, passive: bool) -> tuple[str, int]:
        return parse_address(address, self._family, op, self._net.components, passive=passive)

    def _check_open(self) -> None:
        # closed, or this object's descriptor is
        if self._mode is M.CLOSED or self._fd < 0 or self._fd_lost:
            raise os_error(errno.EBADF)

    def _autobind(self, ip: str) -> None:
        """Give an unbound socket ``ip`` and an ephemeral port (net lock held)."""
        if self._local is None:
            self._local = self._net.take_address(self, ip, 0)
            self._autobound = True

    def _complete(self, what: Completion) -> None:
        """The network's step ``what`` (see COMPLETIONS in _modes.py): the mode it leads to,
        recorded."""
        self._set_mode(complete(self._mode, what))

    def _unconnected(self) -> None:
        """A connect failed: unconnected again, bound if it kept an address (net lock held)."""
        self._complete(
            Completion.UNCONNECTED_BOUND if self._local is not None else Completion.UNCONNECTED
        )

    def _close_silently(self) -> None:
        """The network is gone (the weld is over): closed with no event, since the trace is
        finished."""
        self._mode, self._descriptors = step(self._mode, Op.CLOSE), 0

    def _become_reset(self) -> None:
        """The connection was reset: Linux closes it, freeing a port the kernel chose."""
        self._complete(Completion.RESET)
        self._give_back_port()

    def _give_back_port(self) -> None:
        """Free a port the kernel chose, as Linux does when a connect is refused, a
        connection reset or a listener stopped (getsockname() keeps showing it)."""
        if self._autobound and self._local is not None:
            self._net.release_address(self._local, self)
            self._stale_name, self._local, self._autobound = self._local, None, False

    def _wait(self, cond: Condition, deadline: float | None, reason: WaitReason) -> None:
        """Wait on ``cond`` within the socket's timeout (its lock held)."""
        if self._timeout == 0:
            raise would_block()
        if not cond.wait_until(deadline, reason):
            raise timed_out()

    def _release_fd(self) -> None:
        if self._fd >= 0:
            self._net.sockets.pop(self._fd, None)
            if self._carrier is not None:
                self._net.detach_carrier(self._fd)
                self._carrier.close()
                self._carrier = None
            os.close(self._fd)
            # other objects on this descriptor: gone under them
            for ref in self._net.cowrapped.pop(self._fd, ()):
                other = ref()
                if other is not None and other is not self:
                    other._fd_lost = True
            self._fd = -1

    def _teardown(self) -> None:
        """End the connection or listener for good (FakeSocket does it; net lock held)."""
        raise NotImplementedError

    def _real_close(self) -> None:
        """Close this object's descriptor, and the socket with its last one (FakeSocket does it)."""
        raise NotImplementedError


def _check_kind(family: int, kind: int, proto: int, *, pair: bool) -> None:
    """What ``socket()`` refuses, with the errno Linux gives: sockviz fakes TCP over IPv4 and IPv6
    (and AF_UNIX stream pairs from ``socketpair()``)."""
    if family not in (_socket.AF_INET, _socket.AF_INET6) and not (
        pair and family == _socket.AF_UNIX
    ):
        why = "Address family not supported by protocol (sockviz fakes AF_INET and AF_INET6)"
        raise os_error(errno.EAFNOSUPPORT, why)
    if kind != _socket.SOCK_STREAM:
        why = "Socket type not supported (sockviz fakes SOCK_STREAM only)"
        raise os_error(errno.ESOCKTNOSUPPORT, why)
    if proto not in (-1, 0, _socket.IPPROTO_TCP) or (pair and proto not in (-1, 0)):
        raise os_error(errno.EPROTONOSUPPORT)
