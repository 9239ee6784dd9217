"""One plain-English sentence per event, for a student following a replay.

The sentences say who does what, and -- for waits -- why: "alice waits in
recv() on fd 5: nothing has arrived yet, so it waits for server/handler1
to send."  They use the world just before the event (who was waiting on a
condition a notify wakes, which call a thread is in), so they are computed
from a :class:`~sockviz.Trace`, not from the event alone.
"""

from __future__ import annotations

import errno as _errno
import os
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._events import Event
    from ._trace import Trace

__all__ = ["MODE_MEANINGS", "describe", "narrate"]

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

#: Why a call waits, by the call.
_REASONS = {
    "recv": "nothing has arrived yet",
    "recv_into": "nothing has arrived yet",
    "recvfrom": "nothing has arrived yet",
    "send": "the buffer to the peer is full",
    "sendall": "the buffer to the peer is full",
    "sendto": "the buffer to the peer is full",
    "accept": "no client has connected yet",
}
_WAITS_FOR = re.compile(r"^(?P<op>\w+)\(\) on fd (?P<fd>-?\d+) waits for (?P<target>.*)$")


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _waiting(thread: str, waits_for: str, timeout: Any) -> str:
    limit = f" (for at most {timeout:g} s)" if isinstance(timeout, int | float) else ""
    match = _WAITS_FOR.match(waits_for or "")
    if match is None:
        return f"{thread} waits{limit}: {waits_for or 'for a wake-up'}."
    op, fd, target = match["op"], match["fd"], match["target"]
    if op == "connect":
        if target.startswith("someone to listen"):
            reason = "nobody listens there yet"
        elif target.startswith("room"):
            reason = "the listener's backlog is full"
        else:
            reason = "nobody has accepted yet"
    else:
        reason = _REASONS.get(op, "it cannot go on yet")
    return f"{thread} waits in {op}() on fd {fd}{limit}: {reason}, so it waits for {target}."


def _call(thread: str, fd: Any, f: dict[str, Any]) -> str:
    op = f.get("op")
    if op == "socket":
        return f"{thread} creates a socket ({f.get('family')}, {f.get('type')}): it gets fd {fd}."
    if op == "bind":
        return f"{thread} binds fd {fd} to {f.get('addr')}."
    if op == "listen":
        backlog = f" with room for {f['backlog']} waiting clients" if f.get("backlog") is not None else ""
        return f"{thread} calls listen() on fd {fd}{backlog}."
    if op == "accept":
        return f"{thread} calls accept() on fd {fd} to take the next client."
    if op in ("connect", "connect_ex"):
        return f"{thread} calls {op}() on fd {fd} to reach {f.get('addr')}."
    if op in ("send", "sendall", "sendto"):
        return f"{thread} calls {op}() on fd {fd} to send {_plural(f.get('n'), 'byte')}."
    if op in ("recv", "recv_into", "recvfrom"):
        return f"{thread} calls {op}() on fd {fd} for up to {_plural(f.get('bufsize'), 'byte')}."
    if op == "shutdown":
        return f"{thread} calls shutdown({f.get('how')}) on fd {fd}."
    if op == "close":
        return f"{thread} closes fd {fd}."
    args = ", ".join(f"{k}={v}" for k, v in f.items() if k != "op")
    return f"{thread} calls {op}({args}) on fd {fd}."


def _return(thread: str, fd: Any, f: dict[str, Any]) -> str:
    op = f.get("op")
    if f.get("error") == "NetworkStopped":
        return f"{op}() on fd {fd} is cut short in {thread}: the weld stopped the fake network (NetworkStopped) to end the run."
    if "error" in f:
        code = f.get("errno")
        why = f" (errno {code}, {_errno.errorcode.get(code, '?')}: {os.strerror(code)})" if isinstance(code, int) else ""
        return f"{op}() on fd {fd} fails in {thread} with {f['error']}{why}."
    result = f.get("result")
    if op == "accept":
        return f"accept() returns to {thread} with fd {result}: a connection from {f.get('peer')}."
    if op in ("recv", "recv_into", "recvfrom"):
        if result == 0:
            return f"{op}() on fd {fd} returns no bytes to {thread}: end of file, the peer will send no more."
        return f"{op}() on fd {fd} returns {_plural(result, 'byte')} to {thread}."
    if op in ("send", "sendto"):
        return f"{op}() on fd {fd} returns: {_plural(result, 'byte')} of {thread}'s data are on their way."
    if op == "sendall":
        return f"sendall() on fd {fd} returns: all of {thread}'s data are in the buffer."
    if op in ("connect", "connect_ex"):
        if op == "connect_ex" and result:
            return f"connect_ex() on fd {fd} returns error {result} ({_errno.errorcode.get(result, '?')}) to {thread}."
        return f"{op}() on fd {fd} returns: {thread} is connected."
    if op == "socket":
        return f"socket() returns fd {result} to {thread}."
    if f.get("deferred"):
        return f"{op}() returns to {thread}; fd {fd} lives on until {f['deferred']} on it return."
    return f"{op}() on fd {fd} returns to {thread}" + (f" with {result!r}." if result is not None else ".")


