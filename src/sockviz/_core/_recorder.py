"""The recorder: the one thing the fake network knows about tracing.

Theory of operation
-------------------
Recording must cost next to nothing, because the fake network records every
socket call, every state change, every wait and every wake-up.  So the fast
path does one thing: it extends a single flat list with the event's values,
``stamp, thread, kind, obj, n, name1, value1, ... name_n, value_n``.
``list.extend`` of a tuple is one C call, so events from different threads
never interleave, and no object survives per event: nothing for the garbage
collector to walk (a tuple per event would be; one holding a dict would be
walked by every full collection -- measured here: 1.2 µs an event with dicts,
0.37 µs with tuples, 0.34 µs flat).  :class:`~sockviz.lowlevel.Event` objects are built
only when a trace is read.

``seq`` comes from one shared counter (``next()`` on an ``itertools.count``
is atomic under the GIL), so it is a total order over all threads.  ``emit``
returns it: a notifier hands that number to the thread it wakes, which
records it as ``cause`` -- the arrow "who woke whom" that the views draw.

The ``stamp`` is the clock and the seq in one int, ``clock << 32 | seq``: one
int of 36 bytes where two took 60, and a slot less (a million events: 32 MB
less).  A seq never reaches 2**32: a trace that long would need 500 GB.
"""

from __future__ import annotations

import itertools
import threading
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from ._events import Event, event_from_raw

__all__ = ["RawEvent", "RecordedEvents", "Recorder"]

_new_tuple = tuple.__new__
#: A stamp is ``clock << 32 | seq`` (see the module docstring): this takes the seq back.
_SEQ_MASK = (1 << 32) - 1

#: One event as the recorder hands it out: ``(seq, t_ns, thread, kind, obj, name1, value1, ...)``.
RawEvent = tuple[Any, ...]

_get_ident = threading.get_ident
_monotonic_ns = time.monotonic_ns
_current_thread = threading.current_thread


