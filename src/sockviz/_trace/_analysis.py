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

Everything here is pure Python over :class:`~sockviz.lowlevel.Event` objects: the
views, the exports and the CLI are built on it, and none of it imports
matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .._core._events import Event, wait_words

__all__ = [
    "KEEPS_WAITING",
    "WAIT_BEGINS",
    "WAIT_ENDS",
    "Meeting",
    "SocketLife",
    "Wait",
    "meetings",
    "sockets",
    "waits",
]

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
#: Events a thread may record while it is blocked, on the network's behalf (it completed a
#: deadlock).
NOT_ITS_OWN = frozenset({"deadlock", "timeout", "outside"})
#: A blocked thread records nothing until its wait ends, except these: the end itself, the lock a
#: condition wait releases and waits to take back, and reports on the network's behalf. Any other
#: event of the thread means its wait was cut short (the weld stopped it).
KEEPS_WAITING = frozenset(WAIT_ENDS) | {"lock.wait", "lock.release"} | NOT_ITS_OWN


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
    #: in domain words: the socket call it was in (accept, connect, recv, send...),
    #: "bind lock (net)" or "lock NAME"
    what: str
    #: in words, made from the fields below: "recv() on fd 7 waits for alice to send"
    waits_for: str
    start: int  #: seq of the event that began it
    end: int | None  #: seq of the event that ended it (None: it never ended)
    start_ns: int
    end_ns: int | None
    #: "woken", "timeout", "stopped" (cut short: the weld stopped the network, or the thread ended)
    #: or "unfinished" (the trace ends while it waits)
    outcome: str
    woken_by: int | None  #: seq of the event that woke it (a notify, post or release)
    waker: str | None  #: the thread that woke it
    #: the socket call that waits, as the model recorded it (accept, connect, recv, send)
    call: str | None = None
    #: what ends it (see sockviz.lowlevel.UNTIL): data, room, connection, listener, accept, lock
    until: str | None = None
    fd: int | None = None  #: the descriptor the call waits on
    peer_owner: str | None = None  #: the thread owning the other end (a lock's holder), where known
    peer_fd: int | None = None  #: the other end's descriptor, where known
    addr: str | None = None  #: the address an accept() or connect() waits at

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
    """A lock's name as a wait's ``what``: the network's lock is the original's bind lock; a
    program's own lock is called by its name (``lock1``, ``event1.lock``)."""
    if name == "net":
        return "bind lock (net)"
    return str(name) if "lock" in str(name) else f"lock {name}"


def is_internal(wait: Wait) -> bool:
    """A wait for one of the network's own locks -- ``net`` (weldr's bind lock) or a
    connection's ``connN`` -- the simulator's bookkeeping, not the program's."""
    name = wait.primitive
    return wait.until == "lock" and (name == "net" or (name[:4] == "conn" and name[4:].isdigit()))


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


#: What each kind does to the pairing of waits (anything else: an ordinary event of its thread).
_CALL, _RETURN, _BEGIN, _END, _THREAD_END = range(5)
_ROLES = {
    "call": _CALL,
    "return": _RETURN,
    **dict.fromkeys(WAIT_BEGINS, _BEGIN),
    **dict.fromkeys(WAIT_ENDS, _END),
    **dict.fromkeys(_THREAD_ENDS, _THREAD_END),
}
_OTHER = -1


