"""Instrumented Lock, Condition and Semaphore, and the bookkeeping of who waits.

Theory of operation
-------------------
Every blocking wait of the fake network goes through this module, so it is
the one place that can answer three questions a teacher asks:

* **who waits, and for what** -- each wait records why, as fields: the call,
  the descriptor, what ends the wait (``until``), the other end's descriptor
  and owner, the address (a :class:`~sockviz._core._events.WaitReason`);
* **who woke whom** -- a notifier (``Condition.notify``, ``Semaphore.post``,
  ``Lock.release``) records its own event and writes that event's ``seq``
  into the waiter it wakes; the woken thread records it as ``cause``;
* **is anyone able to move at all** -- every wait is put on the books of the
  network's :class:`~sockviz._core._tracker.WaitTracker`, which detects a
  deadlock the moment the last thread blocks.

Waiting itself uses one reusable lock per thread (held while the thread is
not waiting; the notifier releases it), which is cheaper than allocating a
lock per wait as ``threading.Condition`` does.  Under a schedule the thread
parks with the scheduler instead (see :mod:`sockviz._core._scheduled`), and
the notifier unparks it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from ._events import WaitReason
from ._recorder import Recorder

if TYPE_CHECKING:
    from ._schedule import Slot
    from ._tracker import WaitTracker

__all__ = ["Condition", "Lock", "Primitives", "Semaphore"]

_allocate_lock = threading.Lock
_get_ident = threading.get_ident
_monotonic_ns = time.monotonic_ns


class _Waiter:
    """One thread's parking spot, reused for every wait the thread makes."""

    __slots__ = (
        "aborted",
        "cause",
        "counted",
        "ident",
        "lock",
        "primitive",
        "reason",
        "slot",
        "thread",
    )

    def __init__(self) -> None:
        self.lock = _allocate_lock()
        self.lock.acquire()  # held while not parked; the waker releases it
        self.ident = _get_ident()
        self.cause: int | None = None
        self.aborted = False
        self.counted = False
        self.primitive: _Primitive | None = None
        self.slot: Slot | None = None  # the thread's place in the weld's schedule, if it has one
        self.thread = ""
        self.reason: WaitReason | None = None


_local = threading.local()


def _my_waiter() -> _Waiter:
    try:
        waiter: _Waiter = _local.waiter
    except AttributeError:
        waiter = _local.waiter = _Waiter()
    return waiter


class Lock:
    """A mutual-exclusion lock that records contention.

    An uncontended ``acquire``/``release`` records nothing (it is the fast
    path every socket call takes).  When a thread has to wait it records
    ``lock.wait``; the release that lets it in records ``lock.release``, and
    the thread then records ``lock.acquire`` with how long it waited and, as
    ``cause``, the seq of that release.  ``record_all=True`` records every
    acquire and release (for lessons about locks themselves).
    """

    __slots__ = ("_last_release", "_lock", "_recorder", "_waiting", "name", "owner", "record_all")

    def __init__(self, name: str, recorder: Recorder, *, record_all: bool = False) -> None:
        self.name = name
        self._recorder = recorder
        self._lock = _allocate_lock()
        self._waiting = 0
        self._last_release: int | None = None
        self.record_all = record_all
        self.owner: str | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
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
        start = self._clock()
        try:
            got = self._wait_for_release(timeout)
        finally:
            self._waiting -= 1
        if got:
            self.owner = rec.thread_name()
            rec.emit(
                "lock.acquire", self.name,
                "waited_ns", self._clock() - start, "cause", self._last_release,
            )  # fmt: skip
        return got

    def _wait_for_release(self, timeout: float) -> bool:
        """Block until the holder releases the lock (a schedule parks instead)."""
        return self._lock.acquire(True, timeout)

    def _clock(self) -> int:
        """The clock waiting time is measured on (a schedule's is logical)."""
        return _monotonic_ns()

    def release(self) -> None:
        if self._waiting or self.record_all:
            self.owner = None
            self._last_release = self._recorder.emit("lock.release", self.name)
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<sockviz Lock {self.name!r} {'locked' if self.locked() else 'unlocked'}>"


