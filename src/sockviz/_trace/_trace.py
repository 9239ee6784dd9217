"""``Trace``: what a run leaves behind, the one object every view reads.

A trace is the same object whether it comes from a live run (``weld``
returns one; in a ``with sockviz.fake_network() as weld:`` block,
``weld.trace`` gives the one so far) or from a file (``sockviz.load``).
Events are stored as the recorder's plain tuples and turned into
:class:`~sockviz.lowlevel.Event` objects on first read.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import operator
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast, overload

from .._core._events import Event, event_from_raw
from .._core._recorder import RawEvent, RecordedEvents
from ._analysis import Meeting, SocketLife, Wait, is_internal, meetings, sockets, waits
from ._narrate import describe, narrate

if TYPE_CHECKING:
    from ._world import World, WorldIndex

__all__ = ["Trace"]

_first = operator.itemgetter(0)
_thread_of = operator.itemgetter(2)

#: Event kinds the short summary leaves out (locks and bytes in detail).
_DETAIL_KINDS = frozenset(
    {
        "lock.wait",
        "lock.acquire",
        "lock.release",
        "cond.notify",
        "sem.post",
        "buf.write",
        "buf.read",
    }
)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The garbage collector paused: building many small objects that hold no cycles (a million
    events, their analysis) would otherwise trigger it hundreds of times, each walking them all."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Trace:
    """An ordered log of events, plus ``meta`` (how it was recorded)."""

    def __init__(
        self, raw: Sequence[RawEvent] | Sequence[Event], meta: dict[str, Any] | None = None
    ) -> None:
        self._raw = raw
        self._events: list[Event] | None = None
        self._cache: dict[str, Any] = {}  # analysis results, computed once
        self.meta: dict[str, Any] = dict(meta or {})
        #: the trace this one was filtered from (by_seq looks there for an event left out)
        self._whole: Trace | None = None

    @property
    def events(self) -> list[Event]:
        """Every event, in ``seq`` order."""
        if self._events is None:
            raw = self._raw
            events: list[Event]
            with gc_paused():  # (a dict per event: a million would set off dozens of collections)
                if isinstance(raw, RecordedEvents):  # a weld's: read straight from its flat list
                    events = raw.as_events()
                elif isinstance(raw, list) and set(map(type, raw)) <= {Event}:  # (from a file)
                    events = cast(list[Event], list(raw))
                else:
                    events = [e if isinstance(e, Event) else event_from_raw(e) for e in raw]
            seqs = list(map(_first, events))
            if any(map(operator.gt, seqs, itertools.islice(seqs, 1, None))):
                events.sort(key=_first)
            # the recorder's tuples go: a trace holds each event once (about 200 bytes an event
            # less)
            self._events = self._raw = events
        return self._events

    def __len__(self) -> int:
        return len(self._raw)

    def _recorded(self) -> RecordedEvents | None:
        """The recorder's events, as a weld left them, if nobody has read them yet."""
        return self._raw if self._events is None and isinstance(self._raw, RecordedEvents) else None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (sent back by an exploration's worker): the recorded events and ``meta``; the
        Event objects and the analyses are made again on first use."""
        return {**self.__dict__, "_events": None, "_cache": {}}

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
        if "threads" not in self._cache:
            self._cache["threads"] = list(dict.fromkeys(map(_thread_of, self.events)))
        return list(self._cache["threads"])

    def fingerprint(self) -> str:
        """A short hash of what happened: every event's thread, kind, object and fields, in order.

        Timestamps are left out, so two runs with the same fingerprint did the
        same things in the same order -- the test of a deterministic schedule
        (``weld(..., schedule=Seeded(7))`` twice gives one fingerprint).
        """
        digest = hashlib.blake2b(digest_size=8)
        for event in self.events:
            fields = sorted(
                (name, repr(value)) for name, value in event.fields.items() if name != "traceback"
            )
            digest.update(repr((event.thread, event.kind, event.obj, fields)).encode())
        return digest.hexdigest()

    def by_seq(self, seq: int) -> Event | None:
        """The event with this ``seq`` (for following ``cause`` links; in a filtered trace, also
        one the filter left out)."""
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
        if lo < len(events) and events[lo].seq == seq:
            return events[lo]
        return self._whole.by_seq(seq) if self._whole is not None else None

    def of_kind(self, *kinds: str) -> list[Event]:
        """The events of these kinds, in order."""
        return [e for e in self.events if e.kind in kinds]

    # -- analysis (see _analysis.py and _world.py) ------------------------------
    def _cached(self, name: str, make: Any) -> Any:
        if name not in self._cache:
            with gc_paused():  # (a million events: the collector would walk them again and again)
                self._cache[name] = make()
        return self._cache[name]

    def sockets(self) -> list[SocketLife]:
        """Every socket: fd, owner thread, addresses, connection and mode history."""
        return list(self._cached("sockets", lambda: sockets(self.events)))

    def waits(self, *, internals: bool = False) -> list[Wait]:
        """Every interval a thread spent blocked: on what, for what, and who woke it.

        A wait for the network's own lock ``net`` (the simulator's bookkeeping, the original's
        bind lock) is left out unless ``internals=True``; a program's own locks are in.
        """
        found: list[Wait] = self._cached("waits", lambda: waits(self.events))
        return list(found) if internals else [w for w in found if not is_internal(w)]

    def meetings(self) -> list[Meeting]:
        """Every rendezvous (connect/accept, socketpair): both threads, all fds, who came when."""
        return list(self._cached("meetings", lambda: meetings(self.events)))

    def _by_seq(self) -> dict[int, Event]:
        return cast(
            dict[int, Event], self._cached("by_seq", lambda: {e.seq: e for e in self.events})
        )

    def _world_index(self) -> WorldIndex:
        from ._world import WorldIndex

        return cast("WorldIndex", self._cached("world", lambda: WorldIndex(self.events)))

    def state_at(self, index: int) -> World:
        """The world just after event ``index``: sockets, buffers, locks, semaphores, threads.

        The first call replays the trace once, keeping checkpoints; after
        that any ``index`` is answered from the nearest checkpoint, in well
        under a millisecond.  Negative indexes count from the end.
        """
        return self._world_index().state_at(index)

    def narrate(self, index: int) -> str:
        """One plain-English sentence about event ``index``, for a student."""
        return narrate(self, index)

    def filter(
        self,
        *,
        threads: str | Iterable[str] | None = None,
        kinds: str | Iterable[str] | None = None,
        window: tuple[float | None, float | None] | None = None,
    ) -> Trace:
        """A trace of the events that pass every filter given.

        ``threads``: names, where a component's name takes its child threads
        too (``"server"`` keeps ``server/handler1``); ``kinds``: event kinds,
        where a family name takes the family (``"lock"`` keeps ``lock.wait``,
        ``lock.acquire``, ``lock.release``); ``window``: ``(start, end)`` in
        milliseconds since the trace began, either end None for open.
        Events keep their ``seq``, so ``cause`` links still point right.
        """
        keep_threads = _names(threads)
        keep_kinds = _names(kinds)
        start_ns = end_ns = None
        if window is not None:
            start, end = window
            start_ns = None if start is None else start * 1e6
            end_ns = None if end is None else end * 1e6
        chosen = []
        for event in self.events:
            if keep_threads is not None and not (
                event.thread in keep_threads or event.thread.split("/", 1)[0] in keep_threads
            ):
                continue
            if keep_kinds is not None and not (
                event.kind in keep_kinds or event.kind.split(".", 1)[0] in keep_kinds
            ):
                continue
            if (start_ns is not None and event.t_ns < start_ns) or (
                end_ns is not None and event.t_ns > end_ns
            ):
                continue
            chosen.append(event)
        meta = dict(self.meta)
        meta["filtered"] = {
            "threads": sorted(keep_threads or []) or None,
            "kinds": sorted(keep_kinds or []) or None,
            "window": window,
        }
        return Trace(chosen, meta)

    # -- exports (see _export.py) ---------------------------------------------------
    def to_pandas(self, what: str = "events") -> Any:
        """A pandas DataFrame: one row per event, fields as columns (or ``"waits"``, ``"meetings"``,
        ``"sockets"``)."""
        from ._export import to_pandas

        return to_pandas(self, what)

    def to_csv(self, path: str | os.PathLike[str], what: str = "events") -> None:
        """The rows of :meth:`to_pandas` as a CSV file (pandas not needed)."""
        from ._export import to_csv

        to_csv(self, path, what)

    def to_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        """Write a Chrome Trace Event file: open it in ui.perfetto.dev or chrome://tracing."""
        from ._export import to_chrome_trace

        to_chrome_trace(self, path)

    def to_mermaid(self, *, components: bool = True, max_messages: int = 200) -> str:
        """A Mermaid sequence diagram of the connections and the data (JupyterLab renders it)."""
        from ._export import to_mermaid

        return to_mermaid(self, components=components, max_messages=max_messages)

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
            lines.append(
                f"{ms:9.3f} ms  #{event.seq:<5} {event.thread:<{width}}  {describe(event, self)}"
            )
        head = f"{len(events)} events, threads: {', '.join(self.threads) or '-'}"
        if self.meta.get("semantics"):
            head += f"; semantics={self.meta['semantics']}"
        schedule = self.meta.get("schedule") or {}
        if schedule.get("policy") == "seeded":
            head += f"; schedule=Seeded({schedule.get('seed')}), logical time"
        elif schedule.get("policy"):
            head += "; schedule=Scripted, logical time"
        return "\n".join([head, *lines])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trace as JSON Lines (``.gz`` compresses); ``sockviz.load`` reads it."""
        from ._fileio import save

        save(self, path)

    def __repr__(self) -> str:
        return f"<Trace {len(self)} events, threads={self.threads}>"


def _names(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)
