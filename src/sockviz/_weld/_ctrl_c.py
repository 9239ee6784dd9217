"""Ctrl-C is never lost: a latch under Python's own ``KeyboardInterrupt``.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be when
the signal arrives -- and if that is a weakref callback or a ``__del__`` run
by the garbage collector, the exception cannot propagate: it is printed as
"Exception ignored in: ..." and dropped.  An exploration of a thousand
seeded runs builds many traces, so the collector runs often: now and then
a student's Ctrl-C was ignored, and the exploration carried on.

:func:`ctrl_c_latch` watches for that for the duration of a weld or an
exploration: Python hands the dropped exception to ``sys.unraisablehook``,
which notes it instead of printing it (it is not ignored); the loops that wait
(the weld's watch, the exploration's runs) call :func:`check`, which raises
it again.  Signal handlers are left alone: a program's own, and Python's.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["check", "consumed", "ctrl_c_latch"]

_pending = False


def check() -> None:
    """Raise the ``KeyboardInterrupt`` of a Ctrl-C that was noted but dropped on its way."""
    global _pending
    if _pending:
        _pending = False
        raise KeyboardInterrupt


def consumed() -> None:
    """The interrupt arrived and is being handled: nothing is left to raise again."""
    global _pending
    _pending = False


@contextmanager
def ctrl_c_latch() -> Iterator[None]:
    """Within the block, a ``KeyboardInterrupt`` dropped in the main thread (by a weakref callback,
    a ``__del__``) is noted, not printed, and raised again by :func:`check`.  Nested blocks share
    the outer one."""
    global _pending
    before_hook = sys.unraisablehook
    if getattr(before_hook, "_sockviz_latch", False):
        yield  # a nested block: the outer one notes
        return
    main = threading.main_thread()

    def note_dropped_interrupts(unraisable: Any) -> None:
        global _pending
        if (
            isinstance(unraisable.exc_value, KeyboardInterrupt)
            and threading.current_thread() is main
        ):
            _pending = True  # not ignored: check() raises it again
            return
        before_hook(unraisable)

    note_dropped_interrupts._sockviz_latch = True  # type: ignore[attr-defined]
    _pending = False
    sys.unraisablehook = note_dropped_interrupts
    try:
        yield
    finally:
        if sys.unraisablehook is note_dropped_interrupts:
            sys.unraisablehook = before_hook
        _pending = False
