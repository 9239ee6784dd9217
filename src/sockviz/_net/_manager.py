"""The fake network: one per weld (weldr's ``struct sock_mgr``).

Theory of operation
-------------------
weldr kept a single global, ``mgr_for_socks``, holding the bind lock with its
condition and the socket table.  Here that global is a :class:`FakeNetwork`
object, one per weld, so that two welds (or a weld inside a notebook that
has another one open) never see each other's addresses.  It owns:

* the **recorder** and the **wait tracker** every primitive reports to;
* the **network lock** (``net``) and its condition ``net.listening``, on
  which a ``connect()`` to an address nobody listens on waits in ``weldr``
  semantics until some ``listen()`` notifies it -- the original's bind lock
  and condition;
* the **address table**: every bound ``(ip, port)`` and its socket;
* the **socket table**: every open fake socket by descriptor;
* the **ephemeral ports** (32768-60999, as Linux) handed to ``bind((h, 0))``
  and to clients that connect without binding.

Descriptors are real: each fake socket owns a duplicate of one placeholder
descriptor (``os.dup``, a fraction of a microsecond), so its number never
collides with a real descriptor of the process and is released on close.
"""

from __future__ import annotations

import errno
import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from .._core._recorder import Recorder
from .._core._scheduled import primitives
from .._core._sync import Lock, Semaphore
from .._core._tracker import WaitTracker
from .._errors import NetworkStopped
from ._members import members
from ._modes import TIME_WAIT_S, os_error

if TYPE_CHECKING:
    from .._core._schedule import Scheduler
    from ._base import SocketBase
    from ._fakesocket import FakeSocket
    from ._readiness import Carrier
    from ._rendezvous import Rendezvous

__all__ = ["EPHEMERAL_PORTS", "FakeNetwork", "Semantics"]

Semantics = Literal["weldr", "strict"]
EPHEMERAL_PORTS = range(32768, 61000)
#: The first descriptor number a scheduled weld gives its sockets.
SCHEDULED_FDS = 100
#: how many calls a thread may make after the network stopped (unwinding closes a few sockets)
#: before it counts as a loop that swallows the stop
CALLS_AFTER_STOP = 100
_get_ident = threading.get_ident
_WILDCARDS = ("0.0.0.0", "::")


