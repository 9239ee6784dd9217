"""The fake network's lock and waits when a schedule runs the weld.

Under a schedule (see :mod:`sockviz._schedule`) a thread must never block in
the kernel while it holds the baton: nobody else could run to release it.
So here a contended lock, and every condition or semaphore wait, *parks*
the thread with the scheduler instead, and the thread that ends the wait
unparks it.  Taking a lock is also a decision point: the schedule may let
another thread run first.  Threads outside the schedule (the one that
called ``weld``, stopping the network) take the plain path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._schedule import Scheduler, Slot, current_slot
from ._sync import Lock

if TYPE_CHECKING:
    from .._trace._recorder import Recorder

__all__ = ["ScheduledLock", "wait_on"]


def wait_on(sched: Scheduler, raw: Any, timeout: float | None, why: str) -> bool:
    """Take ``raw`` (a lock someone else releases to wake us) within ``timeout`` logical seconds."""
    if raw.acquire(False):
        return True
    if timeout is not None and timeout <= 0:
        return False
    deadline = sched.deadline(timeout)
    while True:
        if sched.park(deadline, why):
            return bool(raw.acquire(False))
        if raw.acquire(False):
            return True


class ScheduledLock(Lock):
    """A :class:`~sockviz._net._sync.Lock` whose waits go through the scheduler."""

    __slots__ = ("_parked", "_sched")

    def __init__(self, name: str, recorder: Recorder, sched: Scheduler, *, record_all: bool = False) -> None:
        super().__init__(name, recorder, record_all=record_all)
        self._sched = sched
        self._parked: list[Slot] = []

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = current_slot()
        if me is None or me.sched is not self._sched:
            return super().acquire(blocking, timeout)
        sched = self._sched
        sched.pause()
        if self._lock.acquire(False):
            if self.record_all:
                self.owner = self._recorder.thread_name()
                self._recorder.emit("lock.acquire", self.name, "waited_ns", 0, "cause", None)
            return True
        if not blocking:
            return False
        rec = self._recorder
        self._waiting += 1
        rec.emit("lock.wait", self.name, "holder", self.owner)
        start = sched.now
        deadline = sched.deadline(None if timeout < 0 else timeout)
        got = False
        try:
            while not got:
                self._parked.append(me)
                if sched.park(deadline, f"the lock {self.name}, held by {self.owner or 'another thread'}"):
                    got = self._lock.acquire(False)
                    break
                got = self._lock.acquire(False)
        finally:
            self._waiting -= 1
        if got:
            self.owner = rec.thread_name()
            rec.emit("lock.acquire", self.name, "waited_ns", sched.now - start, "cause", self._last_release)
        return got

    def release(self) -> None:
        super().release()
        if self._parked:
            parked, self._parked = self._parked, []
            for slot in parked:
                self._sched.unpark(slot)

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()
