"""The event: one entry of the log, the contract between model and views.

Every event has ``seq`` (a total order over all threads), ``t_ns``
(nanoseconds since the trace began, monotonic), ``thread`` (the component or
thread name), ``kind``, ``obj`` (what it is about: a socket's descriptor, a
lock's or buffer's name) and ``fields`` (a small dict, JSON-ready).
``docs/trace-format.md`` lists every kind and its fields.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["KINDS", "Event", "event_from_raw"]

#: Every event kind the fake network records, with what it means.
KINDS: dict[str, str] = {
    "thread.start": "a welded thread started (fields: component, parent)",
    "thread.exit": "a welded thread ended (fields: reason)",
    "thread.error": "a welded thread ended with an exception (fields: error, message, traceback)",
    "output": "a line a component printed (fields: line, stream)",
    "call": "a socket call began (fields: op and its arguments)",
    "return": "a socket call ended (fields: op, and result or error + errno)",
    "state": "a socket's mode changed (fields: from, to, local, peer, conn; owner when it is born)",
    "refused": "a connect() found nobody listening (strict semantics; fields: addr)",
    "lock.wait": "a thread found a lock held and waits for it (fields: holder)",
    "lock.acquire": "a thread got a lock (fields: waited_ns, cause)",
    "lock.release": "a lock was released while someone waited for it (no fields)",
    "cond.wait": "a thread waits on a condition (fields: for, timeout)",
    "cond.notify": "a thread notified a condition's waiters (fields: n)",
    "cond.wake": "a waiting thread was woken (fields: cause = seq of the notify, for)",
    "cond.timeout": "a condition wait ran out of time (fields: for, timeout)",
    "sem.wait": "a thread waits on a semaphore (fields: for, timeout)",
    "sem.post": "a semaphore was posted (fields: value)",
    "sem.acquire": "a thread got a semaphore's permit (fields: cause = seq of the post, value)",
    "sem.timeout": "a semaphore wait ran out of time (fields: for, timeout)",
    "buf.write": "bytes entered a connection's buffer (fields: n, fill, cap)",
    "buf.read": "bytes left a connection's buffer (fields: n, fill, cap)",
    "buf.eof": "the writer of a buffer shut down or closed (fields: fill)",
    "meet": "a rendezvous completed: connect/accept or socketpair (fields: what, connect, accept, listener, client, server, conn, addr)",
    "timeout": "the weld ran out of time (fields: after, waits = {thread: what it waits for})",
    "deadlock": "every welded thread is blocked (fields: waits = {thread: what it waits for})",
    "outside": "under a schedule, a thread blocked outside the fake network; the weld stops (fields: where, after)",
}


def event_from_raw(raw: tuple[Any, ...]) -> Event:
    """An :class:`Event` from the recorder's flat tuple ``(seq, t_ns, thread, kind, obj, name, value, ...)``."""
    return Event(raw[0], raw[1], raw[2], raw[3], raw[4], dict(zip(raw[5::2], raw[6::2], strict=True)))


class Event(NamedTuple):
    """One recorded event (see :data:`KINDS` for the kinds)."""

    seq: int
    t_ns: int
    thread: str
    kind: str
    obj: Any
    fields: dict[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        """A field of the event, or ``default``."""
        return self.fields.get(name, default)