def _woken_by(trace: Trace, cause: Any) -> str:
    waker = trace.by_seq(cause) if isinstance(cause, int) else None
    return f"{waker.thread} woke it (event #{cause})" if waker is not None else "it was woken"


def narrate(trace: Trace, index: int) -> str:
    """The sentence for event ``index`` of ``trace``."""
    event: Event = trace.events[index]
    thread, kind, obj, f = event.thread, event.kind, event.obj, event.fields
    if kind == "call":
        return _call(thread, obj, f)
    if kind == "return":
        return _return(thread, obj, f)
    if kind == "state":
        to = f.get("to")
        meaning = MODE_MEANINGS.get(str(to), "")
        if f.get("from") is None:
            return f"fd {obj} of {f.get('owner') or thread} is born {to}: {meaning}."
        return f"fd {obj} of {thread} goes from {f.get('from')} to {to}: {meaning}."
    if kind in ("cond.wait", "sem.wait"):
        return _waiting(thread, str(f.get("for") or ""), f.get("timeout"))
    if kind == "cond.wake":
        return f"{thread} wakes up on {obj}: {_woken_by(trace, f.get('cause'))}; it goes on with its call."
    if kind == "cond.notify":
        before = trace.state_at(index - 1).conditions.get(str(obj)) if index else None
        woken = ", ".join(before.waiters[: int(f.get("n") or 0)]) if before else ""
        whom = f": {woken} can go on" if woken else ""
        return f"{thread} notifies {obj}, waking {_plural(f.get('n'), 'waiting thread')}{whom}."
    if kind in ("cond.timeout", "sem.timeout"):
        limit = f" of {f['timeout']:g} s" if isinstance(f.get("timeout"), int | float) else ""
        return f"{thread} gives up waiting on {obj}: its timeout{limit} ran out."
    if kind == "sem.post":
        sem = trace.state_at(index - 1).semaphores.get(str(obj)) if index else None
        if sem and sem.waiters:
            return f"{thread} posts {obj}, handing its permit straight to {sem.waiters[0]}."
        return f"{thread} posts {obj}: it now holds {_plural(f.get('value'), 'permit')} for whoever comes."
    if kind == "sem.acquire":
        if f.get("cause") is None:
            return f"{thread} takes a permit of {obj} at once, without waiting."
        return f"{thread} gets its permit of {obj}: {_woken_by(trace, f.get('cause'))}."
    if kind == "lock.wait":
        return f"{thread} must wait for lock {obj}: {f.get('holder') or 'another thread'} holds it."
    if kind == "lock.acquire":
        waited = f.get("waited_ns") or 0
        return f"{thread} gets lock {obj}" + (f" after waiting {waited / 1e3:.1f} µs." if waited else ".")
    if kind == "lock.release":
        return f"{thread} releases lock {obj}, so a thread waiting for it can have it."
    if kind == "buf.write":
        if f.get("dropped"):
            return f"{thread} sends {_plural(f.get('n'), 'byte')} into {obj}, but its reader has gone: they are dropped."
        return f"{thread} puts {_plural(f.get('n'), 'byte')} into {obj}: {f.get('fill')} of {f.get('cap')} bytes now wait to be read."
    if kind == "buf.read":
        return f"{thread} takes {_plural(f.get('n'), 'byte')} out of {obj}: {f.get('fill')} bytes are left."
    if kind == "buf.eof":
        left = f.get("fill") or 0
        after = f"once its last {_plural(left, 'byte')} are read, " if left else ""
        return f"{obj} gets its end of file: {after}its reader's next recv() will return b''."
    if kind == "meet":
        if f.get("what") == "socketpair":
            return f"socketpair() joins fd {f.get('client')} and fd {f.get('server')}: two connected ends in {thread}."
        where = f" at {f['addr']}" if f.get("addr") else ""
        return (
            f"{f.get('connect')} and {f.get('accept')} meet: connect() on fd {f.get('client')} and accept() on fd "
            f"{f.get('listener')} join up{where}, and the server gets fd {f.get('server')} for connection {f.get('conn')}."
        )
    if kind == "refused":
        return f"Nobody listens on {f.get('addr')}: {thread}'s connection on fd {obj} is refused."
    if kind == "output":
        return f"{thread} prints {f.get('line')!r}."
    if kind == "thread.start":
        parent = f", started by {f['parent']}" if f.get("parent") else ""
        return f"{thread} starts{parent}."
    if kind == "thread.exit":
        reason = f.get("reason")
        return f"{thread} ends." if reason in (None, "returned") else f"{thread} ends ({reason})."
    if kind == "thread.error":
        return f"{thread} fails: {f.get('error')}: {f.get('message')}."
    if kind in ("deadlock", "timeout"):
        waits = "; ".join(f"{t}: {w}" for t, w in (f.get("waits") or {}).items())
        if kind == "deadlock":
            return f"Deadlock: every thread is blocked and none can wake another. {waits}."
        return f"The weld ran out of time after {f.get('after')} s. Still waiting: {waits or 'nobody'}."
    if kind == "outside":
        return (
            f"{thread} is blocked outside the fake network, at {f.get('where')}: under a schedule "
            "nobody else may run meanwhile, so the weld stops."
        )
    return f"{thread}: {kind} on {obj}."