class _Primitive:
    """What Condition and Semaphore share: a queue of parked waiters.

    ``_guard`` is the raw lock that protects ``_waiters`` (the condition's
    lock, or the semaphore's own mutex); every method here runs with it held,
    except :meth:`_abort`, which takes it.
    """

    name: str
    _guard: Any
    _recorder: Recorder
    _tracker: WaitTracker
    _waiters: deque[_Waiter]

    def _enlist(
        self, kind: str, reason: WaitReason | None, timeout: float | None
    ) -> tuple[_Waiter, dict[str, str] | None]:
        """Queue the calling thread's waiter and record ``kind`` (guard held)."""
        rec = self._recorder
        waiter = _my_waiter()
        waiter.cause = None
        waiter.primitive = self
        waiter.thread = rec.thread_name()
        waiter.reason = reason
        waiter.slot = self._slot()
        self._waiters.append(waiter)
        if reason is None:
            rec.emit(kind, self.name, "timeout", timeout)
        else:
            rec.emit(kind, self.name, *reason.fields(), "timeout", timeout)
        try:
            stuck = self._tracker._park(waiter, timeout is None)
        except BaseException:
            self._waiters.remove(waiter)
            raise
        return waiter, stuck

    def _settle(self, waiter: _Waiter, got: bool) -> bool:
        """After the wait (guard held): was the thread woken?  Raises if stopped."""
        if not got:
            try:
                self._waiters.remove(waiter)
                self._tracker._unpark(waiter)
            except ValueError:  # woken just as the time ran out: take the wake-up
                waiter.lock.acquire()
                got = True
        if waiter.aborted:
            waiter.aborted = False
            self._tracker.check()
        return got

    def _withdraw(self, waiter: _Waiter) -> bool:
        """An exception ended the wait (a signal handler's, Ctrl-C): take the waiter off every
        book, as if it had never waited (guard held).  True if it had been woken meanwhile:
        the caller passes that wake-up on, so that no notify or permit is lost."""
        try:
            self._waiters.remove(waiter)
            woken = False
        except ValueError:  # woken (or aborted) just before the exception
            woken = not waiter.aborted
        self._tracker._unpark(waiter)
        waiter.lock.acquire(False)  # held again whoever released it, ready for the next wait
        waiter.aborted = False
        return woken

    def _hand_over(self, seq: int) -> None:
        """Wake the longest waiter, telling it that event ``seq`` woke it (guard held)."""
        waiter = self._waiters.popleft()
        waiter.cause = seq
        self._tracker._unpark(waiter)
        waiter.lock.release()
        if waiter.slot is not None:
            waiter.slot.sched.unpark(waiter.slot)

    def _abort(self, waiter: _Waiter) -> None:
        guard = self._abort_guard()
        with guard:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return
            waiter.aborted = True
            self._tracker._unpark(waiter)
            waiter.lock.release()
        if waiter.slot is not None:
            waiter.slot.sched.unpark(waiter.slot)

    def _abort_guard(self) -> Any:
        return self._guard

    def _slot(self) -> Slot | None:
        """The calling thread's place in a schedule (only the scheduled primitives have one)."""
        return None

    def _park(self, waiter: _Waiter, timeout: float | None) -> bool:
        """Wait (no lock held) until a notifier releases ``waiter.lock``; False on timeout."""
        if timeout is not None and timeout <= 0:
            return False
        return waiter.lock.acquire(True, -1 if timeout is None else timeout)

    @property
    def waiting(self) -> int:
        """How many threads wait here."""
        return len(self._waiters)


