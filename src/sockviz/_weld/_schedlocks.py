"""A schedule's threading: locks, conditions and joins that park with the scheduler.

``threading.Lock``, ``threading.RLock`` and ``queue.SimpleQueue`` made by a
scheduled thread park with the scheduler when they must wait -- and so do
``threading.Condition``, ``Event``, ``Semaphore``, ``Barrier`` and
``queue.Queue``, which wait on such locks (their waiter locks are made by the
waiting thread, so even an ``Event`` made before the weld works).  The locks
and conditions a program makes are named (``lock1``, ``cond1``,
``event1.cond``, ``queue1.not_empty``) and their waits and wake-ups
recorded; ``threading``'s own plumbing is not.  ``Thread.join`` of a welded
thread parks until that thread has ended.  :mod:`._schedpatch` installs them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import selectors
import sys
import threading
import weakref
from typing import Any

from .._core._schedule import ENDED, Slot, current_slot, take_when_released, unpark_all
from .._net._members import members
from ._schedtime import stopped

#: the files whose frames are sockviz's and the standard library's locking, not the program's
#: (the prefix of this folder's _sched*.py modules included)
_PLUMBING = (
    threading.__file__,
    queue.__file__,
    selectors.__file__,
    os.path.join(os.path.dirname(__file__), "_sched"),
    os.path.dirname(queue.__file__) + "/concurrent/",
)
_real_allocate_lock = threading._allocate_lock  # type: ignore[attr-defined]
_real_rlock = threading.RLock
_real_condition = threading.Condition
_real_simple_queue = queue.SimpleQueue
_real_join = threading.Thread.join


def _why_blocked(default: str) -> str:
    """ "Event.wait() at client.py:12": what the thread called, where, in its own code."""
    frame: Any = sys._getframe(2)
    api = None
    while frame is not None and frame.f_code.co_filename.startswith(_PLUMBING):
        api = frame.f_code.co_qualname
        frame = frame.f_back
    if api is not None:  # sockviz's stand-ins are called what the program called
        api = api.replace("RecordedCondition.", "Condition.")
        api = api.replace("ScheduledThreadLock.", "Lock.")
    what = f"{api}()" if api else default
    if frame is None:
        return what
    return f"{what} at {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


class ScheduledThreadLock:
    """``threading.Lock`` for scheduled threads: waiting for it parks with the scheduler.

    A lock the program made itself (``threading.Lock()``, an ``RLock``) has a name (``lock1``,
    ``rlock1``...) and records its contention as the network's locks do: ``lock.wait`` with its
    holder, the ``lock.release`` that lets a waiter in, and the waiter's ``lock.acquire`` with
    that release as its cause -- so a timeline shows who waited for whom, and two threads that
    each hold the lock the other wants are a cycle: a deadlock.  The locks ``threading`` makes
    for its own plumbing (a condition's waiter locks) have no name and record nothing.
    """

    __slots__ = ("__weakref__", "_last_release", "_lock", "_name", "_owner", "_parked", "_rec")

    def __init__(self, name: str | None = None, recorder: Any = None) -> None:
        self._lock = _real_allocate_lock()
        self._parked: list[Slot] = []
        self._name = name
        self._rec = recorder
        self._owner: str | None = None
        self._last_release: int | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        slot = current_slot()
        if slot is None:
            return bool(self._lock.acquire(blocking, timeout))
        if not blocking and timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        if timeout < 0 and timeout != -1:
            raise ValueError("timeout value must be a non-negative number")
        # Not a decision point: threading's own code takes these locks while holding others
        # (Condition.wait takes its waiter lock before releasing the condition's).
        if self._lock.acquire(False):
            if self._name is not None:
                self._owner = slot.name
            return True
        if not blocking:
            return False
        wait = None if timeout == -1 else timeout
        if self._name is None:
            why = _why_blocked("a threading lock")
            return take_when_released(
                self._lock, slot, wait, why, parked=self._parked, raise_if_stopped=True
            )
        return self._wait_recorded(slot, wait)

    def _wait_recorded(self, slot: Slot, timeout: float | None) -> bool:
        """Wait for the holder, recorded: what a deadlock report says is what the trace's wait
        says ("lock1 (held by main/a)"), so the two can be matched into a wait-for graph."""
        rec, holder = self._rec, self._owner
        rec.emit("lock.wait", self._name, "holder", holder)
        started = slot.sched.now
        why = f"{self._name} (held by {holder or 'another thread'})"
        got = take_when_released(
            self._lock, slot, timeout, why, parked=self._parked, raise_if_stopped=True
        )
        if got:
            self._owner = slot.name
            rec.emit(
                "lock.acquire", self._name,
                "waited_ns", slot.sched.now - started, "cause", self._last_release,
            )  # fmt: skip
        return got

    def release(self) -> None:
        if self._name is not None:
            self._owner = None
            if self._parked:
                self._last_release = self._rec.emit("lock.release", self._name)
        self._lock.release()
        if self._parked:
            unpark_all(self._parked)

    def locked(self) -> bool:
        return bool(self._lock.locked())

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()
        self._parked = []

    __enter__ = acquire
    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        name = f" {self._name!r}" if self._name else ""
        return f"<sockviz scheduled lock{name} {'locked' if self.locked() else 'unlocked'}>"


def allocate_lock() -> Any:
    """``threading``'s own locks (``_allocate_lock``): unnamed, not recorded."""
    return ScheduledThreadLock() if current_slot() is not None else _real_allocate_lock()


#: the synchronisation objects of ``threading`` and ``queue`` a program may make: the locks and
#: conditions they are made of are named after them (``event1.cond``, ``queue1.not_empty``)
_MADE_FOR = {"Event.__init__": "event", "Semaphore.__init__": "semaphore",
             "BoundedSemaphore.__init__": "semaphore", "Barrier.__init__": "barrier",
             "Queue.__init__": "queue", "LifoQueue.__init__": "queue",
             "PriorityQueue.__init__": "queue"}  # fmt: skip
#: a queue's conditions, in the order Queue.__init__ makes them
_QUEUE_CONDITIONS = ("not_empty", "not_full", "all_tasks_done")
_STDLIB_SYNC = (threading.__file__, queue.__file__, __file__)
_names: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()


def _user_name(kind: str) -> tuple[str, Any] | None:
    """A name for a lock or condition a welded, scheduled thread's program makes, and the weld's
    recorder: ``lock1``, ``cond2``, or, made inside an Event, Semaphore, Barrier or Queue the
    program made, ``event1.lock``, ``queue1.not_empty``.  Numbered per weld, so the same program
    gives the same names in every run.  None (not recorded) for what ``threading`` makes for its
    own use (a Thread's start event, a pool's queue)."""
    member = members.get(threading.get_ident())
    if member is None:
        return None
    frame: Any = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    plumbing = []
    while frame is not None and frame.f_code.co_filename in _STDLIB_SYNC:
        plumbing.append(frame)
        frame = frame.f_back
    books = _names.setdefault(member.net, {})
    if not plumbing:
        books[kind] = number = books.get(kind, 0) + 1
        return f"{kind}{number}", member.net.recorder
    base = _MADE_FOR.get(plumbing[-1].f_code.co_qualname)
    if len(plumbing) > 1 or base is None:
        return None
    maker = id(plumbing[-1])  # one Event.__init__ (say) makes a lock and a condition: one number
    made: tuple[int, int, list[str]] | None = books.get(("made", base))
    if made is None or made[0] != maker or kind in made[2]:
        books[base] = books.get(base, 0) + 1
        made = books[("made", base)] = (maker, books[base], [])
    part = kind
    if base == "queue" and kind == "cond":  # not_empty, not_full, all_tasks_done, in that order
        part = _QUEUE_CONDITIONS[min(sum(k in _QUEUE_CONDITIONS for k in made[2]), 2)]
    made[2].append(part)
    return f"{base}{made[1]}.{part}", member.net.recorder


def user_lock() -> Any:
    """``threading.Lock()`` in a scheduled thread: a named lock that records its contention."""
    if current_slot() is None:
        return _real_allocate_lock()
    named = _user_name("lock")
    return ScheduledThreadLock(*named) if named else ScheduledThreadLock()


def rlock(*args: Any, **kwargs: Any) -> Any:
    if current_slot() is not None:
        made = threading._PyRLock()  # type: ignore[attr-defined]  # built on allocate_lock above
        named = _user_name("rlock")
        if named is not None:
            made._block = ScheduledThreadLock(*named)
        return made
    return _real_rlock(*args, **kwargs)


class RecordedCondition(threading.Condition):
    """``threading.Condition`` made by a scheduled, welded thread: ``wait`` records ``cond.wait``
    and then ``cond.wake`` (caused by the ``cond.notify`` that chose it) or ``cond.timeout``.
    The waiting itself is CPython's (a waiter lock per wait, parked with the scheduler)."""

    def __init__(self, lock: Any = None) -> None:
        named = _user_name("cond")
        self._sv_name: str | None = named[0] if named else None
        self._sv_rec: Any = named[1] if named else None
        if lock is None:  # a condition's own RLock: named after it
            lock = threading._PyRLock()  # type: ignore[attr-defined]
            if named is not None:
                lock._block = ScheduledThreadLock(f"{named[0]}.lock", named[1])
        super().__init__(lock)
        self._sv_causes: dict[Any, int] = {}

    def wait(self, timeout: float | None = None) -> bool:
        if self._sv_name is None:
            return super().wait(timeout)
        if not self._is_owned():  # type: ignore[attr-defined]
            raise RuntimeError("cannot wait on un-acquired lock")
        waiter = allocate_lock()
        waiter.acquire()
        self._waiters.append(waiter)  # type: ignore[attr-defined]
        self._sv_rec.emit("cond.wait", self._sv_name, "timeout", timeout)
        saved_state = self._release_save()  # type: ignore[attr-defined]
        got, cut_short = False, True
        try:
            if timeout is None:
                got = bool(waiter.acquire())
            else:
                got = bool(waiter.acquire(True, timeout) if timeout > 0 else waiter.acquire(False))
            cut_short = False
            return got
        finally:
            self._acquire_restore(saved_state)  # type: ignore[attr-defined]
            cause = self._sv_causes.pop(waiter, None)
            if not got:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)  # type: ignore[attr-defined]
            # a wait cut short (the weld stopped it) records nothing: the trace reads it as stopped
            if got:
                self._sv_rec.emit("cond.wake", self._sv_name, "cause", cause)
            elif not cut_short:
                self._sv_rec.emit("cond.timeout", self._sv_name, "timeout", timeout)

    def notify(self, n: int = 1) -> None:
        if self._sv_name is not None and self._waiters:  # type: ignore[attr-defined]
            if not self._is_owned():  # type: ignore[attr-defined]
                raise RuntimeError("cannot notify on un-acquired lock")
            chosen = list(itertools.islice(self._waiters, n))  # type: ignore[attr-defined]
            seq = self._sv_rec.emit("cond.notify", self._sv_name, "n", len(chosen))
            for waiter in chosen:
                self._sv_causes[waiter] = seq
        super().notify(n)


