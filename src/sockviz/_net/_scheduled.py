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

from typing import TYPE_CHECKING

from .._schedule import Scheduler, Slot, current_slot, take_when_released, unpark_all
from ._sync import Lock

if TYPE_CHECKING:
    from .._trace._recorder import Recorder

__all__ = ["ScheduledLock"]


class ScheduledLock(Lock):
    """A :class:`~sockviz._net._sync.Lock` whose waits go through the scheduler.

    Recording is the plain lock's; only three things differ for a thread of
    this weld's schedule: taking the lock is a decision point, a contended
    wait parks, and waiting time is read on the logical clock.
    """

    __slots__ = ("_parked", "_sched")

    def __init__(self, name: str, recorder: Recorder, sched: Scheduler, *, record_all: bool = False) -> None:
        super().__init__(name, recorder, record_all=record_all)
        self._sched = sched
        self._parked: list[Slot] = []

    def _scheduled_caller(self) -> Slot | None:
        me = current_slot()
        return me if me is not None and me.sched is self._sched else None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._scheduled_caller() is not None:
            self._sched.pause()
        return super().acquire(blocking, timeout)

    def _wait_for_release(self, timeout: float) -> bool:
        me = self._scheduled_caller()
        if me is None:
            return super()._wait_for_release(timeout)
        why = lambda: f"the lock {self.name}, held by {self.owner or 'another thread'}"  # noqa: E731 - asked at each park
        return take_when_released(self._lock, me, None if timeout < 0 else timeout, why, parked=self._parked)

    def _clock(self) -> int:
        return self._sched.now if self._scheduled_caller() is not None else super()._clock()

    def release(self) -> None:
        super().release()
        if self._parked:
            unpark_all(self._parked)

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()
