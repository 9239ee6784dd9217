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
from collections.abc import Callable
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
    sentence = _SENTENCES.get(event.kind)
    if sentence is None:
        return f"{event.thread}: {event.kind} on {event.obj}."
    return sentence(trace, index, event)


#: One sentence-maker per event kind: ``(trace, index, event) -> str``.
Sentence = Callable[["Trace", int, "Event"], str]


def _state(trace: Trace, index: int, e: Event) -> str:
    f = e.fields
    to = f.get("to")
    meaning = MODE_MEANINGS.get(str(to), "")
    if f.get("from") is None:
        return f"fd {e.obj} of {f.get('owner') or e.thread} is born {to}: {meaning}."
    return f"fd {e.obj} of {e.thread} goes from {f.get('from')} to {to}: {meaning}."


def _notify(trace: Trace, index: int, e: Event) -> str:
    before = trace.state_at(index - 1).conditions.get(str(e.obj)) if index else None
    woken = ", ".join(before.waiters[: int(e.fields.get("n") or 0)]) if before else ""
    whom = f": {woken} can go on" if woken else ""
    return f"{e.thread} notifies {e.obj}, waking {_plural(e.fields.get('n'), 'waiting thread')}{whom}."


def _gave_up(trace: Trace, index: int, e: Event) -> str:
    timeout = e.fields.get("timeout")
    limit = f" of {timeout:g} s" if isinstance(timeout, int | float) else ""
    return f"{e.thread} gives up waiting on {e.obj}: its timeout{limit} ran out."


def _post(trace: Trace, index: int, e: Event) -> str:
    sem = trace.state_at(index - 1).semaphores.get(str(e.obj)) if index else None
    if sem and sem.waiters:
        return f"{e.thread} posts {e.obj}, handing its permit straight to {sem.waiters[0]}."
    return f"{e.thread} posts {e.obj}: it now holds {_plural(e.fields.get('value'), 'permit')} for whoever comes."


def _permit(trace: Trace, index: int, e: Event) -> str:
    if e.fields.get("cause") is None:
        return f"{e.thread} takes a permit of {e.obj} at once, without waiting."
    return f"{e.thread} gets its permit of {e.obj}: {_woken_by(trace, e.fields.get('cause'))}."


def _got_lock(trace: Trace, index: int, e: Event) -> str:
    waited = e.fields.get("waited_ns") or 0
    return f"{e.thread} gets lock {e.obj}" + (f" after waiting {waited / 1e3:.1f} µs." if waited else ".")


def _write(trace: Trace, index: int, e: Event) -> str:
    f = e.fields
    if f.get("dropped"):
        return f"{e.thread} sends {_plural(f.get('n'), 'byte')} into {e.obj}, but its reader has gone: they are dropped."
    return f"{e.thread} puts {_plural(f.get('n'), 'byte')} into {e.obj}: {f.get('fill')} of {f.get('cap')} bytes now wait to be read."


def _eof(trace: Trace, index: int, e: Event) -> str:
    left = e.fields.get("fill") or 0
    after = f"once its last {_plural(left, 'byte')} are read, " if left else ""
    return f"{e.obj} gets its end of file: {after}its reader's next recv() will return b''."


def _meet(trace: Trace, index: int, e: Event) -> str:
    f = e.fields
    if f.get("what") == "socketpair":
        return f"socketpair() joins fd {f.get('client')} and fd {f.get('server')}: two connected ends in {e.thread}."
    where = f" at {f['addr']}" if f.get("addr") else ""
    return (
        f"{f.get('connect')} and {f.get('accept')} meet: connect() on fd {f.get('client')} and accept() on fd "
        f"{f.get('listener')} join up{where}, and the server gets fd {f.get('server')} for connection {f.get('conn')}."
    )


def _start(trace: Trace, index: int, e: Event) -> str:
    parent = f", started by {e.fields['parent']}" if e.fields.get("parent") else ""
    return f"{e.thread} starts{parent}."


def _exit(trace: Trace, index: int, e: Event) -> str:
    reason = e.fields.get("reason")
    return f"{e.thread} ends." if reason in (None, "returned") else f"{e.thread} ends ({reason})."


def _stuck(trace: Trace, index: int, e: Event) -> str:
    waits = "; ".join(f"{t}: {w}" for t, w in (e.fields.get("waits") or {}).items())
    if e.kind == "deadlock":
        return f"Deadlock: every thread is blocked and none can wake another. {waits}."
    return f"The weld ran out of time after {e.fields.get('after')} s. Still waiting: {waits or 'nobody'}."


_SENTENCES: dict[str, Sentence] = {
    "call": lambda trace, index, e: _call(e.thread, e.obj, e.fields),
    "return": lambda trace, index, e: _return(e.thread, e.obj, e.fields),
    "state": _state,
    "cond.wait": lambda trace, index, e: _waiting(e.thread, str(e.fields.get("for") or ""), e.fields.get("timeout")),
    "sem.wait": lambda trace, index, e: _waiting(e.thread, str(e.fields.get("for") or ""), e.fields.get("timeout")),
    "cond.wake": lambda trace, index, e: (
        f"{e.thread} wakes up on {e.obj}: {_woken_by(trace, e.fields.get('cause'))}; it goes on with its call."
    ),
    "cond.notify": _notify,
    "cond.timeout": _gave_up,
    "sem.timeout": _gave_up,
    "sem.post": _post,
    "sem.acquire": _permit,
    "lock.wait": lambda trace, index, e: f"{e.thread} must wait for lock {e.obj}: {e.fields.get('holder') or 'another thread'} holds it.",
    "lock.acquire": _got_lock,
    "lock.release": lambda trace, index, e: f"{e.thread} releases lock {e.obj}, so a thread waiting for it can have it.",
    "buf.write": _write,
    "buf.read": lambda trace, index, e: (
        f"{e.thread} takes {_plural(e.fields.get('n'), 'byte')} out of {e.obj}: {e.fields.get('fill')} bytes are left."
    ),
    "buf.eof": _eof,
    "meet": _meet,
    "refused": lambda trace, index, e: f"Nobody listens on {e.fields.get('addr')}: {e.thread}'s connection on fd {e.obj} is refused.",
    "output": lambda trace, index, e: f"{e.thread} prints {e.fields.get('line')!r}.",
    "thread.start": _start,
    "thread.exit": _exit,
    "thread.error": lambda trace, index, e: f"{e.thread} fails: {e.fields.get('error')}: {e.fields.get('message')}.",
    "deadlock": _stuck,
    "timeout": _stuck,
    "outside": lambda trace, index, e: (
        f"{e.thread} is blocked outside the fake network, at {e.fields.get('where')}: under a schedule "
        "nobody else may run meanwhile, so the weld stops."
    ),
}


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
