"""The fake network's lock and waits when a schedule runs the weld.

Under a schedule (see :mod:`sockviz._core._schedule`) a thread must never block in
the kernel while it holds the baton: nobody else could run to release it.
So here a contended lock, and every condition or semaphore wait, *parks*
the thread with the scheduler instead, and the thread that ends the wait
unparks it.  Taking a lock is also a decision point: the schedule may let
another thread run first.  Threads outside the schedule (the one that
called ``weld``, stopping the network) take the plain path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._events import WaitReason, words_of
from ._schedule import Scheduler, Slot, current_slot, take_when_released, unpark_all
from ._sync import Condition, Lock, Primitives, Semaphore, _Primitive, _Waiter

if TYPE_CHECKING:
    from ._recorder import Recorder
    from ._tracker import WaitTracker

__all__ = [
    "ScheduledCondition",
    "ScheduledLock",
    "ScheduledPrimitives",
    "ScheduledSemaphore",
    "primitives",
]


def primitives(recorder: Recorder, tracker: WaitTracker, sched: Scheduler | None) -> Primitives:
    """The primitives a fake network makes its locks and waits with: scheduled ones when a schedule
    runs the weld, else the free ones -- chosen here, once."""
    return (
        Primitives(recorder, tracker)
        if sched is None
        else ScheduledPrimitives(recorder, tracker, sched)
    )


class ScheduledPrimitives(Primitives):
    """Locks, conditions and semaphores whose waits go through ``sched``."""

    def __init__(self, recorder: Recorder, tracker: WaitTracker, sched: Scheduler) -> None:
        super().__init__(recorder, tracker)
        self.sched = sched

    def lock(self, name: str) -> Lock:
        return ScheduledLock(name, self.recorder, self.sched)

    def condition(self, lock: Lock, name: str) -> Condition:
        return ScheduledCondition(lock, name, self.tracker)

    def semaphore(self, name: str, value: int = 0) -> Semaphore:
        return ScheduledSemaphore(name, self.recorder, self.tracker, value)


class ScheduledLock(Lock):
    """A :class:`~sockviz._core._sync.Lock` whose waits go through the scheduler.

    Recording is the plain lock's; only three things differ for a thread of
    this weld's schedule: taking the lock is a decision point, a contended
    wait parks, and waiting time is read on the logical clock.
    """

    __slots__ = ("_parked", "_sched")

    def __init__(
        self, name: str, recorder: Recorder, sched: Scheduler, *, record_all: bool = False
    ) -> None:
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
        return take_when_released(
            self._lock, me, None if timeout < 0 else timeout, why, parked=self._parked
        )

    def _clock(self) -> int:
        return self._sched.now if self._scheduled_caller() is not None else super()._clock()

    def release(self) -> None:
        super().release()
        if self._parked:
            unpark_all(self._parked)

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()


class _ScheduledWaits(_Primitive):
    """What a scheduled condition or semaphore does differently: a thread of the schedule parks with
    the scheduler (the thread that ends its wait unparks it) instead of blocking in the kernel."""

    def _slot(self) -> Slot | None:
        return current_slot()

    def _park(self, waiter: _Waiter, timeout: float | None) -> bool:
        if waiter.slot is None:  # a thread outside the schedule (the weld's, stopping the network)
            return super()._park(waiter, timeout)
        return take_when_released(
            waiter.lock, waiter.slot, timeout, lambda: words_of(waiter.reason)
        )


class ScheduledCondition(_ScheduledWaits, Condition):
    """A :class:`~sockviz._core._sync.Condition` whose waits park with the scheduler."""

    def _abort_guard(self) -> Any:
        # The condition's lock may be held by a thread waiting for its turn: a scheduled thread
        # takes it the scheduled way, so that the holder can run.
        return self.lock if current_slot() is not None else self._guard


class ScheduledSemaphore(_ScheduledWaits, Semaphore):
    """A :class:`~sockviz._core._sync.Semaphore` whose waits park, and whose ``acquire`` is a
    decision point."""

    def acquire(self, timeout: float | None = None, reason: WaitReason | None = None) -> bool:
        self._tracker.check()
        slot = current_slot()
        if slot is not None:
            slot.sched.pause()  # a decision point
        return super().acquire(timeout, reason)
