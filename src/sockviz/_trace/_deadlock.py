"""Deadlock or stuck: when every welded thread is blocked, which is it?

A *deadlock* is a circle in the wait-for graph: client waits for server,
server waits for client, and neither can ever wake the other.  Every thread
blocked is not always one: a server waiting in ``accept()`` after its last
client has gone waits for nobody in particular -- it is *stuck*, waiting for
something no thread is left to do.  The graph is read from the trace: a wait
for data or room waits for the thread that last used the other end's
descriptor, a wait for a lock for its holder; ``accept()`` and a weldr
``connect()`` waiting for a listener wait for anybody, so they end a chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._trace import Trace

__all__ = ["deadlock_or_stuck"]


def deadlock_or_stuck(waits: dict[str, str], trace: Trace) -> tuple[list[str] | None, list[str]]:
    """``(cycle, stuck)`` for the blocked threads ``waits`` (thread -> what it waits for):
    the circle of threads each waiting for the next (a deadlock), or None and, for each thread,
    what it waits for that no thread is left to do or whom it waits for ("server waits in
    accept() for a client, and no thread that could connect is left"; empty when the trace
    cannot tell)."""
    edges, last = _wait_for_graph(waits, trace)
    cycle = _cycle(edges)
    return cycle, [] if cycle else _stuck_words(waits, edges, last)


def _wait_for_graph(waits: dict[str, str], trace: Trace) -> tuple[dict[str, str], dict[str, Any]]:
    """Who each blocked thread waits for, and each one's wait.  The thread a wait for data or
    room waits for is the last to use the other end's descriptor; a wait for a lock, its holder.
    Accept() and a weldr connect() waiting for a listener wait for anybody: no edge."""
    user: dict[object, str] = {}  # each descriptor's last user when the deadlock was found
    for event in trace.events:
        if event.kind == "deadlock":
            break  # (after it come the closes of the stop, by whoever ends last)
        if event.kind == "call":
            user[event.obj] = event.thread
    # each blocked thread's wait: its last one that says what the deadlock's waits say (not a wait
    # outside the socket calls, Event.wait under a schedule; not the network's lock at the stop)
    last = {w.thread: w for w in trace.waits(internals=True) if waits.get(w.thread) == w.waits_for}
    edges: dict[str, str] = {}
    for thread in waits:
        wait = last.get(thread)
        if wait is None:
            continue
        if wait.until == "lock":
            target = wait.peer_owner
        elif wait.until in ("data", "room", "accept"):
            # the other end's user; before accept() made the other end, its listener's owner
            target = user.get(wait.peer_fd) if wait.peer_fd is not None else wait.peer_owner
        else:
            target = None
        if target is not None and target in waits and target != thread:
            edges[thread] = target
    return edges, last


def _cycle(edges: dict[str, str]) -> list[str] | None:
    for start in edges:
        path: list[str] = []
        at: str | None = start
        while at is not None and at not in path:
            path.append(at)
            at = edges.get(at)
        if at is not None:
            return path[path.index(at) :]
    return None


#: What no thread is left to do, for a wait that ends a chain of waits: by the wait's ``until``.
_NOBODY_LEFT = {
    "connection": "for a client, and no thread that could connect is left",
    "listener": "for a listener, and no thread that could listen is left",
    "accept": "to be accepted, and no thread that could accept is left",
    "data": "for data, and no thread that could send any is left",
    "room": "for room, and no thread that could read is left",
    "lock": "for a lock, and no thread that could release it is left",
    "ready": "for a descriptor to be ready, and no thread that could make one ready is left",
}


def _stuck_words(waits: dict[str, str], edges: dict[str, str], last: dict[str, Any]) -> list[str]:
    """For each blocked thread: what it waits for that nobody is left to do, or whom it waits
    for.  Empty when a thread's wait is not one the trace can explain (then the generic words)."""
    said = []
    for thread in waits:
        wait = last.get(thread)
        if thread in edges:
            said.append(f"{thread} waits for {edges[thread]}")
        elif wait is not None and wait.until in _NOBODY_LEFT:
            call = f" in {wait.call}()" if wait.call else ""
            said.append(f"{thread} waits{call} {_NOBODY_LEFT[wait.until]}")
        else:
            return []
    return said
