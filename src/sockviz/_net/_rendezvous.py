"""The rendezvous: how two fake sockets become one connection.

Theory of operation
-------------------
``listen()`` gives the socket a backlog queue and two
conditions: ``acceptable`` (``accept()`` waits there for a connection; a
``connect()`` notifies it) and ``room`` (a ``connect()`` that finds the
backlog full waits there; an ``accept()`` notifies it).  A ``connect()``
appends a pending connection, whose two byte buffers already exist, to the
queue.  In ``strict`` semantics it returns at once, as on Linux; in ``weldr``
semantics it then waits on the pending connection's semaphore until
``accept()`` posts it, as the original's rendezvous semaphores did.  Either
way ``accept()`` records one ``meet`` event naming both threads and the three
descriptors (listener, client, accepted): the arrow the timeline draws.

A non-blocking ``connect()`` that cannot complete at once (no listener yet in
``weldr`` semantics, or a full backlog) raises ``EINPROGRESS`` and is *parked*
on the network; ``listen()``, ``accept()`` and a listener's shutdown retry the
parked attempts, which then finish (``SO_ERROR`` tells the outcome).

A refused connect behaves as on Linux: a blocking one raises
``ConnectionRefusedError``; a parked one leaves the socket REFUSED with a
*pending* error that the next ``send``/``recv``/``connect``/``SO_ERROR``
reports, once.  Either way a port the kernel chose is given back.

Lock order: the network lock before a connection's lock, never the reverse.
"""

from __future__ import annotations

import errno
import socket as _socket
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .._core._events import WaitReason
from .._core._sync import Semaphore
from ._args import c_int
from ._base import SocketBase
from ._filebuf import ByteBuffer, deadline_for, timed_out
from ._modes import Completion, Op, SocketMode, os_error, step
from ._traced import fmt_address, traced

if TYPE_CHECKING:
    from ._fakesocket import FakeSocket
    from ._manager import FakeNetwork

__all__ = ["Connection", "Listener", "Pending", "Rendezvous", "connected_pair"]

M = SocketMode


class Connection:
    """The two byte buffers of one connection, under one lock."""

    __slots__ = ("cid", "down", "lock", "up")

    def __init__(self, net: FakeNetwork, cid: int) -> None:
        self.cid = cid
        self.lock = net.new_lock(f"conn{cid}")
        #: client -> server
        self.up = ByteBuffer(
            f"conn{cid}.up", self.lock, net.buffer_size, net.recorder, net.primitives
        )
        #: server -> client
        self.down = ByteBuffer(
            f"conn{cid}.down", self.lock, net.buffer_size, net.recorder, net.primitives
        )


class Pending:
    """A connection in a listener's backlog, not yet accepted."""

    __slots__ = ("accepted", "client", "conn", "error", "thread", "wakeup")

    def __init__(self, client: Rendezvous, conn: Connection, wakeup: Semaphore | None) -> None:
        self.client = client
        self.conn = conn
        self.thread = client._rec.thread_name()
        self.wakeup = wakeup  # weldr: connect() waits on it until accept() posts it
        self.accepted = False
        self.error = 0


class Listener:
    """What ``listen()`` adds to a socket: the backlog and its two conditions."""

    __slots__ = ("acceptable", "backlog", "fd", "queue", "room")

    def __init__(self, net: FakeNetwork, fd: int, backlog: int) -> None:
        self.fd = fd
        self.backlog = backlog
        self.queue: deque[Pending] = deque()
        self.acceptable = net.primitives.condition(net.lock, f"fd{fd}.acceptable")
        self.room = net.primitives.condition(net.lock, f"fd{fd}.room")

    @property
    def full(self) -> bool:
        # Linux completes backlog + 1 connections before it makes clients wait.
        return len(self.queue) > self.backlog