def condition(*args: Any, **kwargs: Any) -> Any:
    """``threading.Condition`` for scheduled threads: recorded (see RecordedCondition)."""
    if current_slot() is not None and members.get(threading.get_ident()) is not None:
        return RecordedCondition(*args, **kwargs)
    return _real_condition(*args, **kwargs)


def simple_queue() -> Any:
    if current_slot() is not None:
        return queue._PySimpleQueue()  # type: ignore[attr-defined]  # waits on a Semaphore: on our locks
    return _real_simple_queue()


def join(self: threading.Thread, timeout: float | None = None) -> None:
    slot = current_slot()
    target: Slot | None = getattr(self, "_sockviz_slot", None)
    started = self._started.is_set()  # type: ignore[attr-defined]
    if slot is None or target is None or target.sched is not slot.sched or not started:
        return _real_join(self, timeout)
    if self is threading.current_thread():
        raise RuntimeError("cannot join current thread")
    sched = slot.sched
    sched.pause()
    deadline = sched.deadline(None if timeout is None else max(timeout, 0))
    while target.state is not ENDED:
        target.joiners.append(slot)
        timed_out = sched.park(
            deadline,
            f"{target.name} to end (join() at {_why_blocked('join()').rpartition(' at ')[2]})",
        )
        if target.state is ENDED:
            break
        if sched.stopped is not None:
            raise stopped(slot)
        if timed_out:
            return None
    return _real_join(self)  # it has left the schedule: its OS thread ends in a moment
