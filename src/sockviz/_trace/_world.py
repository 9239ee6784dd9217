"""The state of the world at any event: what ``Trace.state_at(i)`` answers.

Theory of operation
-------------------
The world after event ``i`` is what you get by replaying events ``0..i``
from an empty world: each ``state`` event moves a socket to a new mode,
each ``buf.*`` event sets a buffer's fill, each wait / wake / post moves a
thread between running and blocked and changes a primitive's waiters.

Replaying from the start for every question would make scrubbing through
a big trace slow, so :class:`WorldIndex` replays once and keeps a
*checkpoint* every :data:`CHECKPOINT_EVERY` events.  ``state_at(i)`` copies
the nearest checkpoint at or before ``i`` and replays at most that many
events: under a millisecond at any ``i``.  A checkpoint is cheap because
the world's entries are immutable tuples: copying one is copying a few
dicts of references.

The world forgets what no longer matters, so that it stays small in long
traces: a socket is shown CLOSED at the event that closes it and is gone
after that (its connection's buffers go with its last socket); a lock
nobody holds or waits for, a condition nobody waits on and a semaphore
back at zero with no waiters are not listed.  Locks are recorded only when
contended (see :class:`sockviz._core._sync.Lock`), so ``holder`` is known
from the first contention on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .._core._events import Event, wait_words
from ._analysis import KEEPS_WAITING, WAIT_BEGINS, WAIT_ENDS

__all__ = [
    "CHECKPOINT_EVERY",
    "LockState",
    "SemaphoreState",
    "SocketState",
    "ThreadState",
    "World",
    "WorldIndex",
]

#: Events between two checkpoints of :class:`WorldIndex`.
CHECKPOINT_EVERY = 128


class SocketState(NamedTuple):
    """One socket as it stands."""

    fd: int
    owner: str
    mode: str
    local: str | None
    peer: str | None
    conn: int | None
    #: which of the connection's buffers it reads ("up" for the accepting side, "down" for the
    #: connecting side)
    reads: str | None
    inbound: int  #: bytes waiting for this socket to read them
    outbound: int  #: bytes this socket sent that its peer has not read yet


class LockState(NamedTuple):
    name: str
    holder: str | None
    waiters: tuple[str, ...]


class SemaphoreState(NamedTuple):
    name: str
    value: int
    waiters: tuple[str, ...]


class ConditionState(NamedTuple):
    name: str
    waiters: tuple[str, ...]


class ThreadState(NamedTuple):
    name: str
    status: str  #: "running", "blocked" or "ended"
    call: str | None  #: the socket call it is in
    waits_on: str | None  #: the primitive it is blocked on
    waits_for: str | None  #: what for, in words


class World(NamedTuple):
    """Everything at one moment of a trace (see :meth:`sockviz.Trace.state_at`)."""

    position: int  #: the index of the event just applied
    event: Event | None
    sockets: dict[int, SocketState]
    buffers: dict[str, int]  #: bytes in each connection buffer ("conn1.up": 5)
    locks: dict[str, LockState]
    conditions: dict[str, ConditionState]
    semaphores: dict[str, SemaphoreState]
    threads: dict[str, ThreadState]

    def socket(self, fd: int) -> SocketState | None:
        return self.sockets.get(fd)


class _Replay:
    """A mutable world that applies events one at a time (entries stay immutable)."""

    __slots__ = (
        "buffers",
        "closing",
        "conditions",
        "conns",
        "locks",
        "semaphores",
        "sockets",
        "threads",
    )

    def __init__(self) -> None:
        self.sockets: dict[Any, SocketState] = {}
        self.buffers: dict[str, int] = {}
        self.conns: dict[int, tuple[Any, ...]] = {}  # conn -> fds still open on it
        self.locks: dict[str, LockState] = {}
        self.conditions: dict[str, ConditionState] = {}
        self.semaphores: dict[str, SemaphoreState] = {}
        self.threads: dict[str, ThreadState] = {}
        self.closing: tuple[Any, ...] = ()  # sockets shown CLOSED for one event

    def copy(self) -> _Replay:
        other = _Replay()
        other.sockets = self.sockets.copy()
        other.buffers = self.buffers.copy()
        other.conns = self.conns.copy()
        other.locks = self.locks.copy()
        other.conditions = self.conditions.copy()
        other.semaphores = self.semaphores.copy()
        other.threads = self.threads.copy()
        other.closing = self.closing
        return other

    def world(self, index: int, event: Event | None) -> World:
        sockets = {}
        for fd, sock in self.sockets.items():
            if sock.conn is not None and sock.reads is not None:
                inbound = self.buffers.get(f"conn{sock.conn}.{sock.reads}", 0)
                outbound = self.buffers.get(
                    f"conn{sock.conn}.{'down' if sock.reads == 'up' else 'up'}", 0
                )
                sock = sock._replace(inbound=inbound, outbound=outbound)
            sockets[fd] = sock
        return World(
            index,
            event,
            sockets,
            self.buffers.copy(),
            self.locks.copy(),
            self.conditions.copy(),
            self.semaphores.copy(),
            self.threads.copy(),
        )

    # -- applying events ----------------------------------------------------
    def apply(self, event: Event) -> None:
        if self.closing:
            for fd in self.closing:
                self._forget_socket(fd)
            self.closing = ()
        kind = event.kind
        if kind not in KEEPS_WAITING:
            thread = self.threads.get(event.thread)
            if thread is not None and thread.status == "blocked":  # its wait was cut short
                self.threads[event.thread] = thread._replace(
                    status="running", waits_on=None, waits_for=None
                )
        if kind == "state":
            self._state(event)
        elif kind == "buf.write" or kind == "buf.read":
            if not event.fields.get("dropped"):
                self.buffers[str(event.obj)] = int(event.fields.get("fill") or 0)
        elif kind == "buf.eof":
            self.buffers[str(event.obj)] = int(event.fields.get("fill") or 0)
        elif kind == "call":
            self._thread(event.thread, call=str(event.fields.get("op")))
        elif kind == "return":
            self._thread(event.thread, call=None)
        elif kind in WAIT_BEGINS:
            self._begin_wait(event, WAIT_BEGINS[kind])
        elif kind in WAIT_ENDS:
            self._end_wait(event, WAIT_ENDS[kind][0])
        elif kind == "lock.release":
            lock = self.locks.get(str(event.obj))
            if lock is not None:
                self._set_lock(lock._replace(holder=None))
        elif kind == "sem.post":
            name = str(event.obj)
            old = self.semaphores.get(name)
            self._set_semaphore(
                SemaphoreState(
                    name, int(event.fields.get("value") or 0), old.waiters if old else ()
                )
            )
        elif kind == "thread.start":
            self.threads[event.thread] = ThreadState(event.thread, "running", None, None, None)
        elif kind == "thread.exit" or kind == "thread.error":
            self._thread_ended(event.thread)
        elif event.thread not in self.threads:
            self._thread(event.thread)

    def _thread(self, name: str, **changes: Any) -> None:
        old = self.threads.get(name) or ThreadState(name, "running", None, None, None)
        self.threads[name] = old._replace(**changes)

    def _state(self, event: Event) -> None:
        f = event.fields
        fd = event.obj
        mode = str(f.get("to"))
        old = None if f.get("from") is None else self.sockets.get(fd)
        if old is None:
            if fd in self.sockets:  # the descriptor was reused
                self._forget_socket(fd)
            old = SocketState(
                fd, str(f.get("owner") or event.thread), mode, None, None, None, None, 0, 0
            )
        conn = f.get("conn", old.conn)
        reads = old.reads
        if reads is None and mode in ("OUTBOUND", "INBOUND"):
            reads = "down" if mode == "OUTBOUND" else "up"
        new = old._replace(
            mode=mode,
            local=f.get("local", old.local),
            peer=f.get("peer", old.peer),
            conn=conn,
            reads=reads if conn is not None else None,
        )
        self.sockets[fd] = new
        if conn is not None and conn != old.conn:
            self.conns[conn] = (*self.conns.get(conn, ()), fd)
        if mode == "CLOSED":
            self.closing = (*self.closing, fd)
        self._thread(event.thread)

    def _forget_socket(self, fd: Any) -> None:
        sock = self.sockets.pop(fd, None)
        if sock is None or sock.conn is None:
            return
        left = tuple(other for other in self.conns.get(sock.conn, ()) if other != fd)
        if left:
            self.conns[sock.conn] = left
        else:
            self.conns.pop(sock.conn, None)
            self.buffers.pop(f"conn{sock.conn}.up", None)
            self.buffers.pop(f"conn{sock.conn}.down", None)

    def _begin_wait(self, event: Event, family: str) -> None:
        name, thread = str(event.obj), event.thread
        f = event.fields
        if family == "lock":
            waits_for: str | None = f"lock {name}"
        elif f.get("until"):
            waits_for = wait_words(
                f.get("call"), f.get("fd"), f.get("until"), f.get("peer_owner"), f.get("addr")
            )
        else:
            waits_for = None
        self._thread(thread, status="blocked", waits_on=name, waits_for=waits_for)
        if family == "lock":
            lock = self.locks.get(name) or LockState(name, event.fields.get("holder"), ())
            self._set_lock(lock._replace(waiters=(*lock.waiters, thread)))
        elif family == "condition":
            cond = self.conditions.get(name) or ConditionState(name, ())
            self.conditions[name] = cond._replace(waiters=(*cond.waiters, thread))
        else:
            sem = self.semaphores.get(name) or SemaphoreState(name, 0, ())
            self._set_semaphore(sem._replace(waiters=(*sem.waiters, thread)))

    def _end_wait(self, event: Event, family: str) -> None:
        name, thread = str(event.obj), event.thread
        self._thread(thread, status="running", waits_on=None, waits_for=None)
        if family == "lock":
            lock = self.locks.get(name) or LockState(name, None, ())
            self._set_lock(lock._replace(holder=thread, waiters=_without(lock.waiters, thread)))
        elif family == "condition":
            self._drop_condition_waiter(name, thread)
        else:
            sem = self.semaphores.get(name) or SemaphoreState(name, 0, ())
            value = event.fields.get("value")
            self._set_semaphore(
                sem._replace(
                    value=sem.value if value is None else int(value),
                    waiters=_without(sem.waiters, thread),
                )
            )

    def _drop_condition_waiter(self, name: str, thread: str) -> None:
        cond = self.conditions.get(name)
        if cond is not None:
            waiters = _without(cond.waiters, thread)
            if waiters:
                self.conditions[name] = cond._replace(waiters=waiters)
            else:
                del self.conditions[name]

    def _thread_ended(self, thread: str) -> None:
        self.threads[thread] = ThreadState(thread, "ended", None, None, None)
        for name in [n for n, c in self.conditions.items() if thread in c.waiters]:
            self._drop_condition_waiter(name, thread)
        for sem in list(self.semaphores.values()):
            if thread in sem.waiters:
                self._set_semaphore(sem._replace(waiters=_without(sem.waiters, thread)))
        for lock in list(self.locks.values()):
            if thread in lock.waiters or lock.holder == thread:
                self._set_lock(
                    lock._replace(
                        waiters=_without(lock.waiters, thread),
                        holder=None if lock.holder == thread else lock.holder,
                    )
                )

    def _set_lock(self, lock: LockState) -> None:
        if lock.holder is None and not lock.waiters:
            self.locks.pop(lock.name, None)
        else:
            self.locks[lock.name] = lock

    def _set_semaphore(self, sem: SemaphoreState) -> None:
        if sem.value == 0 and not sem.waiters:
            self.semaphores.pop(sem.name, None)
        else:
            self.semaphores[sem.name] = sem


def _without(names: tuple[str, ...], name: str) -> tuple[str, ...]:
    if name not in names:
        return names
    index = names.index(name)
    return names[:index] + names[index + 1 :]


class WorldIndex:
    """Checkpoints of the world every :data:`CHECKPOINT_EVERY` events, for fast ``state_at``."""

    def __init__(self, events: Sequence[Event], every: int = CHECKPOINT_EVERY) -> None:
        self.events = events
        self.every = every
        self.checkpoints: list[_Replay] = []
        replay = _Replay()
        for position, event in enumerate(events):
            if position % every == 0:
                self.checkpoints.append(replay.copy())
            replay.apply(event)

    def state_at(self, index: int) -> World:
        """The world just after event ``index`` (negative counts from the end, as in a list)."""
        count = len(self.events)
        if not -count <= index < count:
            raise IndexError(f"event index {index} out of range: the trace has {count} events")
        index %= count
        start = (index // self.every) * self.every
        replay = self.checkpoints[index // self.every].copy()
        for position in range(start, index + 1):
            replay.apply(self.events[position])
        return replay.world(index, self.events[index])


def replay_to(events: Sequence[Event], index: int) -> World:
    """The world after event ``index``, replayed from the start (no checkpoints; for checking)."""
    replay = _Replay()
    for event in events[: index + 1]:
        replay.apply(event)
    return replay.world(index, events[index] if index >= 0 else None)