class Rendezvous(SocketBase):
    """listen, accept, connect: the part of a fake socket that meets another."""

    def _make_accepted(
        self, local: tuple[str, int] | None, peer: tuple[str, int] | None, conn: Connection
    ) -> Rendezvous:
        """The server's end of a new connection (FakeSocket makes one of its kind)."""
        raise NotImplementedError

    @traced("listen", lambda backlog=None: ("backlog", backlog))
    def listen(self, backlog: int | None = None) -> None:
        """Start accepting connections; ``backlog`` + 1 may wait unaccepted."""
        backlog = min(_socket.SOMAXCONN, 128) if backlog is None else c_int(backlog)
        net = self._net
        with net.lock:
            new = step(self._mode, Op.LISTEN)
            backlog = max(backlog, 0)
            if self._listener is None:
                self._autobind("::" if self._family == _socket.AF_INET6 else "0.0.0.0")
                self._listener = Listener(net, self._number, backlog)
            self._listener.backlog = backlog
            self._set_mode(new)
            net.listening.notify_all()  # weldr: connect()s waiting for a listener
            net.retry_parked()

    @traced(
        "accept", result=lambda value: ("result", value[0]._number, "peer", fmt_address(value[1]))
    )
    def accept(self) -> tuple[Any, Any]:
        """Take the oldest connection of the backlog, waiting for one if needed."""
        net = self._net
        with net.lock:
            step(self._mode, Op.ACCEPT)
            listener = self._listener
            assert listener is not None
            deadline = deadline_for(self._timeout)
            reason = WaitReason("accept", self._number, "connection", addr=fmt_address(self._local))
            self._in_calls += 1
            try:
                while not listener.queue:
                    self._wait(listener.acceptable, deadline, reason)
                    if self._listener is not listener:  # shut down while we waited
                        raise os_error(errno.EINVAL)
                pending = listener.queue.popleft()
            finally:
                self._in_calls -= 1
                if self._mode is M.CLOSED and not self._in_calls:
                    self._teardown()  # closed by another thread while we waited
            server_end = self._accept_pending(pending)
            if listener.room.waiting:
                listener.room.notify()
            net.retry_parked()
        return server_end, server_end._address_out(server_end._peer)

    def _accept_pending(self, pending: Pending) -> Rendezvous:
        """The meeting: make the server's end and complete the client's (net lock held)."""
        net = self._net
        client, conn = pending.client, pending.conn
        server_end = self._make_accepted(client._peer, client._local, conn)
        server_end._rx, server_end._tx = conn.up, conn.down
        server_end._peer_owner = pending.thread
        client._peer_owner = server_end.owner
        server_end._peer_fd, client._peer_fd = client._number, server_end._number
        if client._mode is M.CONNECTING:
            client._complete(Completion.ACCEPTED)
        pending.accepted = True
        # fmt: off
        net.recorder.emit(
            "meet", self._number,
            "what", "connect/accept",
            "connect", pending.thread, "accept", server_end.owner,
            "listener", self._number, "client", client._number, "server", server_end._number,
            "conn", conn.cid, "addr", fmt_address(client._peer),
        )
        # fmt: on
        if pending.wakeup is not None:
            pending.wakeup.post()
        return server_end

    @traced("connect", lambda address: ("addr", fmt_address(address)))
    def connect(self, address: Any) -> None:
        """Connect to a listener, waiting as the network's semantics say."""
        error = self._connect(address)
        if error:
            raise os_error(error)

    @traced("connect_ex", lambda address: ("addr", fmt_address(address)))
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
            if self._disconnecting and self._mode is not M.CLOSED:
                return errno.EINVAL
            if self._mode is M.REFUSED:
                # Refused in the background: report it (or, if SO_ERROR already did, ECONNABORTED)
                # and be an unconnected socket again.
                error, self._so_error = self._so_error or errno.ECONNABORTED, 0
                self._unreported_connect = False
                # as after a refused blocking connect
                self._read_shut_early = self._write_shut_early = False
                if self._stale_name is not None:  # Linux forgets the source address here
                    self._stale_name = (self._any_address()[0], self._stale_name[1])
                self._unconnected()  # (bound, if it was bound since the refusal)
                return error
            if self._unreported_connect and self._mode is M.OUTBOUND:
                self._unreported_connect = False  # a non-blocking connect finished: say so once
                return 0
            step(self._mode, Op.CONNECT)
            if not (
                ip.startswith("127.")
                or ip in ("0.0.0.0", "::", "::1")
                or ip.startswith("::ffff:127.")
            ):
                return errno.ENETUNREACH  # there is no other host
            strict = net.semantics == "strict"
            listener_sock = net.find_listener(ip, port)
            # Linux shows 0.0.0.0 after a refused blocking connect, the routed source otherwise.
            refused_now = listener_sock is None and strict and self._timeout != 0
            self._autobind("0.0.0.0" if refused_now else self._source_for(ip))
            self._peer = (ip if ip not in ("0.0.0.0", "::") else self._source_for(ip), port)
            if listener_sock is None and strict and self._timeout != 0:
                return self._refused()
            self._set_mode(step(self._mode, Op.CONNECT))
            if self._timeout == 0:
                # Linux answers EINPROGRESS even when the handshake is instant; the outcome comes
                # later through writability, SO_ERROR or connect() again.
                self._unreported_connect = True
                net.parked.append(self)
                net.retry_parked()
                raise BlockingIOError(errno.EINPROGRESS, "Operation now in progress")
            self._in_calls += 1  # a close() from another thread now waits for us
        try:
            return self._connect_and_wait(ip, port)
        finally:
            with net.lock:
                self._in_calls -= 1
                if self._mode is M.CLOSED and not self._in_calls:
                    self._teardown()  # closed by another thread while we connected

    def _connect_and_wait(self, ip: str, port: int) -> int:
        """The waiting part of a blocking connect(): for a listener, for room, for accept()."""
        net = self._net
        where = fmt_address((ip, port))
        deadline = deadline_for(self._timeout)
        with net.lock:
            try:
                while True:
                    listener_sock = self._wait_for_listener(ip, port, deadline, where)
                    if listener_sock is None:
                        return self._refused()
                    listener = listener_sock._listener
                    assert listener is not None
                    if not listener.full:
                        break
                    room = WaitReason(
                        "connect",
                        self._number,
                        "room",
                        listener_sock._number,
                        listener_sock.owner,
                        where,
                    )
                    self._wait(listener.room, deadline, room)
            except BaseException:
                self._unconnect()
                raise
            pending = self._enqueue(listener_sock)
        if pending.wakeup is not None:
            self._await_accept(pending, listener, deadline, listener_sock.owner)
        return 0

    def _enqueue(self, listener_sock: SocketBase) -> Pending:
        """Join ``listener_sock``'s backlog; strict semantics connect here (net lock held)."""
        net = self._net
        listener = listener_sock._listener
        assert listener is not None
        conn = Connection(net, net.next_connection_id())
        self._conn, self._rx, self._tx = conn, conn.down, conn.up
        if self._read_shut_early:
            conn.down.read_shut = True
        self._peer_owner = listener_sock.owner
        blocking_weldr = net.semantics == "weldr" and self._timeout != 0
        pending = Pending(
            self, conn, net.new_semaphore(f"fd{self._number}.accepted") if blocking_weldr else None
        )
        listener.queue.append(pending)
        listener.acceptable.notify()
        if net.semantics == "strict" and self._mode is M.CONNECTING:  # (CLOSED if closed meanwhile)
            self._complete(Completion.QUEUED)
        return pending

    def _retry_connect(self) -> bool:
        """Move a parked non-blocking connect on, if it can; True once it is settled."""
        if self._mode is not M.CONNECTING or self._peer is None:
            return True
        net = self._net
        listener_sock = net.find_listener(*self._peer)
        if listener_sock is None:
            if net.semantics == "strict":
                self._rec.emit("refused", self._number, "addr", fmt_address(self._peer))
                self._fail_connect(errno.ECONNREFUSED)
                return True
            return False
        assert listener_sock._listener is not None
        if listener_sock._listener.full:
            return False
        self._enqueue(listener_sock)
        return True

    def _fail_connect(self, error: int) -> None:
        """A non-blocking connect failed before it was reported (net lock held).

        Linux keeps ``error`` pending: the first send/recv/connect/SO_ERROR
        reports it, once; until then the socket is REFUSED (a later recv() gives
        b'', unlike after a refused blocking connect).  A port the kernel chose
        is given back.
        """
        self._so_error = error
        self._peer = None
        self._conn = self._rx = self._tx = None
        self._give_back_port()
        self._complete(Completion.FAILED)

    def _source_for(self, ip: str) -> str:
        if ":" in ip:
            return "::1"
        return ip if ip.startswith("127.") else "127.0.0.1"

    def _refused(self) -> int:
        """connect() found nobody: unconnected again, an automatic port given back (net lock
        held)."""
        self._rec.emit("refused", self._number, "addr", fmt_address(self._peer))
        # Linux's failed connect clears an early shutdown: recv() is ENOTCONN again, send() EPIPE
        # for not being connected
        self._read_shut_early = self._write_shut_early = False
        self._unconnect()
        return errno.ECONNREFUSED

    def _unconnect(self) -> None:
        """A connect that failed: no peer, an automatic port given back (net lock held)."""
        self._peer = None
        self._conn = self._rx = self._tx = None
        self._give_back_port()
        if self._mode is not M.CLOSED:  # closed by another thread meanwhile: stays closed
            self._unconnected()

    def _wait_for_listener(
        self, ip: str, port: int, deadline: float | None, where: str | None
    ) -> SocketBase | None:
        """weldr: wait until somebody listens at ``(ip, port)`` (net lock held)."""
        net = self._net
        while True:
            found = net.find_listener(ip, port)
            if found is not None or net.semantics == "strict":
                return found
            self._wait(
                net.listening, deadline, WaitReason("connect", self._number, "listener", addr=where)
            )

    def _await_accept(
        self, pending: Pending, listener: Listener, deadline: float | None, server: str | None
    ) -> None:
        """weldr: the original's rendezvous -- wait until accept() posts us."""
        assert pending.wakeup is not None
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        got = pending.wakeup.acquire(
            remaining, WaitReason("connect", self._number, "accept", listener.fd, server)
        )
        if got and not pending.error:
            return
        with self._net.lock:
            if pending.accepted:
                return
            if pending in listener.queue:
                listener.queue.remove(pending)
            if pending.error:  # the listener went away before accepting us
                self._rec.emit("refused", self._number, "addr", fmt_address(self._peer))
                self._unconnect()
                raise os_error(pending.error)
            self._unconnect()
        raise timed_out()

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
            else:  # strict: the client counts as connected; it gets a reset
                with pending.conn.lock:
                    pending.conn.down.reset_reader()
                    pending.conn.up.reader_gone = True
                    if client._mode is M.CLOSED:
                        pass
                    elif client._unreported_connect:  # its non-blocking connect fails instead
                        client._fail_connect(errno.ECONNRESET)
                    else:
                        client._become_reset()
        listener.queue.clear()
        listener.acceptable.notify_all()
        listener.room.notify_all()
        self._net.retry_parked()


def connected_pair(
    net: FakeNetwork, family: int = -1, type: int = -1, proto: int = 0
) -> tuple[FakeSocket, FakeSocket]:
    """Two fake sockets joined by one connection (``socket.socketpair()``)."""
    from ._fakesocket import FakeSocket

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
        first._peer_fd, second._peer_fd = second._number, first._number
        first._complete(Completion.PAIRED_OUT)
        second._complete(Completion.PAIRED_IN)
        # fmt: off
        net.recorder.emit(
            "meet", first._number, "what", "socketpair", "connect", first.owner,
            "accept", second.owner, "client", first._number, "server", second._number,
            "conn", conn.cid,
        )
        # fmt: on
    return first, second