class Recorder:
    """Collects events, cheaply, from any number of threads.

    ``emit(kind, obj, name, value, ...)`` records one event and returns its
    seq.  It is a closure rather than a method (a closure's variables are
    faster to reach than an object's attributes), rebuilt when a ``sink`` --
    the streaming trace writer -- is attached, so the common case does not
    even test for one.  Welded threads are registered with
    :meth:`name_thread` so that recording avoids ``current_thread().name``.
    """

    __slots__ = (
        "_clock",
        "_counter",
        "_flat",
        "_names",
        "_parsed",
        "_position",
        "_sealed",
        "_sink",
        "emit",
        "limit",
        "on_limit",
        "t0_ns",
    )

    def __init__(
        self,
        clock: Callable[[], int] | None = None,
        *,
        limit: int | None = None,
        on_limit: Callable[[], None] | None = None,
    ) -> None:
        self._flat: list[Any] = []
        self._parsed: list[RawEvent] = []
        self._position = 0
        self._counter = itertools.count()
        self._names: dict[int, str] = {}
        self._sink: Callable[[RawEvent], None] | None = None
        self._sealed = False
        #: the clock events are stamped with: ``time.monotonic_ns``, or a schedule's logical clock
        self._clock = clock if clock is not None else _monotonic_ns
        self.t0_ns = 0 if clock is not None else _monotonic_ns()
        #: the number of events after which ``on_limit`` is called, once, from inside ``emit`` (it
        #: must take no lock: the emitting thread may hold any); the event is still recorded
        self.limit = limit
        self.on_limit = on_limit
        self.emit = self._make_emit()

    def _make_emit(self) -> Callable[..., int]:
        extend = self._flat.extend
        next_seq = self._counter.__next__
        name_of = self._names.get
        t0 = self.t0_ns
        sink = self._sink
        clock, ident, current = self._clock, _get_ident, _current_thread
        limit = self.limit if self.limit is not None and self.on_limit is not None else -1
        on_limit = self.on_limit

        if sink is None:

            def emit(kind: str, obj: Any, *fields: Any) -> int:
                """Record one event; ``fields`` alternate names and values."""
                seq = next_seq()
                if seq == limit:
                    on_limit()  # type: ignore[misc]
                name = name_of(ident())
                # The raw clock: t0 is subtracted when the events are read.
                head = (
                    clock() << 32 | seq,
                    name if name is not None else current().name,
                    kind,
                    obj,
                    len(fields),
                )
                extend(head + fields)
                return seq

        else:

            def emit(kind: str, obj: Any, *fields: Any) -> int:
                """Record one event, and hand it to the sink."""
                seq = next_seq()
                if seq == limit:
                    on_limit()  # type: ignore[misc]
                name = name_of(ident())
                now = clock()
                head = (now << 32 | seq, name if name is not None else current().name, kind, obj)
                extend(head + (len(fields),) + fields)  # noqa: RUF005
                sink((seq, now - t0, *head[1:], *fields))
                return seq

        return emit

    @property
    def events(self) -> list[RawEvent]:
        """Every event so far as ``(seq, t_ns, thread, kind, obj, name1, value1, ...)``.

        Parsed from the flat list on demand, picking up where the last read
        stopped; safe to call while threads are still recording.
        """
        # No lock: a reader interrupted inside a ``with lock:`` (a second Ctrl-C at the wrong
        # bytecode, bpo-29988) could leave it held, and the next read -- last_trace() -- would hang
        # the notebook.
        flat, parsed, start = self._flat, self._parsed, self._position
        end = len(flat)  # extend is atomic: whole events only
        new = list(RecordedEvents([], flat, start, end, self.t0_ns))
        # (another reader may have published meanwhile)
        if self._position == start and self._parsed is parsed:
            # an exception while parsing (Ctrl-C) loses nothing: both are published at the end
            parsed.extend(new)
            self._position = end
        return parsed

    @property
    def sink(self) -> Callable[[RawEvent], None] | None:
        """Called with every event when set (the streaming trace writer)."""
        return self._sink

    @sink.setter
    def sink(self, sink: Callable[[RawEvent], None] | None) -> None:
        self._sink = sink
        self.emit = self._make_emit()

    def seal(self) -> None:
        """Record nothing more (the weld is over): ``emit`` still numbers events, and drops them.

        A thread left running after its weld -- stopped at its next line, or
        parked -- unwinds without adding to a trace already handed out, or to
        memory.  The sink, if any, is let go.
        """
        next_seq = self._counter.__next__

        def emit(kind: str, obj: Any, *fields: Any) -> int:
            return next_seq()

        self._sink = None
        self.emit = emit
        self._sealed = True

    @property
    def sealed(self) -> bool:
        """Has :meth:`seal` been called (nothing more is recorded)?"""
        return self._sealed

    def finished(self) -> RecordedEvents:
        """Every event so far, read from the flat list as they are asked for: what a finished
        weld's trace holds (no tuple per event until somebody reads them)."""
        return RecordedEvents(self._parsed, self._flat, self._position, len(self._flat), self.t0_ns)

    def release(self) -> None:
        """Let go of every event (the weld's :class:`Trace` holds the list :attr:`events` gave it,
        so a big trace is freed as soon as the student drops it)."""
        self._flat, self._parsed, self._position = [], [], 0

    def name_thread(self, ident: int, name: str) -> None:
        """Record events of thread ``ident`` under ``name``."""
        self._names[ident] = name

    def forget_thread(self, ident: int) -> None:
        self._names.pop(ident, None)

    def thread_name(self) -> str:
        """The trace name of the calling thread."""
        name = self._names.get(_get_ident())
        return name if name is not None else _current_thread().name

    def last_seq(self) -> int:
        """The seq of the last event recorded (-1: none yet), without taking a new one."""
        return int(repr(self._counter)[6:-1]) - 1  # "count(57)": the next seq is 57

    def __len__(self) -> int:
        return len(self.events)


