"""From events to understanding: sockets, waits and meetings.

Theory of operation
-------------------
Each function here makes one pass over a trace's events and pairs up what
belongs together, the way a student reading the log would:

* a socket's life runs from its first ``state`` event (``from`` null) to the
  ``state`` event that makes it CLOSED; descriptors are reused, so a socket
  is identified by its descriptor *and* the seq it was born at;
* a wait runs from ``cond.wait`` / ``sem.wait`` / ``lock.wait`` to the same
  thread's matching ``cond.wake`` / ``sem.acquire`` / ``lock.acquire`` (or a
  timeout, or the next event of that thread if it was cut short); the
  wake-up's ``cause`` names the event, and so the thread, that woke it.  A
  thread's ``lock.*`` events inside a condition wait are part of it (the
  wait releases the lock and takes it back);
* a meeting is a ``meet`` event, plus the ``connect()`` and ``accept()``
  calls that led to it (when each side arrived).

Everything here is pure Python over :class:`~sockviz.Event` objects: the
views, the exports and the CLI are built on it, and none of it imports
matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ._events import Event

__all__ = ["NOT_ITS_OWN", "WAIT_BEGINS", "WAIT_ENDS", "Meeting", "SocketLife", "Wait", "meetings", "sockets", "waits"]

#: Which events begin a wait, and which end it (per primitive family).
WAIT_BEGINS = {"cond.wait": "condition", "sem.wait": "semaphore", "lock.wait": "lock"}
WAIT_ENDS = {
    "cond.wake": ("condition", "woken"),
    "cond.timeout": ("condition", "timeout"),
    "sem.acquire": ("semaphore", "woken"),
    "sem.timeout": ("semaphore", "timeout"),
    "lock.acquire": ("lock", "woken"),
}
_THREAD_ENDS = frozenset({"thread.exit", "thread.error"})
#: Events a thread may record while it is blocked, on the network's behalf (it completed a deadlock).
NOT_ITS_OWN = frozenset({"deadlock", "timeout"})


class SocketLife(NamedTuple):
    """One socket from ``socket()`` (or ``accept()``) to ``close()``."""

    fd: int
    owner: str
    born: int  #: seq of its first state event
    closed: int | None  #: seq of the state event that closed it (None: still open)
    local: str | None  #: its local address (the last one known)
    peer: str | None  #: the address it is connected to (the last one known)
    conn: int | None  #: the connection it belongs to (its buffers are ``conn{N}.up/.down``)
    listened: bool  #: was it ever a listener
    history: tuple[tuple[int, int, str], ...]  #: every mode it went through: (seq, t_ns, mode)

    @property
    def modes(self) -> list[str]:
        """The modes in order, e.g. ``['NOT_INIT', 'CONNECTING', 'OUTBOUND', 'CLOSED']``."""
        return [mode for _, _, mode in self.history]


class Wait(NamedTuple):
    """An interval a thread spent blocked, and what ended it."""

    thread: str
    primitive: str  #: the lock, condition or semaphore it waited on
    family: str  #: "lock", "condition" or "semaphore"
    what: str  #: in domain words: the socket call it was in (accept, connect, recv, send...), "bind lock (net)" or "lock NAME"
    waits_for: str  #: the sentence the model recorded ("recv() on fd 7 waits for alice to send")
    start: int  #: seq of the event that began it
    end: int | None  #: seq of the event that ended it (None: it never ended)
    start_ns: int
    end_ns: int | None
    #: "woken", "timeout", "stopped" (cut short: the weld stopped the network, or the thread
    #: ended) or "unfinished" (the trace ends while it waits)
    outcome: str
    woken_by: int | None  #: seq of the event that woke it (a notify, post or release)
    waker: str | None  #: the thread that woke it

    @property
    def duration_ns(self) -> int | None:
        return None if self.end_ns is None else self.end_ns - self.start_ns


class Meeting(NamedTuple):
    """A rendezvous: a ``connect()`` and an ``accept()`` meeting (or a ``socketpair()``)."""

    what: str  #: "connect/accept" or "socketpair"
    seq: int  #: the ``meet`` event
    t_ns: int
    connect_thread: str
    accept_thread: str
    listener: int | None
    client: int  #: the connecting socket's fd
    server: int  #: the fd accept() returned
    conn: int | None
    addr: str | None
    connect_arrived: int | None  #: seq of the connect() call
    connect_arrived_ns: int | None
    accept_arrived: int | None  #: seq of the accept() call
    accept_arrived_ns: int | None

    @property
    def first(self) -> str | None:
        """Which side came first: "connect", "accept" (None if unknown)."""
        if self.connect_arrived is None or self.accept_arrived is None:
            return None
        return "connect" if self.connect_arrived < self.accept_arrived else "accept"


def _lock_words(name: Any) -> str:
    """A lock's name as a wait's ``what``: the network's lock is the original's bind lock."""
    return "bind lock (net)" if name == "net" else f"lock {name}"


def sockets(events: Sequence[Event]) -> list[SocketLife]:
    """Every socket of the trace, in the order they were made."""
    open_: dict[Any, dict[str, Any]] = {}
    lives: list[dict[str, Any]] = []
    for event in events:
        if event.kind != "state":
            continue
        fields = event.fields
        fd = event.obj
        life = open_.get(fd)
        if life is None or fields.get("from") is None:
            life = {
                "fd": fd,
                "owner": fields.get("owner") or event.thread,
                "born": event.seq,
                "closed": None,
                "local": None,
                "peer": None,
                "conn": None,
                "listened": False,
                "history": [],
            }
            open_[fd] = life
            lives.append(life)
        mode = fields.get("to")
        life["history"].append((event.seq, event.t_ns, mode))
        for key in ("local", "peer", "conn"):
            if fields.get(key) is not None:
                life[key] = fields[key]
        if mode == "LISTEN":
            life["listened"] = True
        if mode == "CLOSED":
            life["closed"] = event.seq
            del open_[fd]
    return [SocketLife(**{**life, "history": tuple(life["history"])}) for life in lives]


def waits(events: Sequence[Event], by_seq: dict[int, Event] | None = None) -> list[Wait]:
    """Every interval a thread spent blocked, in the order they began."""
    by_seq = by_seq if by_seq is not None else {e.seq: e for e in events}
    calls: dict[str, list[str]] = {}  # each thread's socket calls in progress
    open_waits: dict[tuple[str, str], dict[str, Any]] = {}  # (thread, family) -> the wait
    done: list[dict[str, Any]] = []
    wait: dict[str, Any] | None
    for event in events:
        kind, thread = event.kind, event.thread
        if kind not in WAIT_ENDS and kind not in NOT_ITS_OWN and not kind.startswith("lock."):
            # A blocked thread records nothing until its wait ends; any other event of
            # its own (the error return of a stopped network, its end) cut the wait short.
            for family in ("condition", "semaphore", "lock"):
                wait = open_waits.pop((thread, family), None)
                if wait is not None:
                    wait.update(end=event.seq, end_ns=event.t_ns, outcome="stopped")
        if kind == "call":
            calls.setdefault(thread, []).append(str(event.fields.get("op")))
        elif kind == "return":
            stack = calls.get(thread)
            if stack:
                stack.pop()
        elif kind in WAIT_BEGINS:
            family = WAIT_BEGINS[kind]
            stack = calls.get(thread)
            what = _lock_words(event.obj) if family == "lock" else stack[-1] if stack else str(event.obj)
            wait = {
                "thread": thread,
                "primitive": str(event.obj),
                "family": family,
                "what": what,
                "waits_for": event.fields.get("for") or (f"{event.obj} (held by {event.fields.get('holder')})" if family == "lock" else ""),
                "start": event.seq,
                "end": None,
                "start_ns": event.t_ns,
                "end_ns": None,
                "outcome": "unfinished",
                "woken_by": None,
                "waker": None,
            }
            assert wait is not None
            open_waits[(thread, family)] = wait
            done.append(wait)
        elif kind in WAIT_ENDS:
            family, outcome = WAIT_ENDS[kind]
            wait = open_waits.pop((thread, family), None)
            if wait is not None:
                cause = event.fields.get("cause")
                waker = by_seq.get(cause) if isinstance(cause, int) else None
                wait.update(
                    end=event.seq, end_ns=event.t_ns, outcome=outcome, woken_by=cause, waker=None if waker is None else waker.thread
                )
        elif kind in _THREAD_ENDS:
            calls.pop(thread, None)
    return [Wait(**wait) for wait in done]


def meetings(events: Sequence[Event]) -> list[Meeting]:
    """Every rendezvous, in the order they happened."""
    last_call: dict[tuple[str, Any, str], tuple[int, int]] = {}  # (thread, fd, op) -> (seq, t_ns)
    found = []
    for event in events:
        if event.kind == "call":
            op = event.fields.get("op")
            if op in ("connect", "connect_ex", "accept"):
                last_call[(event.thread, event.obj, "accept" if op == "accept" else "connect")] = (event.seq, event.t_ns)
        elif event.kind == "meet":
            f = event.fields
            connect = last_call.get((str(f.get("connect")), f.get("client"), "connect"))
            accept = last_call.get((str(f.get("accept")), f.get("listener"), "accept"))
            found.append(
                Meeting(
                    what=str(f.get("what")),
                    seq=event.seq,
                    t_ns=event.t_ns,
                    connect_thread=str(f.get("connect")),
                    accept_thread=str(f.get("accept")),
                    listener=f.get("listener"),
                    client=int(f.get("client", -1)),
                    server=int(f.get("server", -1)),
                    conn=f.get("conn"),
                    addr=f.get("addr"),
                    connect_arrived=None if connect is None else connect[0],
                    connect_arrived_ns=None if connect is None else connect[1],
                    accept_arrived=None if accept is None else accept[0],
                    accept_arrived_ns=None if accept is None else accept[1],
                )
            )
    return found
