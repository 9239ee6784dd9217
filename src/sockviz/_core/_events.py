"""The event: one entry of the log, the contract between model and views.

Every event has ``seq`` (a total order over all threads), ``t_ns``
(nanoseconds since the trace began, monotonic), ``thread`` (the component or
thread name), ``kind``, ``obj`` (what it is about: a socket's descriptor, a
lock's or buffer's name) and ``fields`` (a small dict, JSON-ready).
``docs/trace-format.md`` lists every kind and its fields (from the read side's
table of kinds, ``_trace/_kinds.py``); here is the contract of a wait.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "UNTIL",
    "Event",
    "WaitReason",
    "event_from_raw",
    "wait_target",
    "wait_words",
    "words_of",
]

#: What ends a wait: the ``until`` field of ``cond.wait`` and ``sem.wait`` events (and of each
#: ``Trace.waits()`` row: a ``lock.wait`` records only its ``holder``, and reads as ``lock``).
UNTIL: dict[str, str] = {
    "connection": "a client connects (accept() waits)",
    "listener": "somebody listens at the address (weldr's connect() waits)",
    "accept": "the server accepts the connection (weldr's connect() waits)",
    "room": "there is room: the peer reads (send), or the listener's backlog has a place (connect)",
    "data": "bytes arrive, or the end of the stream (recv)",
    "lock": "the holder releases the lock (a lock.wait, in Trace.waits())",
    "ready": "one of the descriptors select() (poll, a selector) watches is ready",
}


class WaitReason(NamedTuple):
    """Why a socket call waits, as a wait event records it (see :data:`UNTIL`)."""

    call: str  #: the socket call that waits: accept, connect, recv, send
    fd: int  #: the descriptor it waits on
    until: str  #: what ends the wait, a key of UNTIL
    peer_fd: int | None = None  #: the other end's descriptor (or the listener's), where known
    peer_owner: str | None = None  #: the thread that owns the other end, where known
    addr: str | None = None  #: the address it waits at (accept, connect)

    def fields(self) -> tuple[Any, ...]:
        """The event fields, as the recorder takes them: names and values alternating."""
        call, fd, until, peer_fd, peer_owner, addr = self
        return (
            "call",
            call,
            "fd",
            fd,
            "until",
            until,
            "peer_fd",
            peer_fd,
            "peer_owner",
            peer_owner,
            "addr",
            addr,
        )


def wait_target(until: str | None, peer_owner: str | None = None, addr: str | None = None) -> str:
    """Who or what a wait waits for, in words: "alice to send", "a client to connect to
    0.0.0.0:8080"."""
    peer = peer_owner or "the peer"
    if until == "data":
        return f"{peer} to send"
    if until == "room":
        return f"room in the backlog of {addr}" if addr else f"{peer} to read"
    if until == "connection":
        return f"a client to connect to {addr}"
    if until == "listener":
        return f"someone to listen on {addr}"
    if until == "accept":
        return f"{peer_owner or 'the server'} to accept"
    if until == "ready":
        return f"{addr or 'a descriptor'} to be ready"
    return "a wake-up"


def wait_words(
    call: str | None,
    fd: int | None,
    until: str | None,
    peer_owner: str | None = None,
    addr: str | None = None,
) -> str:
    """A wait in words, from its fields: "recv() on fd 7 waits for alice to send" (no fd: "recv()
    waits ...")."""
    on = "" if fd is None else f" on fd {fd}"
    return f"{call}(){on} waits for {wait_target(until, peer_owner, addr)}"


def words_of(reason: WaitReason | None) -> str:
    """What a waiter waits for, in words (for the deadlock and timeout messages)."""
    if reason is None:
        return "a wake-up"
    return wait_words(reason.call, reason.fd, reason.until, reason.peer_owner, reason.addr)


def event_from_raw(raw: tuple[Any, ...]) -> Event:
    """An :class:`Event` from the recorder's flat tuple ``(seq, t_ns, thread, kind, obj, name,
    value, ...)``."""
    return Event(
        raw[0], raw[1], raw[2], raw[3], raw[4], dict(zip(raw[5::2], raw[6::2], strict=True))
    )


class Event(NamedTuple):
    """One recorded event (``sockviz.lowlevel.KINDS`` lists the kinds)."""

    seq: int
    t_ns: int
    thread: str
    kind: str
    obj: Any
    fields: dict[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        """A field of the event, or ``default``."""
        return self.fields.get(name, default)
