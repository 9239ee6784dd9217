"""What a schedule takes over in welded threads: time, sleep, threading, join and select.

A thread that runs under a schedule (see :mod:`sockviz._core._schedule`) must not
block in the kernel while it holds the baton -- nobody else could run to end
its wait -- and must not read the wall clock, or two runs would differ.  So,
while a scheduled weld runs, these are replaced, for scheduled threads only
(every other thread of the process gets the real thing):

* ``time.monotonic``, ``time.perf_counter``, ``time.time`` (and their
  ``_ns`` forms) read the **logical clock**; ``time.time()`` starts at
  2000-01-01 00:00:00 UTC (:data:`EPOCH`);
* ``time.sleep(s)`` waits ``s`` seconds of logical time (no real time at all
  if nobody else can run: the clock jumps);
* ``threading.Lock``, ``threading.RLock`` and ``queue.SimpleQueue`` made by a
  scheduled thread park with the scheduler when they must wait -- and so do
  ``threading.Condition``, ``Event``, ``Semaphore``, ``Barrier`` and
  ``queue.Queue``, which wait on such locks (their waiter locks are made
  by the waiting thread, so even an ``Event`` made before the weld works);
* ``Thread.join`` of a welded thread parks until that thread has ended;
* ``select.select``, ``select.poll`` objects and the ``selectors`` classes look at the descriptors
  without blocking and, if nothing is ready, park until some socket call
  has happened, then look again.

Anything else that blocks -- ``input()``, a real socket, a lock made before
the weld and held across a socket call -- blocks for real while holding the
baton; the weld notices (the thread stays asleep, using no CPU) and stops
with :class:`~sockviz.ExternalBlockError`, saying where.
"""

from __future__ import annotations

import queue
import select
import selectors
import sys
import threading
import time
from typing import Any

from ._schedlocks import allocate_lock, condition, join, rlock, simple_queue, user_lock
from ._schedselect import scheduled_poll, scheduled_selector, select_select
from ._schedtime import _real_monotonic, monotonic, monotonic_ns, sleep, wall_time, wall_time_ns

__all__ = ["install", "uninstall"]

_guard = threading.Lock()
_count = 0
_saved: list[tuple[Any, str, Any]] = []


def _replacements() -> list[tuple[Any, str, Any]]:
    patches: list[tuple[Any, str, Any]] = [
        (time, "monotonic", monotonic),
        (time, "monotonic_ns", monotonic_ns),
        (time, "perf_counter", monotonic),
        (time, "perf_counter_ns", monotonic_ns),
        (time, "time", wall_time),
        (time, "time_ns", wall_time_ns),
        (time, "sleep", sleep),
        (threading, "_allocate_lock", allocate_lock),
        (threading, "Lock", user_lock),
        (threading, "RLock", rlock),
        (threading, "Condition", condition),
        (threading.Thread, "join", join),
        (queue, "SimpleQueue", simple_queue),
        (select, "select", select_select),
        (select, "poll", scheduled_poll),
    ]
    for module_name, attribute in (
        ("threading", "_time"),
        ("queue", "time"),
        ("socketserver", "time"),
    ):
        module = sys.modules.get(module_name)
        if module is not None and getattr(module, attribute, None) is _real_monotonic:
            patches.append((module, attribute, monotonic))
    for name in (
        "SelectSelector",
        "PollSelector",
        "EpollSelector",
        "DevpollSelector",
        "KqueueSelector",
    ):
        cls = getattr(selectors, name, None)
        if cls is not None:  # set on each class, even where it inherits select()
            patches.append((cls, "select", scheduled_selector(cls.select)))
    return patches


_INHERITED = object()


def install() -> None:
    """Take over (for scheduled threads) while at least one scheduled weld runs."""
    global _count
    with _guard:
        _count += 1
        if _count > 1:
            return
        for owner, name, replacement in _replacements():
            _saved.append(
                (
                    owner,
                    name,
                    vars(owner).get(name, _INHERITED)
                    if isinstance(owner, type)
                    else getattr(owner, name),
                )
            )
            setattr(owner, name, replacement)


def uninstall() -> None:
    global _count
    with _guard:
        if _count == 0:
            return
        _count -= 1
        if _count:
            return
        for owner, name, original in reversed(_saved):
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        _saved.clear()
