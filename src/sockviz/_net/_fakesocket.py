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

**The rendezvous.**  ``listen()`` gives the socket a backlog queue and two
conditions: ``acceptable`` (``accept()`` waits there for a connection; a
``connect()`` notifies it) and ``room`` (a ``connect()`` that finds the
backlog full waits there; an ``accept()`` notifies it).  A ``connect()``
appends a pending connection, whose two byte buffers already exist, to the
queue.  In ``strict`` semantics it returns at once, as on Linux; in ``weldr``
semantics it then waits on the pending connection's semaphore until
``accept()`` posts it, as the original's rendezvous semaphores did.  Either
way ``accept()`` records one ``meet`` event naming both threads and the three
descriptors (listener, client, accepted): the arrow the timeline draws.

Lock order: the network lock before a connection's lock, never the reverse.
"""

from __future__ import annotations

import errno
import functools
import socket as _socket
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._args import OPTION_NAMES, OPTIONS, READ_ONLY, check_timeout, option_key, option_value, pack_option, parse_address
from ._filebuf import ByteBuffer, timed_out, would_block
from ._modes import Op, SocketMode, os_error, step
from ._sync import Condition, Semaphore

if TYPE_CHECKING:
    from ._manager import FakeNetwork

__all__ = ["Connection", "FakeSocket", "connected_pair"]

M = SocketMode
F = TypeVar("F", bound=Callable[..., Any])
_NAME = {mode: mode.name for mode in M}  # Enum.name is a Python-level property
_FAMILY_NAME = {int(f): f.name for f in (_socket.AF_INET, _socket.AF_INET6, _socket.AF_UNIX)}
_CONNECTED = (M.OUTBOUND, M.INBOUND, M.SHUT_RD, M.SHUT_WR, M.SHUT_RDWR, M.RESET)
_SHUT_OPS = {_socket.SHUT_RD: Op.SHUT_RD, _socket.SHUT_WR: Op.SHUT_WR, _socket.SHUT_RDWR: Op.SHUT_RDWR}
_monotonic = time.monotonic
# Plain ints: ``flags & socket.MSG_PEEK`` would go through IntFlag's Python code.
_MSG_DONTWAIT = int(_socket.MSG_DONTWAIT)
_MSG_PEEK = int(_socket.MSG_PEEK)


def _fmt(addr: tuple[Any, ...] | None) -> str | None:
    from ._manager import format_address

    return format_address(addr)


def _traced(
    op: str,
    describe: Callable[..., tuple[Any, ...]] | None = None,
    result: Callable[[Any], tuple[Any, ...]] | None = None,
) -> Callable[[F], F]:
    """Record a ``call`` event before and a ``return`` event after the method.

    ``describe(*args)`` gives the call's fields and ``result(value)`` the
    return's, as flat ``(name, value, name, value...)`` tuples (the
    recorder's cheap form); by default the return value is the ``result``.
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def traced(self: FakeSocket, *args: Any, **kwargs: Any) -> Any:
            emit = self._rec.emit
            fields: tuple[Any, ...] = ()
            if describe is not None:
                try:  # noqa: SIM105 - contextlib.suppress costs an object per call
                    fields = describe(*args, **kwargs)
                except (TypeError, ValueError, AttributeError, IndexError):
                    pass  # a bad argument is for the method itself to complain about
            emit("call", self._number, "op", op, *fields)
            try:
                value = method(self, *args, **kwargs)
            except BaseException as exc:
                emit("return", self._number, "op", op, "error", type(exc).__name__, "errno", getattr(exc, "errno", None))
                raise
            if result is None:
                emit("return", self._number, "op", op, "result", value)
            else:
                emit("return", self._number, "op", op, *result(value))
            return value

        return traced  # type: ignore[return-value]

    return decorate


