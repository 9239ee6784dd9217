"""One plain-English sentence per event, for a student following a replay; one short line for a
summary.

The sentences say who does what, and -- for waits -- why: "alice waits in
recv() on fd 5: nothing has arrived yet, so it waits for server/handler1
to send."  Which sentence and which line each kind of event gets is the
table of kinds (``_kinds.py``); the words are in ``_sentences.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._kinds import TABLE
from ._sentences import MODE_MEANINGS

if TYPE_CHECKING:
    from .._core._events import Event
    from ._trace import Trace

__all__ = ["MODE_MEANINGS", "describe", "narrate"]


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