class RecordedEvents(Sequence[RawEvent]):
    """A finished weld's events: the recorder's flat list, read as ``RawEvent`` tuples on demand.

    A trace of a million events then holds each as a few slots of one list
    (about 125 bytes an event) rather than as a tuple of its own (about 200);
    the tuples are made while the :class:`~sockviz.lowlevel.Event` objects are
    built, and dropped with this sequence.
    """

    __slots__ = ("_end", "_flat", "_len", "_parsed", "_start", "_starts", "_t0")

    def __init__(self, parsed: list[RawEvent], flat: list[Any], start: int, end: int, t0: int):
        self._parsed, self._flat, self._start, self._end, self._t0 = parsed, flat, start, end, t0
        self._len: int | None = None
        self._starts: array[int] | None = None

    def __iter__(self) -> Iterator[RawEvent]:
        yield from self._parsed
        flat, t0, position, end = self._flat, self._t0, self._start, self._end
        while position < end:
            stop = position + 5 + flat[position + 4]
            stamp, thread, kind, obj = flat[position : position + 4]
            yield (stamp & _SEQ_MASK, (stamp >> 32) - t0, thread, kind, obj,
                   *flat[position + 5 : stop])  # fmt: skip
            position = stop

    def as_events(self) -> list[Event]:
        """Every event as an :class:`~sockviz.lowlevel.Event`, made straight from the flat list
        (no tuple in between: a million events in about a second rather than 1.7)."""
        events = [event_from_raw(raw) for raw in self._parsed]
        append, new = events.append, _new_tuple
        flat, t0, position, end = self._flat, self._t0, self._start, self._end
        while position < end:
            stop = position + 5 + flat[position + 4]
            stamp, thread, kind, obj = flat[position : position + 4]
            fields = flat[position + 5 : stop]
            append(new(Event, (stamp & _SEQ_MASK, (stamp >> 32) - t0, thread, kind, obj,
                               dict(zip(fields[::2], fields[1::2], strict=True)))))  # fmt: skip
            position = stop
        return events

    def rows(
        self,
        row: Callable[..., Any],
        fields_maker: Callable[[tuple[Any, ...]], Callable[..., Any]],
        every: int = 4096,
    ) -> Iterator[list[Any]]:
        """Every event as ``row(seq, t_ns, thread, kind, obj, fields)``, ``every`` events a list,
        where ``fields`` is ``fields_maker(names)(*values)``: what a file writer wants, made
        straight from the flat list (no dict, no tuple, no :class:`~sockviz.lowlevel.Event` in
        between).

        ``fields_maker`` is asked once per set of field names (a kind has one or two), so it can
        make a class for it.  Lists of a few thousand rows, written and dropped one after the
        other, stay in the processor's cache: a million events go 20% faster than in one list.
        """
        makers: dict[tuple[Any, ...], Callable[..., Any]] = {}
        maker_for = makers.get
        rows: list[Any] = []
        append = rows.append
        for raw in self._parsed:
            names = raw[5::2]
            make = maker_for(names) or makers.setdefault(names, fields_maker(names))
            append(row(*raw[:5], make(*raw[6::2])))
        flat, t0, position, end = self._flat, self._t0, self._start, self._end
        while position < end:
            stop = position + 5 + flat[position + 4]
            stamp, thread, kind, obj = flat[position : position + 4]
            names = tuple(flat[position + 5 : stop : 2])
            make = maker_for(names) or makers.setdefault(names, fields_maker(names))
            fields = make(*flat[position + 6 : stop : 2])
            append(row(stamp & _SEQ_MASK, (stamp >> 32) - t0, thread, kind, obj, fields))
            position = stop
            if len(rows) >= every:
                yield rows
                rows = []
                append = rows.append
        if rows:
            yield rows

    def _index(self) -> array[int]:
        """Where each flat event starts (made on the first lookup by index)."""
        if self._starts is None:
            flat, position, end = self._flat, self._start, self._end
            starts = array("I" if end < 1 << 32 else "q")  # (4 bytes an event)
            while position < end:
                starts.append(position)
                position += 5 + flat[position + 4]
            self._starts = starts
        return self._starts

    def __len__(self) -> int:
        if self._len is None:
            self._len = len(self._parsed) + len(self._index())
        return self._len

    @overload
    def __getitem__(self, index: int) -> RawEvent: ...
    @overload
    def __getitem__(self, index: slice) -> list[RawEvent]: ...
    def __getitem__(self, index: int | slice) -> RawEvent | list[RawEvent]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("event index out of range")
        if index < len(self._parsed):
            return self._parsed[index]
        position = self._index()[index - len(self._parsed)]
        flat = self._flat
        stamp, thread, kind, obj = flat[position : position + 4]
        return (stamp & _SEQ_MASK, (stamp >> 32) - self._t0, thread, kind, obj,
                *flat[position + 5 : position + 5 + flat[position + 4]])  # fmt: skip

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))  # (pickled as the plain list of tuples it reads as)