class FakeNetwork:
    """Addresses, ports, sockets and rendezvous of one weld.

    ``semantics="weldr"``: ``connect()`` to an address nobody listens on
    waits until someone does, and returns once the server has accepted (the
    original's rendezvous).  ``semantics="strict"``: as Linux --
    ``ConnectionRefusedError`` when nobody listens, and ``connect()`` returns
    as soon as the connection is queued in the listener's backlog.
    """

    def __init__(
        self,
        semantics: Semantics = "strict",
        buffer_size: int = 65536,
        *,
        components: Iterable[str] = (),
        recorder: Recorder | None = None,
        scheduler: Scheduler | None = None,
        max_events: int | None = None,
    ) -> None:
        if semantics not in ("weldr", "strict"):
            raise ValueError(f"semantics must be 'weldr' or 'strict', not {semantics!r}")
        if not isinstance(buffer_size, int) or buffer_size < 1:
            raise ValueError(f"buffer_size must be a positive number of bytes, not {buffer_size!r}")
        self.semantics: Semantics = semantics
        self.buffer_size = buffer_size
        self.components: set[str] = set(components)
        #: the weld's schedule, when one runs it (see sockviz._core._schedule)
        self.scheduler = scheduler
        if recorder is None:
            recorder = Recorder(
                clock=scheduler.tick if scheduler is not None else None,
                limit=max_events,
                on_limit=self._full,
            )
        self.recorder = recorder
        self.tracker = WaitTracker(self.recorder)
        self.tracker.sched = scheduler
        #: the engine's locks, conditions and semaphores, scheduled or free (chosen here, once)
        self.primitives = primitives(self.recorder, self.tracker, scheduler)
        self.lock = self.new_lock("net")
        self.listening = self.primitives.condition(self.lock, "net.listening")
        #: the address table: each socket's anchor, which keeps no socket object alive -- a dropped
        #: one is collected (and closed) as a real one is (see _descriptors.py)
        self.bound: dict[tuple[str, int], SocketBase] = {}
        #: addresses held by connections in TIME_WAIT: port -> ip -> [until (no SO_REUSEADDR),
        #: until (SO_REUSEADDR)], on the clock the sockets' timeouts use
        self.time_wait: dict[int, dict[str, list[float]]] = {}
        #: open sockets by descriptor; weak, so a dropped socket is collected and closed
        self.sockets: dict[int, weakref.ref[SocketBase]] = {}
        self._ports = itertools.cycle(EPHEMERAL_PORTS)
        self._connection_ids = itertools.count(1)
        self._placeholder = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        self.deadlock: dict[str, str] | None = None
        #: the recorder reached ``max_events``: the weld stops (see _full)
        self.full = False
        #: makes the error the thread that called fake_network() gets when the cap is reached
        self.full_error: Callable[[], BaseException] = lambda: NetworkStopped(
            "the weld recorded its maximum of events"
        )
        #: non-blocking connect()s waiting for a listener or for backlog room
        self.parked: list[Rendezvous] = []
        #: sockets garbage-collected while open, to be closed at a safe point
        self.orphans: list[FakeSocket] = []
        #: sockets with a readiness carrier (someone asked for their fileno()), by descriptor
        self.carriers: dict[int, weakref.ref[SocketBase]] = {}
        #: descriptors wrapped by a second socket object (socket(fileno=fd) of an owned one): all
        #: their objects
        self.cowrapped: dict[int, list[weakref.ref[SocketBase]]] = {}
        #: descriptors that no socket object holds (detach(), socket.dup()): the socket and its
        #: carrier
        self.detached: dict[int, tuple[SocketBase, Carrier | None]] = {}
        #: called once when the recorder reaches its limit, in the thread that reached it (it may
        #: hold any lock)
        self.on_full: Callable[[], None] | None = None
        #: once stopped: called in a thread that caught the stop and keeps calling (see
        #: :meth:`refusal`)
        self.on_refused_again: Callable[[], None] | None = None
        self._refusals: dict[int, int] = {}

    # -- readiness (see _readiness.py) ------------------------------------
    def attach_carrier(self, sock: SocketBase) -> None:
        """Give ``sock`` a carrier; from now on every call and wait re-shows readiness."""
        from ._readiness import Carrier

        carrier = Carrier(sock._fd)
        # In this order: a thread that changes the socket's state from now on finds the carrier (and
        # shows the change); the show below covers every change before.
        sock._carrier = carrier
        self.carriers[sock._fd] = weakref.ref(sock)
        self.tracker.before_wait = self.show_readiness
        carrier.show(sock._readiness)

    def detach_carrier(self, fd: int) -> None:
        self.carriers.pop(fd, None)

    def show_readiness(self) -> None:
        """Bring every carrier up to date with its socket's state."""
        for ref in list(self.carriers.values()):
            sock = ref()
            if sock is not None:
                sock._show_readiness()
        if self.scheduler is not None:
            self.scheduler.wake_selectors()  # threads parked in select() look again

    # -- descriptors and sockets ------------------------------------------
    def new_fd(self) -> int:
        """A real descriptor number, owned by the caller until it closes it (weldr's ``fake_fd``:
        there a number the library made up, here a duplicate of a placeholder, so that ``select``
        and friends see a real descriptor)."""
        if self._placeholder < 0:
            raise NetworkStopped("the weld is over: its fake network makes no new sockets")
        # stopped (its weld ended, or was interrupted): no new sockets either
        if self.tracker.stopped is not None:
            raise self.tracker.stopped()
        if self.scheduler is None:
            return os.dup(self._placeholder)
        # A scheduled run numbers its sockets the same way every time: the lowest free descriptor
        # from SCHEDULED_FDS on, whatever the process has open below it.
        fd = SCHEDULED_FDS
        while True:
            try:
                os.fstat(fd)
            except OSError:
                return os.dup2(self._placeholder, fd, inheritable=False)
            fd += 1

    def refusal(self) -> BaseException:
        """The error a stopped network gives a thread that calls it (called where it holds no lock).

        A thread is told once; ordinary code lets the error end it.  A thread
        that caught it -- a loop around ``accept()`` with a bare ``except:`` --
        and keeps calling would burn a core for ever: after :data:`CALLS_AFTER_STOP`
        such calls it is handed to ``on_refused_again`` (the weld parks it for good).
        """
        ident = _get_ident()
        count = self._refusals[ident] = self._refusals.get(ident, 0) + 1
        if count > CALLS_AFTER_STOP and self.on_refused_again is not None:
            self.on_refused_again()
        stopped = self.tracker.stopped
        return stopped() if stopped is not None else NetworkStopped("the weld is over")

    def socket(self, family: int = -1, type: int = -1, proto: int = -1) -> FakeSocket:
        """A new fake socket (what ``socket.socket()`` gives a welded thread)."""
        from ._fakesocket import FakeSocket

        if self.tracker.stopped is not None:
            raise self.refusal()
        return FakeSocket(self, family, type, proto)

    def socketpair(
        self, family: int = -1, type: int = -1, proto: int = 0
    ) -> tuple[FakeSocket, FakeSocket]:
        """Two connected fake sockets, as ``socket.socketpair()`` returns."""
        from ._fakesocket import connected_pair

        if self.tracker.stopped is not None:
            raise self.refusal()
        return connected_pair(self, family, type, proto)

    def next_connection_id(self) -> int:
        return next(self._connection_ids)

    def new_lock(self, name: str) -> Lock:
        return self.primitives.lock(name)

    def new_semaphore(self, name: str, value: int = 0) -> Semaphore:
        return self.primitives.semaphore(name, value)

    # -- the address table (caller holds self.lock) -----------------------
    def take_address(self, sock: SocketBase, ip: str, port: int) -> tuple[str, int]:
        """Give ``sock`` the address ``(ip, port)``; port 0 picks an ephemeral one."""
        if not (
            ip.startswith("127.") or ip in _WILDCARDS or ip == "::1" or ip.startswith("::ffff:127.")
        ):
            raise os_error(errno.EADDRNOTAVAIL)
        if port == 0:
            for _ in range(len(EPHEMERAL_PORTS)):
                candidate = next(self._ports)
                if not self._conflicts(sock, ip, candidate):
                    port = candidate
                    break
            else:
                raise os_error(errno.EADDRINUSE)
        elif self._conflicts(sock, ip, port):
            raise os_error(errno.EADDRINUSE)
        self.bound[ip, port] = sock._anchor
        return ip, port

    def _conflicts(self, sock: SocketBase, ip: str, port: int) -> bool:
        for (other_ip, other_port), other in self.bound.items():
            # (an object of the same socket)
            if other_port != port or other.__dict__ is sock.__dict__:
                continue
            overlaps = other_ip == ip or other_ip in _WILDCARDS or ip in _WILDCARDS
            # SO_REUSEADDR on both lets two sockets share a port, unless one listens.
            if overlaps and (other.listening or not (sock.reuse_address and other.reuse_address)):
                return True
        return self._in_time_wait(sock, ip, port)

    def hold_in_time_wait(self, addr: tuple[Any, ...] | None, reuse: bool) -> None:
        """A connection that closed first at ``addr`` sits in TIME_WAIT for TIME_WAIT_S."""
        if addr is not None:
            held = self.time_wait.setdefault(addr[1], {}).setdefault(addr[0], [0.0, 0.0])
            held[int(reuse)] = time.monotonic() + TIME_WAIT_S

    def _in_time_wait(self, sock: SocketBase, ip: str, port: int) -> bool:
        """Binding ``(ip, port)`` meets a connection in TIME_WAIT there: Linux says EADDRINUSE
        unless both set SO_REUSEADDR (an accepted socket has its listener's options)."""
        held = self.time_wait.get(port)
        if not held:
            return False
        now = time.monotonic()
        for other_ip, (until, until_reusable) in held.items():
            overlaps = other_ip == ip or other_ip in _WILDCARDS or ip in _WILDCARDS
            if overlaps and (now < until or (now < until_reusable and not sock.reuse_address)):
                return True
        return False

    def release_address(self, addr: tuple[Any, ...] | None, sock: SocketBase) -> None:
        if (
            addr is not None
            and (bound := self.bound.get((addr[0], addr[1]))) is not None
            and bound.__dict__ is sock.__dict__
        ):
            del self.bound[addr[0], addr[1]]

    def find_listener(self, ip: str, port: int) -> SocketBase | None:
        """The socket listening at ``(ip, port)`` (or on a wildcard), if any."""
        if ip in _WILDCARDS:  # connecting to 0.0.0.0 reaches this host
            ip = "127.0.0.1"
        for candidate in ((ip, port), ("0.0.0.0", port), ("::", port)):
            sock = self.bound.get(candidate)
            if sock is not None and sock.listening:
                return sock
        return None

    def retry_parked(self) -> None:
        """Move on the parked non-blocking connects that can be (lock held)."""
        if self.parked:
            self.parked = [sock for sock in self.parked if not sock._retry_connect()]

    def on_deadlock(self, waits: dict[str, str], root_error: Callable[[], BaseException]) -> None:
        """Every live welded thread is blocked: record it and stop the network.

        Welded threads unwind with :class:`NetworkStopped`; the thread that
        called ``fake_network()`` itself gets ``root_error()`` (a
        ``DeadlockError``) so that a notebook cell fails instead of hanging.
        """
        if self.deadlock is not None:
            return
        self.deadlock = dict(sorted(waits.items()))
        self.recorder.emit("deadlock", "net", "waits", self.deadlock)

        def error() -> BaseException:
            member = members.get(threading.get_ident())
            return (
                root_error()
                if member is not None and member.root
                else NetworkStopped("every welded thread was blocked")
            )

        self.tracker.stop(error)
        if self.carriers:
            self.show_readiness()

    def _full(self) -> None:
        """The recorder reached its limit (called inside ``emit``, so it takes no lock).

        From now on every call and every new wait raises: welded threads unwind with
        NetworkStopped, the thread that called ``fake_network()`` gets ``full_error()``;
        the weld's watcher then stops the network for the threads already waiting.
        """
        self.full = True
        if self.tracker.stopped is None:
            self.tracker.stopped = self._full_stop
        if self.on_full is not None:
            self.on_full()

    def _full_stop(self) -> BaseException:
        member = members.get(threading.get_ident())
        return (
            self.full_error()
            if member is not None and member.root
            else NetworkStopped("the weld recorded its maximum of events")
        )

    def stop(self, reason: str) -> None:
        """Wake every waiting welded thread with :class:`NetworkStopped`, and every one in
        ``select()``.

        From now on each call of the fake network raises it (see ``traced``),
        so a thread left running -- a server's ``serve_forever`` -- stops at
        its next call, and records nothing more.
        """
        self.tracker.stop(lambda: NetworkStopped(reason))
        if self.carriers:
            self.show_readiness()

    def close_orphans(self) -> None:
        """Close the sockets their programs dropped without closing (no lock may be held)."""
        while self.orphans:
            sock = self.orphans.pop()
            sock._real_close()

    def close(self) -> None:
        """Release every descriptor still open: the weld is over.

        A socket that outlives its network is closed without a trace event
        (the trace is finished): any later call on it raises EBADF.
        """
        self.close_orphans()
        for ref in list(self.sockets.values()):
            sock = ref()
            if sock is not None:
                sock._close_silently()
                sock._release_fd()
        for fd, (sock, carrier) in list(self.detached.items()):
            sock._close_silently()
            if carrier is not None:
                carrier.close()
            os.close(fd)
        self.detached.clear()
        if self._placeholder >= 0:
            os.close(self._placeholder)
            self._placeholder = -1

    def __repr__(self) -> str:
        return (
            f"<FakeNetwork {self.semantics} sockets={len(self.sockets)} "
            f"events={len(self.recorder)}>"
        )
