"""The words for events: the narration's sentences and the summary's short lines.

The sentences say who does what, and -- for waits -- why: "alice waits in
recv() on fd 5: nothing has arrived yet, so it waits for server/handler1
to send."  They use the world just before the event (who was waiting on a
condition a notify wakes, which call a thread is in), so they are computed
from a :class:`~sockviz.Trace`, not from the event alone.

The pieces here are used by the one table of kinds (``_kinds.py``), which
says which sentence and which line each kind of event gets.
"""

from __future__ import annotations

import bisect
import errno as _errno
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from .._core._events import wait_target, wait_words

if TYPE_CHECKING:
    from .._core._events import Event
    from ._trace import Trace

__all__ = ["MODE_MEANINGS", "Line", "Sentence"]

#: A sentence-maker of the narration: ``(trace, index, event) -> str``.
Sentence = Callable[["Trace", int, "Event"], str]
#: A line-maker of the summary: ``(event, trace or None) -> str``.
Line = Callable[["Event", "Trace | None"], str]

#: What each socket mode means, in a student's words.
MODE_MEANINGS = {
    "NOT_INIT": "a fresh socket, not yet bound or connected",
    "BOUND": "it has a local address",
    "LISTEN": "it listens, and clients can now connect to it",
    "CONNECTING": "the handshake has begun",
    "OUTBOUND": "it is connected (the client's end)",
    "INBOUND": "it is connected (the server's end, made by accept)",
    "SHUT_WR": "it will send no more (the peer reads end of file)",
    "SHUT_RD": "it will read no more",
    "SHUT_RDWR": "shut down both ways",
    "RESET": "the connection was reset",
    "REFUSED": "its connection attempt was refused",
    "CLOSED": "its descriptor is free again",
}

#: Why a call waits, by the call and what ends the wait (the ``until`` field).
_REASONS = {
    ("recv", "data"): "nothing has arrived yet",
    ("send", "room"): "the buffer to the peer is full",
    ("accept", "connection"): "no client has connected yet",
    ("connect", "listener"): "nobody listens there yet",
    ("connect", "room"): "the listener's backlog is full",
    ("connect", "accept"): "nobody has accepted yet",
}


