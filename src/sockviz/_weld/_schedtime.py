"""A schedule's time: scheduled threads read the logical clock and sleep in logical time.

``time.monotonic``, ``time.perf_counter``, ``time.time`` (and their ``_ns``
forms) read the weld's **logical clock** in a scheduled thread, and
``time.time()`` starts at 2000-01-01 00:00:00 UTC (:data:`EPOCH`);
``time.sleep(s)`` waits ``s`` seconds of logical time (no real time at all if
nobody else can run: the clock jumps).  Every other thread gets the real
functions.  :mod:`._schedpatch` installs them.
"""

from __future__ import annotations

import time

from .._core._schedule import Slot, current_slot
from .._errors import NetworkStopped

__all__ = ["EPOCH", "monotonic", "monotonic_ns", "sleep", "stopped", "wall_time", "wall_time_ns"]

#: ``time.time()`` at a scheduled run's logical zero: 2000-01-01T00:00:00Z.
EPOCH = 946_684_800

_real_monotonic = time.monotonic
_real_monotonic_ns = time.monotonic_ns
_real_time = time.time
_real_time_ns = time.time_ns
_real_sleep = time.sleep


def stopped(slot: Slot) -> BaseException:
    """What a scheduled thread raises when its weld has stopped it."""
    stop = slot.sched.stopped
    return stop() if stop is not None else NetworkStopped("the weld is over")


def monotonic() -> float:
    slot = current_slot()
    return _real_monotonic() if slot is None else slot.sched.now / 1e9


def monotonic_ns() -> int:
    slot = current_slot()
    return _real_monotonic_ns() if slot is None else slot.sched.now


def wall_time() -> float:
    slot = current_slot()
    return _real_time() if slot is None else EPOCH + slot.sched.now / 1e9


def wall_time_ns() -> int:
    slot = current_slot()
    return _real_time_ns() if slot is None else EPOCH * 1_000_000_000 + slot.sched.now


def sleep(seconds: float) -> None:
    slot = current_slot()
    if slot is None or isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return _real_sleep(seconds)  # not ours, or a bad argument for the real one to reject
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    sched = slot.sched
    slot.steps += 1  # a step of the program a stepper may stop at (see _weld/_stepper.py)
    slot.at = f"sleep({seconds:g})"
    if seconds == 0:
        sched.pause()
        return None
    deadline = sched.deadline(seconds)
    while not sched.park(deadline, f"sleep({seconds:g})"):
        if sched.stopped is not None:
            raise stopped(slot)
    return None
