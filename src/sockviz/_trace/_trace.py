"""``Trace``: what a run leaves behind, the one object every view reads.

A trace is the same object whether it comes from a live run (``weld``
returns one, ``net.trace`` gives the one so far) or from a file
(``sockviz.load``).  Events are stored as the recorder's plain tuples and
turned into :class:`~sockviz.Event` objects on first read.
"""

from __future__ import annotations

import itertools
import operator
import os
from collections.abc import Iterator, Sequence
from typing import Any, cast, overload

from ._events import Event, event_from_raw
from ._recorder import RawEvent

__all__ = ["Trace", "describe"]

_first = operator.itemgetter(0)

#: Event kinds the short summary leaves out (locks and bytes in detail).
_DETAIL_KINDS = frozenset({"lock.wait", "lock.acquire", "lock.release", "cond.notify", "sem.post", "buf.write", "buf.read"})


class Trace:
    """An ordered log of events, plus ``meta`` (how it was recorded)."""

    def __init__(self, raw: Sequence[RawEvent] | Sequence[Event], meta: dict[str, Any] | None = None) -> None:
        self._raw = raw
        self._events: list[Event] | None = None
        self.meta: dict[str, Any] = dict(meta or {})

    @property
    def events(self) -> list[Event]:
        """Every event, in ``seq`` order."""
        if self._events is None:
            raw = self._raw
            events: list[Event]
            if set(map(type, raw)) <= {Event}:  # loaded from a file: Events already
                events = cast(list[Event], list(raw))
            else:
                events = [e if isinstance(e, Event) else event_from_raw(e) for e in raw]
            seqs = list(map(_first, events))
            if any(map(operator.gt, seqs, itertools.islice(seqs, 1, None))):
                events.sort(key=_first)
            self._events = events
        return self._events

    def __len__(self) -> int:
        return len(self._raw)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        return self.events[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trace) and self.events == other.events

    __hash__ = None  # type: ignore[assignment]

    @property
    def threads(self) -> list[str]:
        """Thread names, in the order they first appear."""
        return list(dict.fromkeys(e.thread for e in self.events))

    def by_seq(self, seq: int) -> Event | None:
        """The event with this ``seq`` (for following ``cause`` links)."""
        events = self.events
        if 0 <= seq < len(events) and events[seq].seq == seq:
            return events[seq]
        lo, hi = 0, len(events)
        while lo < hi:
            mid = (lo + hi) // 2
            if events[mid].seq < seq:
                lo = mid + 1
            else:
                hi = mid
        return events[lo] if lo < len(events) and events[lo].seq == seq else None

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def summary(self, *, detail: bool = False) -> str:
        """A readable text timeline: one line an event.

        Lock contention and individual buffer moves are left out unless
        ``detail=True``; waits, wake-ups (with who woke whom), socket calls,
        state changes and meetings are always there.
        """
        events = self.events
        width = max((len(t) for t in self.threads), default=6)
        lines = []
        for event in events:
            if not detail and event.kind in _DETAIL_KINDS:
                continue
            ms = event.t_ns / 1e6
            lines.append(f"{ms:9.3f} ms  #{event.seq:<5} {event.thread:<{width}}  {describe(event, self)}")
        head = f"{len(events)} events, threads: {', '.join(self.threads) or '-'}"
        if self.meta.get("semantics"):
            head += f"; semantics={self.meta['semantics']}"
        return "\n".join([head, *lines])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trace as JSON Lines (``.gz`` compresses); ``sockviz.load`` reads it."""
        from ._fileio import save

        save(self, path)

    def __repr__(self) -> str:
        return f"<Trace {len(self)} events, threads={self.threads}>"


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
    return f"{kind} {obj} {f}"