def plural(n: Any, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def waiting(trace: Trace, index: int, e: Event) -> str:
    """Why ``e.thread`` waits; and, since the whole trace is known, who ended the wait, and when."""
    f, thread = e.fields, e.thread
    timeout = f.get("timeout")
    limit = f" (for at most {timeout:g} s)" if isinstance(timeout, int | float) else ""
    call, until = f.get("call"), f.get("until")
    if call is None or until is None:
        return f"{thread} waits{limit} for a wake-up."
    reason = _REASONS.get((call, until), "it cannot go on yet")
    if until == "ready":  # select(), poll(), a selector: several descriptors, none ready yet
        reason = f"none of {f.get('addr')} is ready yet"
        head = f"{thread} waits in {call}(){limit}: {reason}"
    else:
        head = f"{thread} waits in {call}() on fd {f.get('fd')}{limit}: {reason}"
    wait = _waits_by_start(trace).get(e.seq)
    if wait is not None and wait.outcome == "woken" and wait.waker and wait.woken_by is not None:
        op = _call_in_progress(trace, wait.waker, wait.woken_by)
        by = f"{wait.waker}'s {op}()" if op else wait.waker
        return f"{head}, so it waits until {by} wakes it (#{wait.woken_by})."
    target = wait_target(until, f.get("peer_owner"), f.get("addr"))
    if wait is not None and wait.outcome == "timeout" and wait.end is not None:
        return f"{head}, so it waits for {target}; its timeout runs out first (#{wait.end})."
    return f"{head}, so it waits for {target}."


def _waits_by_start(trace: Trace) -> dict[int, Any]:
    """Each wait of the trace, by the seq of the event that began it (computed once a trace)."""
    found: dict[int, Any] = trace._cached(
        "waits by start", lambda: {w.start: w for w in trace.waits(internals=True)}
    )
    return found


def _call_in_progress(trace: Trace, thread: str, seq: int) -> str | None:
    """The socket call ``thread`` was in at event ``seq`` (the last it began before), if any."""
    calls = trace._cached("calls by thread", lambda: _calls_by_thread(trace))
    begun = calls.get(thread)
    if not begun:
        return None
    at = bisect.bisect_left(begun[0], seq) - 1
    return begun[1][at] if at >= 0 else None


def _calls_by_thread(trace: Trace) -> dict[str, tuple[list[int], list[str]]]:
    found: dict[str, tuple[list[int], list[str]]] = {}
    for event in trace.events:
        if event.kind == "call":
            seqs, ops = found.setdefault(event.thread, ([], []))
            seqs.append(event.seq)
            ops.append(str(event.fields.get("op")))
    return found


def socket_owners(trace: Trace) -> dict[int, str | None]:
    """``state`` event seq -> the thread owning the socket it is about (computed once)."""
    return cast(
        "dict[int, str | None]",
        trace._cached(
            "socket owners",
            lambda: {seq: life.owner for life in trace.sockets() for seq, _, _ in life.history},
        ),
    )


def owner_of(trace: Trace, e: Event) -> str:
    """The thread that owns the socket a ``state`` event is about (not always the one recording it:
    under weldr semantics, the accepting thread records the client socket's OUTBOUND)."""
    return str(socket_owners(trace).get(e.seq) or e.fields.get("owner") or e.thread)


def calling(thread: str, fd: Any, f: dict[str, Any]) -> str:
    op = f.get("op")
    if op == "socket":
        return f"{thread} creates a socket ({f.get('family')}, {f.get('type')}): it gets fd {fd}."
    if op == "bind":
        return f"{thread} binds fd {fd} to {f.get('addr')}."
    if op == "listen":
        backlog = f" with a backlog of {f['backlog']}" if f.get("backlog") is not None else ""
        return f"{thread} calls listen() on fd {fd}{backlog}."
    if op == "accept":
        return f"{thread} calls accept() on fd {fd} to take the next client."
    if op in ("connect", "connect_ex"):
        return f"{thread} calls {op}() on fd {fd} to reach {f.get('addr')}."
    if op in ("send", "sendall", "sendto"):
        return f"{thread} calls {op}() on fd {fd} to send {plural(f.get('n'), 'byte')}."
    if op in ("recv", "recv_into", "recvfrom"):
        return f"{thread} calls {op}() on fd {fd} for up to {plural(f.get('bufsize'), 'byte')}."
    if op == "shutdown":
        return f"{thread} calls shutdown({f.get('how')}) on fd {fd}."
    if op == "close":
        return f"{thread} closes fd {fd}."
    args = ", ".join(f"{k}={v}" for k, v in f.items() if k != "op")
    return f"{thread} calls {op}({args}) on fd {fd}."


def returning(thread: str, fd: Any, f: dict[str, Any]) -> str:
    op = f.get("op")
    if f.get("error") == "NetworkStopped":
        return (
            f"{op}() on fd {fd} is cut short in {thread}: the weld stopped the fake network "
            "(NetworkStopped) to end the run."
        )
    if "error" in f:
        code = f.get("errno")
        why = (
            f" (errno {code}, {_errno.errorcode.get(code, '?')}: {os.strerror(code)})"
            if isinstance(code, int)
            else ""
        )
        return f"{op}() on fd {fd} fails in {thread} with {f['error']}{why}."
    result = f.get("result")
    if op == "accept":
        return f"accept() returns to {thread} with fd {result}: a connection from {f.get('peer')}."
    if op in ("recv", "recv_into", "recvfrom"):
        if result == 0:
            return (
                f"{op}() on fd {fd} returns no bytes to {thread}: end of file, the peer will send "
                "no more."
            )
        return f"{op}() on fd {fd} returns {plural(result, 'byte')} to {thread}."
    if op in ("send", "sendto"):
        return (
            f"{op}() on fd {fd} returns: {plural(result, 'byte')} of {thread}'s data are on their "
            "way."
        )
    if op == "sendall":
        return f"sendall() on fd {fd} returns: all of {thread}'s data are in the buffer."
    if op in ("connect", "connect_ex"):
        if op == "connect_ex" and result:
            return (
                f"connect_ex() on fd {fd} returns error {result} "
                f"({_errno.errorcode.get(result, '?')}) to {thread}."
            )
        return f"{op}() on fd {fd} returns: {thread} is connected."
    if op == "socket":
        return f"socket() returns fd {result} to {thread}."
    if f.get("deferred"):
        return f"{op}() returns to {thread}; fd {fd} lives on until {f['deferred']} on it return."
    return f"{op}() on fd {fd} returns to {thread}" + (
        f" with {result!r}." if result is not None else "."
    )


def lock_wait(trace: Trace, index: int, e: Event) -> str:
    """A thread finds a lock held: whose it is (recorded, or else the thread whose release ended
    the wait), and whether it is the simulator's own."""
    wait = _waits_by_start(trace).get(e.seq)
    holder = e.fields.get("holder") or (wait.waker if wait is not None else None)
    whose = f"{holder} holds it" if holder else "another thread holds it"
    lock = (
        "the network's own lock net (the simulator's bookkeeping: weldr's bind lock)"
        if e.obj == "net"
        else f"lock {e.obj}"
    )
    return f"{e.thread} must wait for {lock}: {whose}."


def woken_by(trace: Trace, cause: Any) -> str:
    waker = trace.by_seq(cause) if isinstance(cause, int) else None
    return f"{waker.thread} woke it (event #{cause})" if waker is not None else "it was woken"


def state(trace: Trace, index: int, e: Event) -> str:
    f = e.fields
    to = f.get("to")
    meaning = MODE_MEANINGS.get(str(to), "")
    if f.get("from") is None:
        return f"fd {e.obj} of {owner_of(trace, e)} is born {to}: {meaning}."
    if to == "NOT_INIT":  # back from a failed connect(): not fresh, but free to try again
        meaning = "its connection attempt is over, and it is neither bound to a peer nor connected"
    return f"fd {e.obj} of {owner_of(trace, e)} goes from {f.get('from')} to {to}: {meaning}."


def notify(trace: Trace, index: int, e: Event) -> str:
    before = trace.state_at(index - 1).conditions.get(str(e.obj)) if index else None
    woken = ", ".join(before.waiters[: int(e.fields.get("n") or 0)]) if before else ""
    whom = f": {woken} can go on" if woken else ""
    return (
        f"{e.thread} notifies {e.obj}, waking {plural(e.fields.get('n'), 'waiting thread')}{whom}."
    )


def gave_up(trace: Trace, index: int, e: Event) -> str:
    timeout = e.fields.get("timeout")
    limit = f" of {timeout:g} s" if isinstance(timeout, int | float) else ""
    return f"{e.thread} gives up waiting on {e.obj}: its timeout{limit} ran out."


def post(trace: Trace, index: int, e: Event) -> str:
    sem = trace.state_at(index - 1).semaphores.get(str(e.obj)) if index else None
    if sem and sem.waiters:
        return f"{e.thread} posts {e.obj}, handing its permit straight to {sem.waiters[0]}."
    return (
        f"{e.thread} posts {e.obj}: it now holds {plural(e.fields.get('value'), 'permit')} for "
        "whoever comes."
    )


def permit(trace: Trace, index: int, e: Event) -> str:
    if e.fields.get("cause") is None:
        return f"{e.thread} takes a permit of {e.obj} at once, without waiting."
    return f"{e.thread} gets its permit of {e.obj}: {woken_by(trace, e.fields.get('cause'))}."


def got_lock(trace: Trace, index: int, e: Event) -> str:
    waited = e.fields.get("waited_ns") or 0
    return f"{e.thread} gets lock {e.obj}" + (
        f" after waiting {waited / 1e3:.1f} µs." if waited else "."
    )


def write(trace: Trace, index: int, e: Event) -> str:
    f = e.fields
    if f.get("dropped"):
        return (
            f"{e.thread} sends {plural(f.get('n'), 'byte')} into {e.obj}, but its reader has gone: "
            "they are dropped."
        )
    return (
        f"{e.thread} puts {plural(f.get('n'), 'byte')} into {e.obj}: {f.get('fill')} of "
        f"{f.get('cap')} bytes now wait to be read."
    )


def eof(trace: Trace, index: int, e: Event) -> str:
    left = e.fields.get("fill") or 0
    when = f"once its last {plural(left, 'byte')} are read" if left else "from now on"
    return f"{e.obj} gets its end of file: {when}, a recv() at its reading end returns b''."


def meet(trace: Trace, index: int, e: Event) -> str:
    f = e.fields
    if f.get("what") == "socketpair":
        return (
            f"socketpair() joins fd {f.get('client')} and fd {f.get('server')}: two connected ends "
            f"in {e.thread}."
        )
    where = f" at {f['addr']}" if f.get("addr") else ""
    return (
        f"{f.get('connect')} and {f.get('accept')} meet: connect() on fd {f.get('client')} and "
        f"accept() on fd {f.get('listener')} join up{where}, and the server gets fd "
        f"{f.get('server')} for connection {f.get('conn')}."
    )


def start(trace: Trace, index: int, e: Event) -> str:
    parent = f", started by {e.fields['parent']}" if e.fields.get("parent") else ""
    return f"{e.thread} starts{parent}."


def ended(trace: Trace, index: int, e: Event) -> str:
    reason = e.fields.get("reason")
    return f"{e.thread} ends." if reason in (None, "returned") else f"{e.thread} ends ({reason})."


def stuck(trace: Trace, index: int, e: Event) -> str:
    waits = "; ".join(f"{t}: {w}" for t, w in (e.fields.get("waits") or {}).items())
    if e.kind == "deadlock":
        from ._deadlock import deadlock_or_stuck

        cycle, nobody = deadlock_or_stuck(e.fields.get("waits") or {}, trace)
        if cycle:
            circle = ", ".join(
                f"{a} waits for {b}" for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True)
            )
            return f"Deadlock: {circle} -- a circle, so none can ever wake another. {waits}."
        if nobody:
            return f"Stuck: {'; '.join(nobody)}. {waits}."
        return f"Stuck: every thread is blocked, and no thread is left to wake any. {waits}."
    return (
        f"The weld ran out of time after {e.fields.get('after')} s. Still waiting: "
        f"{waits or 'nobody'}."
    )