# -- the summary's short lines ------------------------------------------------------


def _args(fields: dict[str, Any]) -> str:
    plain = ("addr", "backlog", "how", "bufsize", "timeout", "option")
    return ", ".join(f"{v}" if k in plain else f"{k}={v}" for k, v in fields.items() if k != "op" and v is not None)


def describe(event: Event, trace: Trace | None = None) -> str:
    """One short line about ``event`` (the summary's wording)."""
    f = event.fields
    kind, obj = event.kind, event.obj
    if kind == "call":
        where = "" if f.get("op") == "socket" else f" on fd {obj}"
        return f"{f.get('op')}({_args(f)}){where}"
    if kind == "return":
        if "error" in f:
            code = f" [errno {f['errno']}]" if f.get("errno") is not None else ""
            return f"  {f.get('op')} raised {f['error']}{code}"
        result = f.get("result")
        if f.get("deferred"):
            return f"  {f.get('op')} done; the socket lives on until {f['deferred']} on it return"
        return f"  {f.get('op')} -> {result!r}" if result is not None else f"  {f.get('op')} done"
    if kind == "state":
        old = f.get("from")
        return f"fd {obj}: {old} -> {f.get('to')}" if old else f"fd {obj}: new socket ({f.get('to')})"
    if kind in ("cond.wait", "sem.wait"):
        timeout = f" (timeout {f['timeout']:g} s)" if f.get("timeout") is not None else ""
        return f"waits on {obj}: {f.get('for')}{timeout}"
    if kind in ("cond.wake", "sem.acquire"):
        cause = f.get("cause")
        by = ""
        if cause is not None:
            waker = trace.by_seq(cause) if trace is not None else None
            by = f" by {waker.thread} (#{cause})" if waker is not None else f" by #{cause}"
        verb = "woken" if kind == "cond.wake" else "got a permit of"
        return f"{verb} {obj}{by}" if kind == "sem.acquire" else f"woken on {obj}{by}"
    if kind in ("cond.timeout", "sem.timeout"):
        return f"gave up waiting on {obj} (timeout)"
    if kind == "cond.notify":
        return f"notifies {obj} ({f.get('n')} waiting)"
    if kind == "sem.post":
        return f"posts {obj}"
    if kind == "lock.wait":
        return f"waits for lock {obj} (held by {f.get('holder')})"
    if kind == "lock.acquire":
        return f"takes lock {obj} after {f.get('waited_ns', 0) / 1e3:.1f} µs"
    if kind == "lock.release":
        return f"releases lock {obj}"
    if kind == "buf.write":
        dropped = " (dropped: the reader has gone)" if f.get("dropped") else ""
        return f"{f.get('n')} bytes into {obj} ({f.get('fill')}/{f.get('cap')}){dropped}"
    if kind == "buf.read":
        return f"{f.get('n')} bytes out of {obj} ({f.get('fill')}/{f.get('cap')})"
    if kind == "buf.eof":
        return f"end of file on {obj}"
    if kind == "meet":
        if f.get("what") == "socketpair":
            return f"MEET socketpair: fd {f.get('client')} <-> fd {f.get('server')}"
        return (
            f"MEET {f.get('connect')} (connect, fd {f.get('client')}) and {f.get('accept')} "
            f"(accept, fd {f.get('server')}) at {f.get('addr')} via fd {f.get('listener')}"
        )
    if kind == "refused":
        return f"connection to {f.get('addr')} refused: nobody listens there"
    if kind == "output":
        return f"prints {f.get('line')!r}"
    if kind == "thread.start":
        parent = f" (started by {f['parent']})" if f.get("parent") else ""
        return f"thread starts{parent}"
    if kind == "thread.exit":
        reason = f.get("reason")
        return "thread ends" + (f" ({reason})" if reason and reason != "returned" else "")
    if kind == "thread.error":
        return f"thread fails: {f.get('error')}: {f.get('message')}"
    if kind == "deadlock":
        waits = "; ".join(f"{t}: {w}" for t, w in (f.get("waits") or {}).items())
        return f"DEADLOCK -- {waits}"
    if kind == "outside":
        return f"BLOCKED OUTSIDE the fake network -- at {f.get('where')}"
    return f"{kind} {obj} {f}"
