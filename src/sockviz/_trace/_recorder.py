"""The recorder: the one thing the fake network knows about tracing.

Theory of operation
-------------------
Recording must cost next to nothing, because the fake network records every
socket call, every state change, every wait and every wake-up.  So the fast
path appends one plain tuple ``(seq, t_ns, thread, kind, obj, fields)`` to a
list; :class:`~sockviz.Event` objects are built only when a trace is read.

``seq`` comes from one shared counter (``next()`` on an ``itertools.count`` is
atomic under the GIL), so it is a total order over all threads.  ``emit``
returns it: a notifier hands that number to the thread it wakes, which records
it as ``cause`` -- the arrow "who woke whom" that the views draw.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["RawEvent", "Recorder"]

#: One recorded event as stored on the fast path.
RawEvent = tuple[int, int, str, str, Any, "dict[str, Any] | None"]

_get_ident = threading.get_ident
_monotonic_ns = time.monotonic_ns
_current_thread = threading.current_thread


class Recorder:
    """Collects events as tuples, cheaply, from any number of threads.

    ``thread_names`` maps thread idents to the names the trace shows; the weld
    registers each welded thread there so that recording avoids the slower
    ``threading.current_thread().name``.
    """

    __slots__ = ("_append", "_counter", "_names", "events", "sink", "t0_ns")

    def __init__(self) -> None:
        self.events: list[RawEvent] = []
        self._append = self.events.append
        self._counter = itertools.count()
        self._names: dict[int, str] = {}
        self.t0_ns = _monotonic_ns()
        #: Called with every raw event when set (the streaming trace writer).
        self.sink: Callable[[RawEvent], None] | None = None

    def name_thread(self, ident: int, name: str) -> None:
        """Record events of thread ``ident`` under ``name``."""
        self._names[ident] = name

    def forget_thread(self, ident: int) -> None:
        self._names.pop(ident, None)

    def thread_name(self) -> str:
        """The trace name of the calling thread."""
        name = self._names.get(_get_ident())
        return name if name is not None else _current_thread().name

    def emit(self, kind: str, obj: Any, fields: dict[str, Any] | None = None) -> int:
        """Record one event and return its ``seq``."""
        seq = next(self._counter)
        name = self._names.get(_get_ident())
        event = (
            seq,
            _monotonic_ns() - self.t0_ns,
            name if name is not None else _current_thread().name,
            kind,
            obj,
            fields,
        )
        self._append(event)
        if self.sink is not None:
            self.sink(event)
        return seq

    def __len__(self) -> int:
        return len(self.events)