def args_of(fields: dict[str, Any]) -> str:
    plain = ("addr", "backlog", "how", "bufsize", "timeout", "option")
    return ", ".join(
        f"{v}" if k in plain else f"{k}={v}"
        for k, v in fields.items()
        if k != "op" and v is not None
    )


def call_line(event: Event, trace: Trace | None) -> str:
    f = event.fields
    where = "" if f.get("op") == "socket" else f" on fd {event.obj}"
    return f"{f.get('op')}({args_of(f)}){where}"


def return_line(event: Event, trace: Trace | None) -> str:
    f = event.fields
    if "error" in f:
        code = f" [errno {f['errno']}]" if f.get("errno") is not None else ""
        return f"  {f.get('op')} raised {f['error']}{code}"
    result = f.get("result")
    if f.get("deferred"):
        return f"  {f.get('op')} done; the socket lives on until {f['deferred']} on it return"
    return f"  {f.get('op')} -> {result!r}" if result is not None else f"  {f.get('op')} done"


def wait_line(event: Event, trace: Trace | None) -> str:
    f = event.fields
    timeout = f" (timeout {f['timeout']:g} s)" if f.get("timeout") is not None else ""
    wait = _waits_by_start(trace).get(event.seq) if trace is not None else None
    if wait is not None and wait.waits_for and wait.until != "lock":
        words = wait.waits_for  # names the thread that ended it, when another of its component
    elif f.get("until"):
        words = wait_words(
            f.get("call"), f.get("fd"), f.get("until"), f.get("peer_owner"), f.get("addr")
        )
    else:
        words = "a wake-up"
    return f"waits on {event.obj}: {words}{timeout}"