class Connection:
    """The two byte buffers of one connection, under one lock."""

    __slots__ = ("cid", "down", "lock", "up")

    def __init__(self, net: FakeNetwork, cid: int) -> None:
        self.cid = cid
        self.lock = net.new_lock(f"conn{cid}")
        #: client -> server
        self.up = ByteBuffer(f"conn{cid}.up", self.lock, net.buffer_size, net.recorder, net.tracker)
        #: server -> client
        self.down = ByteBuffer(f"conn{cid}.down", self.lock, net.buffer_size, net.recorder, net.tracker)


class _Pending:
    """A connection in a listener's backlog, not yet accepted."""

    __slots__ = ("accepted", "client", "conn", "error", "thread", "wakeup")

    def __init__(self, client: FakeSocket, conn: Connection, wakeup: Semaphore | None) -> None:
        self.client = client
        self.conn = conn
        self.thread = client._rec.thread_name()
        self.wakeup = wakeup  # weldr: connect() waits on it until accept() posts it
        self.accepted = False
        self.error = 0


class _Listener:
    """What ``listen()`` adds to a socket: the backlog and its two conditions."""

    __slots__ = ("acceptable", "backlog", "queue", "room")

    def __init__(self, net: FakeNetwork, fd: int, backlog: int) -> None:
        self.backlog = backlog
        self.queue: deque[_Pending] = deque()
        self.acceptable = Condition(net.lock, f"fd{fd}.acceptable", net.tracker)
        self.room = Condition(net.lock, f"fd{fd}.room", net.tracker)

    @property
    def full(self) -> bool:
        # Linux completes backlog + 1 connections before it makes clients wait.
        return len(self.queue) > self.backlog


