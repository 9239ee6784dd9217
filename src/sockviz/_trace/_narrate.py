"""``narrate()`` and ``describe()``: an event's sentence for a student, its line for a summary.

Both look the event's kind up in the table of kinds (``_kinds.py``), which
says which sentence and which line each kind gets; the words are in
``_sentences.py`` (a wait's, "recv() on fd 5 waits for alice to send", in
``_core/_events.py``, since the engine's deadlock messages use them too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._kinds import TABLE

if TYPE_CHECKING:
    from .._core._events import Event
    from ._trace import Trace

__all__ = ["describe", "narrate"]


def narrate(trace: Trace, index: int) -> str:
    """The sentence for event ``index`` of ``trace``."""
    event: Event = trace.events[index]
    row = TABLE.get(event.kind)
    if row is None:
        return f"{event.thread}: {event.kind} on {event.obj}."
    return row.sentence(trace, index, event)


def describe(event: Event, trace: Trace | None = None) -> str:
    """One short line about ``event`` (the summary's wording)."""
    row = TABLE.get(event.kind)
    if row is None:
        return f"{event.kind} {event.obj} {event.fields}"
    return row.line(event, trace)