def waits(events: Sequence[Event], by_seq: dict[int, Event] | None = None) -> list[Wait]:
    """Every interval a thread spent blocked, in the order they began."""
    count = len(events)

    def thread_at(seq: int) -> str | None:
        """The thread of event ``seq`` (usually at index ``seq``; a filtered trace needs the
        map)."""
        nonlocal by_seq
        if 0 <= seq < count and events[seq][0] == seq:
            return events[seq][2]
        if by_seq is None:
            by_seq = {e.seq: e for e in events}
        found = by_seq.get(seq)
        return None if found is None else found.thread

    calls: dict[str, list[str]] = {}  # each thread's socket calls in progress
    # thread -> family -> the wait (a list, in Wait's order: see _END_AT... below)
    open_waits: dict[str, dict[str, list[Any]]] = {}
    done: list[list[Any]] = []
    said: dict[tuple[Any, tuple[Any, ...]], str] = {}
    roles = _ROLES.get
    # (the loop runs once an event: a million in about half a second, so it is written for speed:
    # events unpacked at once, the common cases inline)
    for seq, t_ns, thread, kind, obj, fields in events:
        role = roles(kind, _OTHER)
        opened = open_waits.get(thread)
        if opened and kind not in KEEPS_WAITING:  # the wait was cut short (see KEEPS_WAITING)
            for wait in opened.values():
                wait[_END_AT], wait[_END_NS], wait[_OUTCOME] = seq, t_ns, "stopped"
            opened.clear()
        if role == _OTHER:
            continue
        if role == _CALL:
            calls.setdefault(thread, []).append(str(fields.get("op")))
        elif role == _RETURN:
            stack = calls.get(thread)
            if stack:
                stack.pop()
        elif role == _BEGIN:
            family = WAIT_BEGINS[kind]
            if family == "lock":
                what = _lock_words(obj)
                reason: tuple[Any, ...] = (None, "lock", None, fields.get("holder"), None, None)
            else:
                stack = calls.get(thread)
                what = stack[-1] if stack else str(obj)
                f = fields.get
                reason = (f("call"), f("until"), f("fd"), f("peer_owner"), f("peer_fd"), f("addr"))
            words = said.get((obj, reason))  # waits repeat: the same words, made once
            if words is None:
                words = said[obj, reason] = _words(str(obj), *reason)
            # fmt: off
            wait = [thread, str(obj), family, what, words, seq, None, t_ns, None, "unfinished",
                    None, None, *reason]
            # fmt: on
            if opened is None:
                opened = open_waits[thread] = {}
            opened[family] = wait
            done.append(wait)
        elif role == _END:
            family, outcome = WAIT_ENDS[kind]
            found = opened.pop(family, None) if opened else None
            if found is not None:
                cause = fields.get("cause")
                waker: str | None
                if type(cause) is int and 0 <= cause < count and events[cause][0] == cause:
                    waker = events[cause][2]  # (where it usually is)
                else:
                    waker = thread_at(cause) if isinstance(cause, int) else None
                found[_END_AT], found[_END_NS], found[_OUTCOME] = seq, t_ns, outcome
                found[_WOKEN_BY], found[_WAKER] = cause, waker
                if waker and waker != found[_OWNER] and found[_UNTIL] in _DATA_OR_ROOM:
                    _name_the_waker(found)
        elif role == _THREAD_END:
            calls.pop(thread, None)
    return [Wait._make(wait) for wait in done]


# Positions in the lists waits() fills (Wait's fields, in order).
_WORDS, _END_AT, _END_NS, _OUTCOME, _WOKEN_BY, _WAKER, _UNTIL, _OWNER = 4, 6, 8, 9, 10, 11, 13, 15
_DATA_OR_ROOM = frozenset({"data", "room"})


def _name_the_waker(wait: list[Any]) -> None:
    """A wait for data or room recorded the other end's owner: the thread that accepted it.  When
    another thread of that component (the handler it was handed to) is the one that ended the
    wait, the words name that thread: "waits for server/handler1 to send", not "server"."""
    waker, owner = wait[_WAKER], wait[_OWNER]
    if (
        wait[_UNTIL] in ("data", "room")
        and waker
        and owner
        and waker != owner
        and str(waker).split("/", 1)[0] == str(owner).split("/", 1)[0]
    ):
        call, until, fd, _owner, peer_fd, addr = wait[12:18]
        wait[_WORDS] = _words(wait[1], call, until, fd, waker, peer_fd, addr)


def _words(
    primitive: str, call: Any, until: Any, fd: Any, owner: Any, peer_fd: Any, addr: Any
) -> str:
    """A wait's ``waits_for``, in words, made from its fields."""
    if until == "lock":
        return f"{primitive} (held by {owner or 'another thread'})"
    if until is None:
        return ""
    return wait_words(call, fd, until, owner, addr)


def meetings(events: Sequence[Event]) -> list[Meeting]:
    """Every rendezvous, in the order they happened."""
    last_call: dict[tuple[str, Any, str], tuple[int, int]] = {}  # (thread, fd, op) -> (seq, t_ns)
    found = []
    for event in events:
        if event.kind == "call":
            op = event.fields.get("op")
            if op in ("connect", "connect_ex", "accept"):
                last_call[(event.thread, event.obj, "accept" if op == "accept" else "connect")] = (
                    event.seq,
                    event.t_ns,
                )
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
