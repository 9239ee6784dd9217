"""Watching a scheduled weld for threads blocked outside the fake network.

Under a schedule only the thread holding the baton runs.  If it blocks on
something the schedule does not know -- ``input()``, a real socket, a lock
made before the weld -- nobody else can run, and the weld would hang.  The
thread that called ``weld`` watches for that: when the logical clock has
not moved for :data:`OUTSIDE_AFTER` seconds of real time, the holder used
(almost) no CPU meanwhile *and* the kernel does not list it as running or
ready to run, it is asleep in the kernel, not computing.
The watcher records an ``outside`` event saying where it is, stops the
network (the other threads unwind) and the weld raises
:class:`~sockviz.ExternalBlockError`.
"""

from __future__ import annotations

import linecache
import os
import sys
import sysconfig
import threading
import time
from typing import TYPE_CHECKING, Any

from . import _ctrl_c
from ._startorder import cpu_seconds

if TYPE_CHECKING:
    from .._core._schedule import Slot
    from ._session import Weld

__all__ = ["OUTSIDE_AFTER", "watch"]

#: Real seconds the baton's holder may sleep outside the network before the weld stops.
OUTSIDE_AFTER = 1.0
_POLL = 0.05
_PATHS = sysconfig.get_paths()
_HERE = os.path.dirname(os.path.dirname(__file__))  # the sockviz package
#: Code that is not the student's: the standard library, installed packages (a Jupyter kernel's
#: input() blocks deep in ipykernel and zmq), sockviz itself.
_NOT_THEIRS = tuple(dict.fromkeys((_PATHS["stdlib"], _PATHS["purelib"], _PATHS["platlib"], _HERE)))


def _runnable_now(slot: Slot) -> bool:
    """The kernel says the thread is running or ready to (state R): not blocked, just slow."""
    try:
        with open(f"/proc/self/task/{slot.native_id}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] == b"R"
    except (OSError, IndexError):  # not Linux, or the thread is gone
        return False


def where_blocked(ident: int) -> str:
    """ "client.py:12 in ask(): name = input()": the innermost line of the thread's own code."""
    frame: Any = sys._current_frames().get(ident)
    innermost = frame
    while frame is not None and frame.f_code.co_filename.startswith(_NOT_THEIRS):
        frame = frame.f_back
    frame = frame or innermost
    if frame is None:
        return "somewhere outside Python code"
    code = frame.f_code
    line = (
        linecache.getline(code.co_filename, frame.f_lineno).split("  #")[0].strip()
    )  # the code, not its comment
    place = f"{os.path.basename(code.co_filename)}:{frame.f_lineno} in {code.co_name}()"
    return f"{place}: {line}" if line else place


def watch(session: Weld, timeout: float) -> tuple[bool, tuple[str, str] | None]:
    """Wait for the weld to finish: (finished, (thread, where) if one blocked outside)."""
    sched = session.sched
    assert sched is not None
    now = time.monotonic()
    deadline = now + timeout
    mark: tuple[Any, int] = (None, -1)
    since, cpu = now, None
    while not session.done.wait(_POLL):
        _ctrl_c.check()
        session.tick()
        now = time.monotonic()
        if now >= deadline:
            return False, None
        holder = sched.current
        if (holder, sched.now) != mark or holder is None:
            mark, since = (holder, sched.now), now
            cpu = cpu_seconds(holder.ident) if holder is not None else None
            continue
        if now - since < OUTSIDE_AFTER:
            continue
        used = cpu_seconds(holder.ident)
        if (
            cpu is not None and used is not None and used - cpu > 0.2 * (now - since)
        ) or _runnable_now(holder):
            since, cpu = now, used  # busy computing (or waiting for a CPU), not blocked: let it
            continue
        where = where_blocked(holder.ident)
        rec = session.net.recorder
        # the event goes in the blocked thread's lane
        rec.name_thread(threading.get_ident(), holder.name)
        try:
            rec.emit("outside", holder.name, "where", where, "after", round(now - since, 3))
        finally:
            rec.forget_thread(threading.get_ident())
        if sched.detach(holder):
            session.net.stop(f"{holder.name} blocked outside the fake network")
            return False, (holder.name, where)
        mark = (None, -1)
    return True, None