class Condition(_Primitive):
    """A condition variable over a :class:`Lock`, recording who wakes whom.

    ``wait(timeout, reason=WaitReason(...))`` records ``cond.wait`` (with why
    it waits); ``notify``/``notify_all`` record ``cond.notify`` when anyone is
    waiting; the woken thread records ``cond.wake`` whose ``cause`` is that
    notify's seq.  A wait that times out records ``cond.timeout``.
    """

    def __init__(self, lock: Lock, name: str, tracker: WaitTracker) -> None:
        self.lock = lock
        self.name = name
        self._guard = lock._lock
        self._tracker = tracker
        self._recorder = lock._recorder
        self._waiters = deque()

    def __enter__(self) -> bool:
        return self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    def wait(self, timeout: float | None = None, reason: WaitReason | None = None) -> bool:
        """Wait (lock held) until notified; False if ``timeout`` ran out."""
        self._tracker.check()
        waiter, stuck = self._enlist("cond.wait", reason, timeout)
        self.lock.release()
        if stuck:
            self._tracker._deadlocked(stuck)
        try:
            got = self._park(waiter, timeout)
        except BaseException:
            self.lock.acquire()  # a wait returns holding the lock, even when interrupted
            if self._withdraw(waiter) and self._waiters:
                self.notify()  # the notify it got goes to the next waiter
            raise
        self.lock.acquire()
        if self._settle(waiter, got):
            self._recorder.emit("cond.wake", self.name, "cause", waiter.cause)
            return True
        self._recorder.emit("cond.timeout", self.name, "timeout", timeout)
        return False

    def wait_until(self, deadline: float | None, reason: WaitReason | None = None) -> bool:
        """Wait until notified or ``deadline`` (a ``time.monotonic()`` value; None: for ever)."""
        if deadline is None:
            return self.wait(None, reason)
        remaining = deadline - time.monotonic()  # looked up per call: a schedule's clock is logical
        return remaining > 0 and self.wait(remaining, reason)

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiters (lock held)."""
        if not self._waiters:
            return
        count = min(n, len(self._waiters))
        seq = self._recorder.emit("cond.notify", self.name, "n", count)
        for _ in range(count):
            self._hand_over(seq)

    def notify_all(self) -> None:
        self.notify(len(self._waiters))


class Semaphore(_Primitive):
    """A counting semaphore that hands permits straight to waiters, in order.

    ``acquire`` records ``sem.wait`` when it must wait and ``sem.acquire``
    (with ``cause``: the seq of the ``sem.post`` that handed it the permit)
    when it gets one.  This is the original's rendezvous tool: ``connect()``
    waits on one until ``accept()`` posts it.
    """

    def __init__(self, name: str, recorder: Recorder, tracker: WaitTracker, value: int = 0) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self.name = name
        self.value = value
        self._guard = _allocate_lock()
        self._recorder = recorder
        self._tracker = tracker
        self._waiters = deque()

    def acquire(self, timeout: float | None = None, reason: WaitReason | None = None) -> bool:
        """Take a permit, waiting up to ``timeout`` (None: for ever) for a post."""
        self._tracker.check()
        with self._guard:
            if self.value > 0:
                self.value -= 1
                self._recorder.emit("sem.acquire", self.name, "cause", None, "value", self.value)
                return True
            if timeout is not None and timeout <= 0:
                return False
            waiter, stuck = self._enlist("sem.wait", reason, timeout)
        if stuck:
            self._tracker._deadlocked(stuck)
        try:
            got = self._park(waiter, timeout)
        except BaseException:
            with self._guard:
                woken = self._withdraw(waiter)
            if woken:
                self.post()  # the permit it was handed goes back
            raise
        with self._guard:
            got = self._settle(waiter, got)
        if got:
            self._recorder.emit(
                "sem.acquire", self.name, "cause", waiter.cause, "value", self.value
            )
        else:
            self._recorder.emit("sem.timeout", self.name, "timeout", timeout)
        return got

    def post(self) -> None:
        """Release one permit: to the longest waiter if any, else to the count."""
        with self._guard:
            if self._waiters:
                self._hand_over(self._recorder.emit("sem.post", self.name, "value", self.value))
            else:
                self.value += 1
                self._recorder.emit("sem.post", self.name, "value", self.value)


class Primitives:
    """The engine's hook for the model: the fake network makes every lock, condition and semaphore
    through one of these, chosen once when the network is made -- these free ones, or the
    scheduled ones of :func:`sockviz._core._scheduled.primitives` -- so that no wait asks whether
    a schedule runs the weld."""

    def __init__(self, recorder: Recorder, tracker: WaitTracker) -> None:
        self.recorder = recorder
        self.tracker = tracker

    def lock(self, name: str) -> Lock:
        return Lock(name, self.recorder)

    def condition(self, lock: Lock, name: str) -> Condition:
        return Condition(lock, name, self.tracker)

    def semaphore(self, name: str, value: int = 0) -> Semaphore:
        return Semaphore(name, self.recorder, self.tracker, value)