class FakeSocket:
    """A stream socket of the fake network, with the ``socket.socket`` API.

    Made by ``socket.socket()`` in a welded thread (or ``net.socket()``).
    Its ``fileno()`` is a real descriptor it owns, so numbers never collide
    with real sockets; ``fileno()`` is -1 once closed.
    """

    # socket.py's own makefile() and the reference counting behind it serve
    # fake sockets too: the file object keeps the socket open until closed.
    makefile = _socket.socket.makefile
    _decref_socketios = _socket.socket._decref_socketios  # type: ignore[attr-defined]

    def __init__(
        self, net: FakeNetwork, family: int = -1, type: int = -1, proto: int = -1, *, _pair: bool = False, _accepted: bool = False
    ) -> None:
        family = _socket.AF_INET if family == -1 else family
        type = _socket.SOCK_STREAM if type == -1 else type
        nonblocking = bool(type & _socket.SOCK_NONBLOCK)
        kind = type & ~(_socket.SOCK_NONBLOCK | _socket.SOCK_CLOEXEC)
        if family not in (_socket.AF_INET, _socket.AF_INET6) and not (_pair and family == _socket.AF_UNIX):
            raise os_error(errno.EAFNOSUPPORT, "Address family not supported by protocol (sockviz fakes AF_INET and AF_INET6)")
        if kind != _socket.SOCK_STREAM:
            raise os_error(errno.ESOCKTNOSUPPORT, "Socket type not supported (sockviz fakes SOCK_STREAM only)")
        if proto not in (-1, 0, _socket.IPPROTO_TCP) or (_pair and proto not in (-1, 0)):
            raise os_error(errno.EPROTONOSUPPORT)
        self._net = net
        self._rec = net.recorder
        self._family = _socket.AddressFamily(family)
        self._type = _socket.SocketKind(kind)
        self.proto = 0 if family == _socket.AF_UNIX else _socket.IPPROTO_TCP if proto == _socket.IPPROTO_TCP else 0
        self._fd = net.new_fd()
        self._number = self._fd  # the descriptor events name, kept after close
        self._mode = M.NOT_INIT
        self._timeout: float | None = 0.0 if nonblocking else _socket.getdefaulttimeout()
        self._local: tuple[str, int] | None = None
        self._peer: tuple[str, int] | None = None
        self._peer_owner = "the peer"
        self._conn: Connection | None = None
        self._rx: ByteBuffer | None = None
        self._tx: ByteBuffer | None = None
        self._listener: _Listener | None = None
        self._options: dict[tuple[int, int], int] = {}
        self._so_error = 0
        self._unreported_connect = False
        self._io_refs = 0
        self._closed = False
        self.owner = self._rec.thread_name()
        net.sockets[self._fd] = weakref.ref(self)
        if _accepted:  # born connected, inside accept(): no socket() call of its own
            self._mode = M.INBOUND
            self._rec.emit("state", self._fd, "from", None, "to", "INBOUND", "owner", self.owner)
            return
        self._rec.emit("call", self._fd, "op", "socket", "family", _FAMILY_NAME.get(family, str(family)), "type", "SOCK_STREAM")
        self._rec.emit("state", self._fd, "from", None, "to", "NOT_INIT", "owner", self.owner)
        self._rec.emit("return", self._fd, "op", "socket", "result", self._fd)

    # -- small accessors --------------------------------------------------
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
        return self._mode is M.LISTEN

    @property
    def reuse_address(self) -> bool:
        return bool(self._options.get((_socket.SOL_SOCKET, _socket.SO_REUSEADDR)))

    def fileno(self) -> int:
        return self._fd

    def _set_mode(self, new: SocketMode) -> None:
        old = self._mode
        if new is not old:
            self._mode = new
            self._rec.emit("state", self._number, "from", _NAME[old], "to", _NAME[new])

    def _any_address(self) -> tuple[Any, ...]:
        return ("::", 0, 0, 0) if self._family == _socket.AF_INET6 else ("0.0.0.0", 0)

    def _address_out(self, addr: tuple[str, int] | None) -> Any:
        if self._family == _socket.AF_UNIX:
            return ""
        if addr is None:
            return self._any_address()
        return (addr[0], addr[1], 0, 0) if self._family == _socket.AF_INET6 else addr

    def _parse(self, address: Any, op: str, *, passive: bool) -> tuple[str, int]:
        return parse_address(address, self._family, op, self._net.components, passive=passive)

    def _check_open(self) -> None:
        if self._mode is M.CLOSED:
            raise os_error(errno.EBADF)

    # -- addresses ----------------------------------------------------------
    @_traced("bind", lambda address: ("addr", _fmt(address)))
    def bind(self, address: Any) -> None:
        """Take a local address; port 0 picks an ephemeral port."""
        self._check_open()
        ip, port = self._parse(address, "bind", passive=True)
        net = self._net
        with net.lock:
            new = step(self._mode, Op.BIND)
            self._local = net.take_address(self, ip, port)
            self._set_mode(new)

    def _autobind(self, ip: str) -> None:
        """Give an unbound socket ``ip`` and an ephemeral port (net lock held)."""
        if self._local is None:
            self._local = self._net.take_address(self, ip, 0)

    def getsockname(self) -> Any:
        self._check_open()
        return self._address_out(self._local)

    def getpeername(self) -> Any:
        step(self._mode, Op.GETPEERNAME)
        return self._address_out(self._peer)

    # -- the server side ------------------------------------------------------
    @_traced("listen", lambda backlog=None: ("backlog", backlog))
    def listen(self, backlog: int | None = None) -> None:
        """Start accepting connections; ``backlog`` + 1 may wait unaccepted."""
        if backlog is None:
            backlog = min(_socket.SOMAXCONN, 128)
        if not isinstance(backlog, int):
            raise TypeError(f"'{type(backlog).__name__}' object cannot be interpreted as an integer")
        net = self._net
        with net.lock:
            new = step(self._mode, Op.LISTEN)
            backlog = max(backlog, 0)
            if self._listener is None:
                self._autobind("::" if self._family == _socket.AF_INET6 else "0.0.0.0")
                self._listener = _Listener(net, self._number, backlog)
            self._listener.backlog = backlog
            self._set_mode(new)
            net.listening.notify_all()  # weldr: connect()s waiting for a listener
            net.retry_parked()

    @_traced("accept", result=lambda value: ("result", value[0]._number, "peer", _fmt(value[1])))
    def accept(self) -> tuple[Any, Any]:
        """Take the oldest connection of the backlog, waiting for one if needed."""
        net = self._net
        with net.lock:
            step(self._mode, Op.ACCEPT)
            listener = self._listener
            assert listener is not None
            deadline = None if not self._timeout else _monotonic() + self._timeout
            while not listener.queue:
                self._wait(
                    listener.acceptable, deadline, f"accept() on fd {self._number} waits for a client to connect to {_fmt(self._local)}"
                )
                step(self._mode, Op.ACCEPT)  # shut down while we waited: EINVAL
            pending = listener.queue.popleft()
            server_end = self._accept_pending(pending)
            if listener.room.waiting:
                listener.room.notify()
            net.retry_parked()
        return server_end, server_end._address_out(server_end._peer)

    def _accept_pending(self, pending: _Pending) -> FakeSocket:
        """The meeting: make the server's end and complete the client's (net lock held)."""
        net = self._net
        client, conn = pending.client, pending.conn
        server_end = FakeSocket(net, self._family, self._type, self.proto, _accepted=True)
        server_end._local = client._peer
        server_end._peer = client._local
        server_end._conn, server_end._rx, server_end._tx = conn, conn.up, conn.down
        server_end._peer_owner = pending.thread
        client._peer_owner = server_end.owner
        if client._mode is M.CONNECTING:
            client._set_mode(M.OUTBOUND)
        pending.accepted = True
        # fmt: off
        net.recorder.emit(
            "meet", self._number,
            "what", "connect/accept",
            "connect", pending.thread, "accept", server_end.owner,
            "listener", self._number, "client", client._number, "server", server_end._number,
            "conn", conn.cid, "addr", _fmt(self._local),
        )
        # fmt: on
        if pending.wakeup is not None:
            pending.wakeup.post()
        return server_end

    # -- the client side ------------------------------------------------------
    @_traced("connect", lambda address: ("addr", _fmt(address)))
    def connect(self, address: Any) -> None:
        """Connect to a listener, waiting as the network's semantics say."""
        error = self._connect(address)
        if error:
            raise os_error(error)

    @_traced("connect_ex", lambda address: ("addr", _fmt(address)))
    def connect_ex(self, address: Any) -> int:
        """Like ``connect()``, but return the errno instead of raising it."""
        try:
            return self._connect(address)
        except TimeoutError:
            return errno.EAGAIN
        except OSError as exc:
            if exc.errno is None or isinstance(exc, _socket.gaierror):
                raise
            return exc.errno

    def _connect(self, address: Any) -> int:
        self._check_open()
        ip, port = self._parse(address, "connect", passive=False)
        net = self._net
        with net.lock:
            if self._unreported_connect and (self._mode is M.OUTBOUND or self._so_error):
                # A non-blocking connect finished since: report its outcome once.
                self._unreported_connect = False
                error, self._so_error = self._so_error, 0
                return error
            step(self._mode, Op.CONNECT)
            if not (ip.startswith("127.") or ip in ("0.0.0.0", "::", "::1") or ip.startswith("::ffff:127.")):
                return errno.ENETUNREACH  # there is no other host
            strict = net.semantics == "strict"
            listener_sock = net.find_listener(ip, port)
            self._autobind("0.0.0.0" if listener_sock is None and strict else self._source_for(ip))
            self._peer = (ip if ip not in ("0.0.0.0", "::") else self._source_for(ip), port)
            if listener_sock is None and strict and self._timeout != 0:
                return self._refused()
            self._set_mode(M.CONNECTING)
            if self._timeout == 0:
                # Linux answers EINPROGRESS even when the handshake is instant; the
                # outcome comes later through writability, SO_ERROR or connect() again.
                self._unreported_connect = True
                net.parked.append(self)
                net.retry_parked()
                raise BlockingIOError(errno.EINPROGRESS, "Operation now in progress")
            where = _fmt((ip, port))
            deadline = None if not self._timeout else _monotonic() + self._timeout
            try:
                while True:
                    listener_sock = self._wait_for_listener(ip, port, deadline, where)
                    if listener_sock is None:
                        return self._refused()
                    listener = listener_sock._listener
                    assert listener is not None
                    if not listener.full:
                        break
                    self._wait(listener.room, deadline, f"connect() on fd {self._number} waits for room in the backlog of {where}")
            except BaseException:
                self._set_mode(M.BOUND)
                raise
            pending = self._enqueue(listener_sock)
        if pending.wakeup is not None:
            self._await_accept(pending, listener, deadline, listener_sock.owner)
        return 0

    def _enqueue(self, listener_sock: FakeSocket) -> _Pending:
        """Join ``listener_sock``'s backlog; strict semantics connect here (net lock held)."""
        net = self._net
        listener = listener_sock._listener
        assert listener is not None
        conn = Connection(net, net.next_connection_id())
        self._conn, self._rx, self._tx = conn, conn.down, conn.up
        self._peer_owner = listener_sock.owner
        blocking_weldr = net.semantics == "weldr" and self._timeout != 0
        pending = _Pending(self, conn, net.new_semaphore(f"fd{self._number}.accepted") if blocking_weldr else None)
        listener.queue.append(pending)
        listener.acceptable.notify()
        if net.semantics == "strict":
            self._set_mode(M.OUTBOUND)
        return pending

    def _retry_connect(self) -> bool:
        """Move a parked non-blocking connect on, if it can; True once it is settled."""
        if self._mode is not M.CONNECTING or self._peer is None:
            return True
        net = self._net
        listener_sock = net.find_listener(*self._peer)
        if listener_sock is None:
            if net.semantics == "strict":
                # Refused in the background: Linux leaves the socket reset, so a
                # later recv() gives b'' (a refused blocking connect gives ENOTCONN).
                self._so_error = errno.ECONNREFUSED
                self._rec.emit("refused", self._number, "addr", _fmt(self._peer))
                self._set_mode(M.RESET)
                return True
            return False
        assert listener_sock._listener is not None
        if listener_sock._listener.full:
            return False
        self._enqueue(listener_sock)
        return True

    def _source_for(self, ip: str) -> str:
        if ":" in ip:
            return "::1"
        return ip if ip.startswith("127.") else "127.0.0.1"

    def _refused(self) -> int:
        self._rec.emit("refused", self._number, "addr", _fmt(self._peer))
        self._peer = None
        if self._mode is not M.BOUND:
            self._set_mode(M.BOUND)
        return errno.ECONNREFUSED

    def _wait_for_listener(self, ip: str, port: int, deadline: float | None, where: str | None) -> FakeSocket | None:
        """weldr: wait until somebody listens at ``(ip, port)`` (net lock held)."""
        net = self._net
        while True:
            found = net.find_listener(ip, port)
            if found is not None or net.semantics == "strict":
                return found
            self._wait(net.listening, deadline, f"connect() on fd {self._number} waits for someone to listen on {where}")

    def _await_accept(self, pending: _Pending, listener: _Listener, deadline: float | None, server: str | None) -> None:
        """weldr: the original's rendezvous -- wait until accept() posts us."""
        assert pending.wakeup is not None
        remaining = None if deadline is None else max(deadline - _monotonic(), 0.0)
        got = pending.wakeup.acquire(remaining, f"connect() on fd {self._number} waits for {server} to accept")
        if got and not pending.error:
            return
        with self._net.lock:
            if pending.accepted:
                return
            if pending in listener.queue:
                listener.queue.remove(pending)
            self._conn = self._rx = self._tx = None
            self._set_mode(M.BOUND)
            if pending.error:
                self._peer = None
                raise os_error(pending.error)
            self._peer = None
        raise timed_out()

    def _wait(self, cond: Condition, deadline: float | None, waits_for: str) -> None:
        """Wait on ``cond`` within the socket's timeout (its lock held)."""
        if self._timeout == 0:
            raise would_block()
        if deadline is None:
            cond.wait(None, waits_for)
            return
        remaining = deadline - _monotonic()
        if remaining <= 0 or not cond.wait(remaining, waits_for):
            raise timed_out()

    # -- bytes --------------------------------------------------------------
    @_traced("send", lambda data, flags=0: ("n", len(data)), result=lambda n: ("result", n))
    def send(self, data: Any, flags: int = 0) -> int:
        """Queue bytes for the peer; blocks while its buffer is full."""
        return self._send(data, flags)

    def _send(self, data: Any, flags: int = 0) -> int:
        view = _bytes_view(data)
        conn = self._conn
        if conn is None:
            step(self._mode, Op.SEND)
            raise os_error(errno.EPIPE)
        timeout = 0.0 if flags and flags & _MSG_DONTWAIT else self._timeout
        with conn.lock:
            step(self._mode, Op.SEND)
            tx = self._tx
            assert tx is not None
            if tx.reader_gone:  # the peer closed: Linux takes this send, then resets
                tx.discard(len(view))
                self._set_mode(M.RESET)
                return len(view)
            if not view:
                return 0
            sent = tx.write(view, timeout, f"send() on fd {self._number} waits for {self._peer_owner} to read")
            if sent < len(view) and timeout is None:
                self._set_mode(M.RESET if tx.reader_gone else self._mode)
                if not sent:
                    raise os_error(errno.ECONNRESET if tx.reader_gone else errno.EPIPE)
            return sent

    @_traced("sendall", lambda data, flags=0: ("n", len(data)))
    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send every byte, waiting for room as often as needed."""
        view = _bytes_view(data)
        deadline = None if not self._timeout else _monotonic() + self._timeout
        sent = 0
        saved = self._timeout
        try:
            while sent < len(view) or not view:
                if deadline is not None:
                    remaining = deadline - _monotonic()
                    if remaining <= 0:
                        raise timed_out()
                    self._timeout = remaining
                sent += self._send(view[sent:], flags)
                if not view:
                    break
        finally:
            self._timeout = saved

    @_traced("sendto", lambda data, *args: ("n", len(data)), result=lambda n: ("result", n))
    def sendto(self, data: Any, flags_or_address: Any, address: Any = None) -> int:
        """On a connected stream socket the address is ignored, as on Linux."""
        flags = flags_or_address if address is not None else 0
        return self._send(data, flags)

    def _receive(self, nbytes: int, flags: int, out: memoryview | None) -> bytes | int:
        conn = self._conn
        if conn is None:
            step(self._mode, Op.RECV)
            if self._mode is M.RESET:  # refused in the background: nothing will ever come
                return b"" if out is None else 0
            raise os_error(errno.ENOTCONN)
        timeout = 0.0 if flags and flags & _MSG_DONTWAIT else self._timeout
        with conn.lock:
            step(self._mode, Op.RECV)
            rx = self._rx
            assert rx is not None
            waits_for = f"recv() on fd {self._number} waits for {self._peer_owner} to send"
            return rx.read(nbytes, timeout, waits_for, out, peek=bool(flags and flags & _MSG_PEEK))

    @_traced("recv", lambda bufsize, flags=0: ("bufsize", bufsize), result=lambda data: ("result", len(data)))
    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes; ``b''`` once the peer has shut down or closed."""
        if not isinstance(bufsize, int):
            raise TypeError(f"'{type(bufsize).__name__}' object cannot be interpreted as an integer")
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        data = self._receive(bufsize, flags, None)
        assert isinstance(data, bytes)
        return data

    @_traced("recv_into", lambda buffer, nbytes=0, flags=0: ("bufsize", nbytes or len(buffer)), result=lambda n: ("result", n))
    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if nbytes < 0:
            raise ValueError("negative buffersize in recv_into")
        view = memoryview(buffer).cast("B")
        if nbytes == 0:
            nbytes = len(view)
        elif nbytes > len(view):
            raise ValueError("buffer too small for requested bytes")
        n = self._receive(nbytes, flags, view[:nbytes])
        assert isinstance(n, int)
        return n

    @_traced("recvfrom", lambda bufsize, flags=0: ("bufsize", bufsize), result=lambda value: ("result", len(value[0])))
    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, None]:
        """``(data, None)``: a stream socket has no per-message sender address."""
        if bufsize < 0:
            raise ValueError("negative buffersize in recvfrom")
        data = self._receive(bufsize, flags, None)
        assert isinstance(data, bytes)
        return data, None

    def recvfrom_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, None]:
        return self.recv_into(buffer, nbytes, flags), None

    # -- endings ------------------------------------------------------------
    @_traced("shutdown", lambda how: ("how", {0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"}.get(how, how)))
    def shutdown(self, how: int) -> None:
        """Shut one or both directions; on a listener, stop listening."""
        if not isinstance(how, int):
            raise TypeError(f"'{type(how).__name__}' object cannot be interpreted as an integer")
        op = _SHUT_OPS.get(how)
        if op is None:
            self._check_open()
            raise os_error(errno.EINVAL)
        net = self._net
        with net.lock:
            new = step(self._mode, op)
            if self._listener is not None and self._mode is M.LISTEN:
                self._stop_listening()
                self._set_mode(new)
                return
        conn = self._conn
        assert conn is not None and self._rx is not None and self._tx is not None
        with conn.lock:
            new = step(self._mode, op)
            if op is not Op.SHUT_WR:
                self._rx.shut_reader()
            if op is not Op.SHUT_RD:
                self._tx.close_writer()
            self._set_mode(new)

    def _stop_listening(self) -> None:
        """Reset every pending connection and wake waiting accept()s (net lock held)."""
        listener = self._listener
        assert listener is not None
        self._listener = None
        for pending in listener.queue:
            pending.error = errno.ECONNREFUSED
            client = pending.client
            if pending.wakeup is not None:
                pending.wakeup.post()
            else:  # strict: the client thinks it is connected; it gets a reset
                with pending.conn.lock:
                    pending.conn.down.reset_reader()
                    pending.conn.up.reader_gone = True
                    client._set_mode(M.RESET)
        listener.queue.clear()
        listener.acceptable.notify_all()
        listener.room.notify_all()
        self._net.retry_parked()

    def close(self) -> None:
        """Close the socket (once any ``makefile()`` files are closed too)."""
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        if self._mode is M.CLOSED:
            return
        net = self._net
        self._rec.emit("call", self._number, "op", "close")
        with net.lock:
            if self._listener is not None:
                self._stop_listening()
            net.release_address(self._local, self)
            conn = self._conn
            if conn is not None:
                with conn.lock:
                    assert self._rx is not None and self._tx is not None
                    self._tx.close_writer()
                    if self._rx.close_reader() and self._mode is not M.RESET:
                        # Bytes left unread: Linux answers with a reset, not a FIN.
                        self._tx.reset_reader()
                        peer = self._peer_socket()
                        if peer is not None and peer._mode in (M.OUTBOUND, M.INBOUND, M.SHUT_RD, M.SHUT_WR, M.SHUT_RDWR):
                            peer._set_mode(M.RESET)
            self._set_mode(M.CLOSED)
            self._release_fd()
        self._rec.emit("return", self._number, "op", "close", "result", None)

    def _peer_socket(self) -> FakeSocket | None:
        conn = self._conn
        for ref in self._net.sockets.values():
            sock = ref()
            if sock is not None and sock._conn is conn and sock is not self:
                return sock
        return None

    def _release_fd(self) -> None:
        import os

        if self._fd >= 0:
            self._net.sockets.pop(self._fd, None)
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        # A real socket closes when it is garbage-collected; so does a fake one
        # (the peer then sees EOF, as it would).
        try:
            if getattr(self, "_mode", M.CLOSED) is not M.CLOSED:
                self._real_close()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass

    def detach(self) -> int:
        """Close the fake socket but hand its descriptor to the caller."""
        fd = self._fd
        self._net.sockets.pop(fd, None)
        self._fd = -1
        self._closed = True
        self._real_close()
        return fd

    def __enter__(self) -> FakeSocket:
        return self

    def __exit__(self, *args: object) -> None:
        if not self._closed:
            self.close()

    # -- options and timeouts ------------------------------------------------
    @_traced(
        "setsockopt",
        lambda level, optname, value, *rest: (
            "option",
            OPTION_NAMES.get((level, optname), f"{level}/{optname}"),
            "value",
            value if isinstance(value, int) else None,
        ),
    )
    def setsockopt(self, level: int, optname: int, value: Any, optlen: int | None = None) -> None:
        self._check_open()
        key = option_key(level, optname)
        if key in READ_ONLY:
            raise os_error(errno.ENOPROTOOPT)
        self._options[key] = option_value(value)

    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        self._check_open()
        key = option_key(level, optname)
        value = self._options.get(key, OPTIONS[key])
        if value is None:
            value = self._computed_option(optname)
        return value if buflen is None else pack_option(value, buflen)

    def _computed_option(self, optname: int) -> int:
        s = _socket
        if optname == s.SO_ERROR:
            error, self._so_error = self._so_error, 0  # read once, as on Linux
            if error:
                self._unreported_connect = False
            return error
        return {
            s.SO_TYPE: int(self._type),
            s.SO_ACCEPTCONN: int(self._mode is M.LISTEN),
            s.SO_DOMAIN: int(self._family),
            s.SO_PROTOCOL: s.IPPROTO_TCP if self._family != s.AF_UNIX else 0,
        }.get(optname, self._net.buffer_size)

    @_traced("settimeout", lambda value: ("timeout", value))
    def settimeout(self, value: float | None) -> None:
        """``None``: block; ``0``: never block; a number: seconds to wait."""
        # CPython stores the value before the system call fails on a closed socket.
        self._timeout = check_timeout(value)
        self._check_open()

    def gettimeout(self) -> float | None:
        return self._timeout

    @_traced("setblocking", lambda flag: ("blocking", bool(flag)))
    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0
        self._check_open()

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    def get_inheritable(self) -> bool:
        return False

    def set_inheritable(self, inheritable: bool) -> None:
        self._check_open()

    def dup(self) -> FakeSocket:
        raise os_error(errno.EOPNOTSUPP, "sockviz: dup() of a fake socket is not supported")

    def __repr__(self) -> str:
        closed = " [closed]" if self._mode is M.CLOSED else ""
        text = f"<sockviz.FakeSocket{closed} fd={self._fd}, family={int(self._family)}, type={int(self._type)}, proto={self.proto}"
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


def connected_pair(net: FakeNetwork, family: int = -1, type: int = -1, proto: int = 0) -> tuple[FakeSocket, FakeSocket]:
    """Two fake sockets joined by one connection (``socket.socketpair()``)."""
    family = _socket.AF_UNIX if family == -1 else family
    first = FakeSocket(net, family, type, proto, _pair=True)
    second = FakeSocket(net, family, type, proto, _pair=True)
    with net.lock:
        conn = Connection(net, net.next_connection_id())
        first._conn, first._rx, first._tx = conn, conn.down, conn.up
        second._conn, second._rx, second._tx = conn, conn.up, conn.down
        if family != _socket.AF_UNIX:
            first._local = net.take_address(first, "127.0.0.1", 0)
            second._local = net.take_address(second, "127.0.0.1", 0)
        first._peer, second._peer = second._local, first._local
        first._peer_owner = second._peer_owner = first.owner
        first._set_mode(M.OUTBOUND)
        second._set_mode(M.INBOUND)
        # fmt: off
        net.recorder.emit(
            "meet", first._number,
            "what", "socketpair",
            "connect", first.owner, "accept", second.owner,
            "client", first._number, "server", second._number, "conn", conn.cid,
        )
        # fmt: on
    return first, second