def woken_line(event: Event, trace: Trace | None) -> str:
    cause = event.fields.get("cause")
    by = ""
    if cause is not None:
        waker = trace.by_seq(cause) if trace is not None else None
        by = f" by {waker.thread} (#{cause})" if waker is not None else f" by #{cause}"
    return (
        f"got a permit of {event.obj}{by}"
        if event.kind == "sem.acquire"
        else f"woken on {event.obj}{by}"
    )


def meet_line(event: Event, trace: Trace | None) -> str:
    f = event.fields
    if f.get("what") == "socketpair":
        return f"MEET socketpair: fd {f.get('client')} <-> fd {f.get('server')}"
    return (
        f"MEET {f.get('connect')} (connect, fd {f.get('client')}) and {f.get('accept')} (accept, "
        f"fd {f.get('server')}) at {f.get('addr')} via fd {f.get('listener')}"
    )


def stuck_waits(fields: dict[str, Any]) -> str:
    return "; ".join(f"{t}: {w}" for t, w in (fields.get("waits") or {}).items())


def blocked_line(e: Event, trace: Trace | None) -> str:
    """The summary's line for a ``deadlock`` event: DEADLOCK (a circle of waits) or STUCK."""
    word = "DEADLOCK"
    if trace is not None:
        from ._deadlock import deadlock_or_stuck

        cycle, _ = deadlock_or_stuck(e.fields.get("waits") or {}, trace)
        word = "DEADLOCK" if cycle else "STUCK"
    return f"{word} -- {stuck_waits(e.fields)}"
