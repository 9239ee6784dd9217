"""The wait tracker: who is welded, who is parked, and whether anybody can still move.

Every wait of the fake network's primitives (:mod:`sockviz._core._sync`) is put
on the tracker's books while it lasts.  It counts the live welded threads and
those parked in *untimed* waits; when the two are equal, nobody can ever wake
anybody -- a deadlock, detected exactly, at the moment the last thread blocks.
The notifier takes a waiter off the books *when it notifies*, not when the
waiter gets to run, so a thread that was woken but has not run yet never looks
blocked.  Under a schedule the scheduler sees every wait, so it decides instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._events import words_of
from ._recorder import Recorder

if TYPE_CHECKING:
    from ._schedule import Scheduler
    from ._sync import _Waiter

__all__ = ["WaitTracker"]

_allocate_lock = threading.Lock


class WaitTracker:
    """Counts live welded threads and those parked in untimed waits.

    ``on_deadlock`` is called (from the thread that completed the deadlock,
    without any lock held) with ``{thread: what it waits for}``; the weld then
    calls :meth:`stop` to wake every parked thread with :class:`NetworkStopped`.
    """

    def __init__(self, recorder: Recorder) -> None:
        self._mutex = _allocate_lock()
        self._recorder = recorder
        self.live = 0
        self.parked: dict[_Waiter, None] = {}  # every parked waiter, timed or not
        self.blocked = 0  # parked in untimed waits
        #: Makes the exception a wait raises once the network is stopped.
        self.stopped: Callable[[], BaseException] | None = None
        self.on_deadlock: Callable[[dict[str, str]], None] | None = None
        #: Called with no arguments whenever a welded thread ends.
        self.on_exit: Callable[[], None] | None = None
        #: Called before every wait (the network re-shows readiness to select/poll there).
        self.before_wait: Callable[[], None] | None = None
        #: The weld's scheduler, when a schedule runs it: waits park there, and it detects
        #: deadlocks.
        self.sched: Scheduler | None = None

    # -- membership -------------------------------------------------------
    def enter(self) -> None:
        with self._mutex:
            self.live += 1

    def leave(self) -> None:
        with self._mutex:
            self.live -= 1
            stuck = self._stuck()
        if stuck:
            self._deadlocked(stuck)
        if self.on_exit is not None:
            self.on_exit()

    # -- parking ----------------------------------------------------------
    def _park(self, waiter: _Waiter, counted: bool) -> dict[str, str] | None:
        """Put ``waiter`` on the books; the deadlock's waits if it completes one.

        Raises the stop error instead if the network was stopped: a wait that
        begins after :meth:`stop` took its list of victims must not begin.
        """
        with self._mutex:
            if self.stopped is not None:
                raise self.stopped()
            self.parked[waiter] = None
            waiter.counted = counted
            if counted:
                self.blocked += 1
            return self._stuck()

    def _unpark(self, waiter: _Waiter) -> None:
        """Take ``waiter`` off the books (called by whoever ends the wait)."""
        with self._mutex:
            if self.parked.pop(waiter, 0) is None and waiter.counted:
                self.blocked -= 1
            waiter.counted = False

    def _stuck(self) -> dict[str, str] | None:
        # Called with the mutex held.  Under a schedule, the scheduler sees every wait: it decides.
        if (
            self.sched is None
            and self.blocked
            and self.blocked >= self.live
            and self.stopped is None
        ):
            return {w.thread: words_of(w.reason) for w in self.parked if w.counted}
        return None

    def _deadlocked(self, waits: dict[str, str]) -> None:
        if self.on_deadlock is not None:
            self.on_deadlock(waits)

    def blocked_idents(self) -> set[int]:
        """The threads parked in a wait of the fake network now, timed or not."""
        with self._mutex:
            return {w.ident for w in self.parked}

    def waiting(self) -> dict[str, str]:
        """What each parked thread waits for, right now."""
        with self._mutex:
            return {w.thread: words_of(w.reason) for w in self.parked}

    def stop(self, error: Callable[[], BaseException]) -> None:
        """Wake every parked thread; it and every later wait raises ``error()``."""
        with self._mutex:
            if self.stopped is None:
                self.stopped = error
            victims = list(self.parked)
        for waiter in victims:
            primitive = waiter.primitive
            if primitive is not None:
                primitive._abort(waiter)
        if self.sched is not None:
            self.sched.stop(error)

    def check(self) -> None:
        """Raise if the network was stopped (called before every wait); run ``before_wait``."""
        if self.stopped is not None:
            raise self.stopped()
        if self.before_wait is not None:
            self.before_wait()
