"""The fake socket: weldr's ``fake_socket`` and ``wrap_network.c`` in one class.

Theory of operation
-------------------
A :class:`FakeSocket` answers every call a ``socket.socket`` answers, but no
byte leaves the process.  Each call

1. records a ``call`` event (op and arguments) and, on the way out, a
   ``return`` event (the result, or the exception and errno);
2. asks the mode table (:mod:`._modes`) whether the call is legal in the
   socket's mode -- if not, the errno Linux gives is raised and nothing changes;
3. does its work under the right lock: the network lock for addresses and the
   connect/accept rendezvous, the connection's lock for bytes.

The parts of the class live in their own modules: :mod:`._base` (state and
helpers), :mod:`._rendezvous` (listen, accept, connect), :mod:`._options`
(options and timeouts), :mod:`._descriptors` (dup, detach, fromfd) and
:mod:`._files` (makefile, sendfile); this one has the bytes and the endings.

Lock order: the network lock before a connection's lock, never the reverse.
"""

from __future__ import annotations

import errno
import socket as _socket
import time
import warnings
from typing import Any

from .._core._events import WaitReason
from ._args import c_int
from ._base import SocketBase
from ._descriptors import Descriptors
from ._filebuf import ByteBuffer, WaitsFor, deadline_for, timed_out
from ._files import Files
from ._modes import (
    REFUSALS,
    TIME_WAIT_S,
    TRANSITIONS,
    Completion,
    Op,
    SocketMode,
    os_error,
    step,
)
from ._options import Options
from ._rendezvous import Connection, Rendezvous, connected_pair
from ._traced import fmt_address, traced

__all__ = ["FakeSocket", "connected_pair"]

M = SocketMode
# The modes in which send/recv are legal, from the table (a set test is cheaper than step()).
_MAY_SEND = frozenset(mode for (mode, op) in TRANSITIONS if op is Op.SEND)
_MAY_RECV = frozenset(mode for (mode, op) in TRANSITIONS if op is Op.RECV)
_SHUT_OPS = {
    _socket.SHUT_RD: Op.SHUT_RD,
    _socket.SHUT_WR: Op.SHUT_WR,
    _socket.SHUT_RDWR: Op.SHUT_RDWR,
}
# Plain ints: ``flags & socket.MSG_PEEK`` would go through IntFlag's Python code.
_MSG_DONTWAIT = int(_socket.MSG_DONTWAIT)
_MSG_PEEK = int(_socket.MSG_PEEK)
_MSG_WAITALL = int(_socket.MSG_WAITALL)


#: modes whose close() is TCP's orderly close (FIN), one end possibly in TIME_WAIT after
_CLOSES_GRACEFULLY = (M.OUTBOUND, M.INBOUND, M.SHUT_WR, M.SHUT_RD, M.SHUT_RDWR)


class FakeSocket(Rendezvous, Options, Descriptors, Files):
    """A stream socket of the fake network, with the ``socket.socket`` API.

    Made by ``socket.socket()`` in a welded thread (or ``net.socket()``).
    Its ``fileno()`` is a real descriptor it owns, so numbers never collide
    with real sockets; ``fileno()`` is -1 once closed.
    """

    def _make_accepted(
        self, local: tuple[str, int] | None, peer: tuple[str, int] | None, conn: Connection
    ) -> FakeSocket:
        """The server's end of a connection, born INBOUND inside accept(), with the listener's
        options (SO_REUSEADDR, SO_LINGER...), as Linux copies them."""
        made = FakeSocket(
            self._net, self._family, self._type, self.proto, _accepted=(local, peer, conn)
        )
        made._options = dict(self._options)
        made._abortive_close = self._abortive_close
        return made

    @traced("bind", lambda address: ("addr", fmt_address(address)))
    def bind(self, address: Any) -> None:
        """Take a local address; port 0 picks an ephemeral port."""
        self._check_open()
        ip, port = self._parse(address, "bind", passive=True)
        net = self._net
        with net.lock:
            new = step(self._mode, Op.BIND)
            if self._local is not None:  # e.g. refused after an explicit bind: the port stays
                raise os_error(errno.EINVAL)
            self._local = net.take_address(self, ip, port)
            self._autobound = port == 0  # Linux locks only a port the caller named
            self._set_mode(new)

    def getsockname(self) -> Any:
        self._check_open()
        return self._address_out(self._local if self._local is not None else self._stale_name)

    def getpeername(self) -> Any:
        step(self._mode, Op.GETPEERNAME)
        return self._address_out(self._peer)

    @traced("send", lambda data, flags=0: ("n", len(data)), result=lambda n: ("result", n))
    def send(self, data: Any, flags: int = 0) -> int:
        """Queue bytes for the peer; blocks while its buffer is full."""
        return self._send(data, flags)

    def _send(self, data: Any, flags: int = 0, timeout: float | bool | None = True) -> int:
        """send() itself; ``timeout=True`` means the socket's own timeout."""
        view = _bytes_view(data)
        conn = self._conn
        if conn is None:
            self._raise_pending_error()
            step(self._mode, Op.SEND)
            raise os_error(errno.EPIPE)
        if timeout is True:
            timeout = self._timeout
        if flags and flags & _MSG_DONTWAIT:
            timeout = 0.0
        try:
            return self._send_locked(conn, view, timeout)
        finally:
            if self._mode is M.CLOSED:
                self._finish_deferred_close()

    def _send_locked(self, conn: Connection, view: memoryview, timeout: float | None) -> int:
        with conn.lock:
            if self._mode is M.RESET and self._rx is not None and self._rx.reset:
                # The reset is still unreported: like recv(), send() reports it once (Linux's
                # sk_err).
                self._rx.reset, self._rx.eof = False, True
                raise os_error(errno.ECONNRESET)
            if self._mode not in _MAY_SEND:
                step(self._mode, Op.SEND)
            if self._write_shut_early:
                raise os_error(errno.EPIPE)
            tx = self._tx
            assert tx is not None
            if tx.reader_gone:  # the peer closed: Linux takes this send, then resets
                tx.discard(len(view))
                self._become_reset()
                return len(view)
            if not view:
                return 0
            self._in_calls += 1
            try:
                sent = tx.write(view, timeout, self._send_waits_for)
            finally:
                self._in_calls -= 1
            if sent < len(view) and timeout is None:
                gone = tx.reader_left()  # the reader may have closed while we waited
                if gone:
                    self._become_reset()
                if not sent:
                    raise os_error(errno.ECONNRESET if gone else errno.EPIPE)
            return sent

    @traced("sendall", lambda data, flags=0: ("n", len(data)))
    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send every byte, waiting for room as often as needed."""
        view = _bytes_view(data)
        timeout = self._timeout
        deadline = deadline_for(timeout)  # one deadline for the whole call
        sent = 0
        while True:
            if deadline is not None:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    raise timed_out()
            sent += self._send(view[sent:], flags, timeout)
            if sent >= len(view):
                return

    @traced("sendto", lambda data, *args: ("n", len(data)), result=lambda n: ("result", n))
    def sendto(self, data: Any, flags_or_address: Any, address: Any = None) -> int:
        """On a connected stream socket the address is ignored, as on Linux."""
        flags = flags_or_address if address is not None else 0
        return self._send(data, flags)

    def _receive(self, nbytes: int, flags: int, out: memoryview | None) -> bytes | int:
        conn = self._conn
        if conn is None:
            self._raise_pending_error()
            if self._read_shut_early and self._mode in (
                M.NOT_INIT,
                M.BOUND,
                M.CONNECTING,
                M.RESET,
                M.REFUSED,
            ):
                return b"" if out is None else 0
            step(self._mode, Op.RECV)
            if self._mode is M.REFUSED:  # refused in the background: nothing will ever come
                return b"" if out is None else 0
            raise os_error(errno.ENOTCONN)
        timeout = 0.0 if flags and flags & _MSG_DONTWAIT else self._timeout
        try:
            return self._receive_locked(conn, nbytes, flags, timeout, out)
        finally:
            if self._mode is M.CLOSED:
                self._finish_deferred_close()

    def _receive_locked(
        self,
        conn: Connection,
        nbytes: int,
        flags: int,
        timeout: float | None,
        out: memoryview | None,
    ) -> bytes | int:
        with conn.lock:
            if self._mode not in _MAY_RECV:
                step(self._mode, Op.RECV)
            rx = self._rx
            assert rx is not None
            waits_for = self._recv_waits_for
            peek = bool(flags and flags & _MSG_PEEK)
            self._in_calls += 1
            try:
                if not (flags and flags & _MSG_WAITALL and timeout is None and not peek):
                    return rx.read(nbytes, timeout, waits_for, out, peek=peek)
                return self._read_all(rx, nbytes, waits_for, out)
            finally:
                self._in_calls -= 1

    def _read_all(
        self, rx: ByteBuffer, nbytes: int, waits_for: WaitsFor, out: memoryview | None
    ) -> bytes | int:
        """MSG_WAITALL on a blocking socket: all ``nbytes``, unless EOF comes first."""
        pieces: list[bytes] = []
        got = 0
        while got < nbytes:
            piece = rx.read(nbytes - got, None, waits_for, None if out is None else out[got:])
            if not piece:
                break
            if isinstance(piece, int):
                got += piece
            else:
                pieces.append(piece)
                got += len(piece)
        return b"".join(pieces) if out is None else got

    @traced(
        "recv",
        lambda bufsize, flags=0: ("bufsize", bufsize),
        result=lambda data: ("result", len(data)),
    )
    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes; ``b''`` once the peer has shut down or closed."""
        if not isinstance(bufsize, int):
            raise TypeError(
                f"'{type(bufsize).__name__}' object cannot be interpreted as an integer"
            )
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        if bufsize == 0:
            return b""  # CPython answers before asking the kernel, in any state
        data = self._receive(bufsize, flags, None)
        assert isinstance(data, bytes)
        return data

    @traced(
        "recv_into",
        lambda buffer, nbytes=0, flags=0: ("bufsize", nbytes or len(buffer)),
        result=lambda n: ("result", n),
    )
    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if nbytes < 0:
            raise ValueError("negative buffersize in recv_into")
        view = memoryview(buffer).cast("B")
        if nbytes == 0:
            nbytes = len(view)
        elif nbytes > len(view):
            raise ValueError("buffer too small for requested bytes")
        if nbytes == 0:
            return 0  # an empty buffer: CPython answers before asking the kernel
        n = self._receive(nbytes, flags, view[:nbytes])
        assert isinstance(n, int)
        return n

    @traced(
        "recvfrom",
        lambda bufsize, flags=0: ("bufsize", bufsize),
        result=lambda value: ("result", len(value[0])),
    )
    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, None]:
        """``(data, None)``: a stream socket has no per-message sender address."""
        if bufsize < 0:
            raise ValueError("negative buffersize in recvfrom")
        data = self._receive(bufsize, flags, None)
        assert isinstance(data, bytes)
        return data, None

    def recvfrom_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, None]:
        return self.recv_into(buffer, nbytes, flags), None

    @traced(
        "shutdown", lambda how: ("how", {0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"}.get(how, how))
    )
    def shutdown(self, how: int) -> None:
        """Shut one or both directions; on a listener, stop listening."""
        op = _SHUT_OPS.get(c_int(how, strict_int=True))
        if op is None:
            self._check_open()
            raise os_error(errno.EINVAL)
        net = self._net
        with net.lock:
            if (self._mode, op) in REFUSALS and self._mode is not M.CLOSED:
                # Linux quirk: on an unconnected socket shutdown() says ENOTCONN but marks the
                # side(s) shut all the same -- once connected, recv() gives b'' and send() EPIPE.
                # The mode does not change; the marks are kept beside it.
                self._read_shut_early = self._read_shut_early or op is not Op.SHUT_WR
                self._write_shut_early = self._write_shut_early or op is not Op.SHUT_RD
            if self._mode in (M.CONNECTING, M.REFUSED):
                # Likewise Linux marks a socket whose connect is pending or failed as disconnecting:
                # connect() is EINVAL on it from now on.
                self._disconnecting = True
            new = step(self._mode, op)
            if self._listener is not None and self._mode is M.LISTEN:
                if new is not M.LISTEN:
                    self._stop_listening()
                    # Linux's disconnect clears them
                    self._read_shut_early = self._write_shut_early = False
                    self._give_back_port()  # a port the kernel chose is freed, as after a refusal
                    if self._local is not None:
                        self._set_mode(new)
                    else:
                        self._complete(Completion.STOPPED)
                return
        conn = self._conn
        assert conn is not None and self._rx is not None and self._tx is not None
        with conn.lock:
            new = step(self._mode, op)
            if op is not Op.SHUT_WR:
                self._rx.shut_reader()
            if op is not Op.SHUT_RD:
                self._send_fin()
            self._set_mode(new)

    def close(self) -> None:
        """Close the socket (once any ``makefile()`` files are closed too)."""
        if self._net.orphans:
            self._net.close_orphans()
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        # another object (or socket.close(fd)) closed this descriptor: as CPython, EBADF
        if self._fd_lost:
            self._fd = -1
            raise os_error(errno.EBADF)
        if self._mode is M.CLOSED or self._fd < 0:
            return
        net = self._net
        self._rec.emit("call", self._number, "op", "close")
        with net.lock:
            if self._descriptors > 1:  # other descriptors refer to the socket: only this one goes
                self._descriptors -= 1
                self._release_fd()
                self._rec.emit(
                    "return", self._number,
                    "op", "close", "result", None, "descriptors_left", self._descriptors,
                )  # fmt: skip
                return
            self._descriptors = 0
            # no cycle left for the garbage collector (the table lets go below)
            self.__dict__.pop("_anchor_object", None)
            in_use = self._in_calls
            if not in_use:
                self._teardown()
            self._set_mode(step(self._mode, Op.CLOSE))
            self._release_fd()
        if in_use:
            # Linux frees the descriptor, but the socket lives on -- no FIN, still listening --
            # until the calls blocked on it return.
            self._rec.emit(
                "return", self._number,
                "op", "close", "result", None, "deferred", f"{in_use} blocked call(s)",
            )  # fmt: skip
        else:
            self._rec.emit("return", self._number, "op", "close", "result", None)
        if net.carriers:  # the peer may have just become readable (end of file)
            net.show_readiness()

    def _recv_waits_for(self) -> WaitReason:
        return WaitReason("recv", self._number, "data", self._peer_fd, self._peer_owner)

    def _send_waits_for(self) -> WaitReason:
        return WaitReason("send", self._number, "room", self._peer_fd, self._peer_owner)

    def _raise_pending_error(self) -> None:
        """A background connect was refused: the next send or recv learns it (once)."""
        if self._so_error and self._mode is not M.CLOSED:
            error, self._so_error = self._so_error, 0
            self._unreported_connect = False
            raise os_error(error)

    def _finish_deferred_close(self) -> None:
        """The last call blocked on a closed socket returned: now really close it."""
        with self._net.lock:
            if not self._in_calls:
                self._teardown()

    def _teardown(self) -> None:
        """Release the address and end the connection or listener (net lock held)."""
        if self._torn_down:
            return
        self._torn_down = True
        net = self._net
        if self._listener is not None:
            self._stop_listening()
        net.release_address(self._local, self)
        conn = self._conn
        if conn is not None:
            with conn.lock:
                assert self._rx is not None and self._tx is not None
                connected = self._mode in _CLOSES_GRACEFULLY
                if not self._abortive_close:
                    self._send_fin()
                unread = self._rx.close_reader()
                if (unread or self._abortive_close) and not self._tx.reader_gone:
                    # Bytes left unread, or SO_LINGER (on, 0 s): Linux resets, it sends no FIN.
                    self._tx.close_writer()
                    self._tx.reset_reader()
                    self._fin_first = False  # an abort: no FIN, no TIME_WAIT
                    peer = self._peer_socket()
                    if peer is not None and peer._mode in (
                        M.OUTBOUND,
                        M.INBOUND,
                        M.SHUT_RD,
                        M.SHUT_WR,
                        M.SHUT_RDWR,
                    ):
                        peer._become_reset()
                elif connected and self._fin_first and (self._born_accepted or not self._autobound):
                    # The end that closed first waits in TIME_WAIT (60 s on Linux) holding its
                    # address: a server restarted at once cannot bind it (EADDRINUSE) unless
                    # both sockets set SO_REUSEADDR. (A port connect() chose is not held: Linux
                    # reuses those for other peers.)
                    net.hold_in_time_wait(self._local, self.reuse_address)
                if self._fin_first:
                    self._time_wait_until = time.monotonic() + TIME_WAIT_S

    def _send_fin(self) -> None:
        """This end sends no more: the peer reads end of file after the data (conn lock held)."""
        assert self._rx is not None and self._tx is not None
        if not self._tx.eof:
            self._fin_first = not self._rx.eof
        self._tx.close_writer()

    def _peer_socket(self) -> SocketBase | None:
        conn = self._conn
        for ref in self._net.sockets.values():
            sock = ref()
            # not one of ours
            if sock is not None and sock._conn is conn and sock.__dict__ is not self.__dict__:
                return sock
        return None

    def __del__(self) -> None:
        # A real socket closes when it is garbage-collected; so does a fake one (the peer then sees
        # EOF). But a finalizer may run while this very thread holds one of the network's locks, so
        # it takes none: it hands the socket to the network, which closes it at the next safe point
        # (see close_orphans).
        try:
            if getattr(self, "_fd", -1) >= 0 and not self._fd_lost and self._mode is not M.CLOSED:
                # as a real socket does
                warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=1, source=self)
                self._net.orphans.append(self)
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass

    def __enter__(self) -> FakeSocket:
        return self

    def __exit__(self, *args: object) -> None:
        if not self._closed:
            self.close()

    def __repr__(self) -> str:
        closed = " [closed]" if self._mode is M.CLOSED else ""
        text = (
            f"<sockviz.FakeSocket{closed} fd={self._fd}, family={int(self._family)}, "
            f"type={int(self._type)}, proto={self.proto}"
        )
        if self._mode is not M.CLOSED:
            text += f", laddr={self.getsockname()!r}"
            if self._peer is not None and self._conn is not None:
                text += f", raddr={self._address_out(self._peer)!r}"
        return f"{text}, mode={self._mode.name}, owner={self.owner!r}>"

    def __getstate__(self) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


def _bytes_view(data: Any) -> memoryview:
    if isinstance(data, str):
        raise TypeError("a bytes-like object is required, not 'str'")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not '{type(data).__name__}'") from None
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view
