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

import contextlib
import itertools
import os
import queue
import select
import selectors
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from .._core._schedule import ENDED, Slot, current_slot, take_when_released, unpark_all
from .._errors import NetworkStopped
from .._net._members import members
from . import _selectwaits

__all__ = ["EPOCH", "install", "uninstall"]

#: ``time.time()`` at a scheduled run's logical zero: 2000-01-01T00:00:00Z.
EPOCH = 946_684_800

_guard = threading.Lock()
_count = 0
_saved: list[tuple[Any, str, Any]] = []

_real_monotonic = time.monotonic
_real_monotonic_ns = time.monotonic_ns
_real_time = time.time
_real_time_ns = time.time_ns
_real_sleep = time.sleep
_real_poll = select.poll
_real_allocate_lock = threading._allocate_lock  # type: ignore[attr-defined]
_real_rlock = threading.RLock
_real_condition = threading.Condition
_real_simple_queue = queue.SimpleQueue
_real_join = threading.Thread.join
_real_select = select.select

_PLUMBING = (
    threading.__file__,
    queue.__file__,
    selectors.__file__,
    __file__,
    os.path.dirname(queue.__file__) + "/concurrent/",
)


def _stopped(slot: Slot) -> BaseException:
    stopped = slot.sched.stopped
    return stopped() if stopped is not None else NetworkStopped("the weld is over")


# -- time -------------------------------------------------------------------
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
            raise _stopped(slot)
    return None


# -- threading ----------------------------------------------------------------
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
            raise _stopped(slot)
        if timed_out:
            return None
    return _real_join(self)  # it has left the schedule: its OS thread ends in a moment


# -- select -------------------------------------------------------------------
def _scheduled_poll(
    slot: Slot,
    look: Callable[[], Any],
    ready: Callable[[Any], bool],
    timeout: float | None,
    why: str,
    waits: tuple[str, Callable[[], Iterable[int]], Callable[[Any], list[int]]] | None = None,
) -> Any:
    """Look (without blocking) until something is ready or ``timeout`` logical seconds pass.

    ``waits`` -- (the call, its descriptors, the ready ones of a result) -- records a look that
    has to wait as :mod:`._selectwaits` does in a free run."""
    sched = slot.sched
    sched.pause()
    deadline = sched.deadline(timeout)
    member = members.get(threading.get_ident()) if waits is not None else None
    asked, recorded = timeout, False
    while True:
        if sched.before_poll is not None:
            sched.before_poll()
        found = look()
        if ready(found) or timeout == 0:
            if recorded and member is not None and waits is not None:
                _selectwaits.ended(member, waits[0], waits[2](found) if ready(found) else [], asked)
            return found
        if not recorded and member is not None and waits is not None:
            why, recorded = _selectwaits.began(member, waits[0], waits[1](), asked), True
        timed_out = sched.park(deadline, why, selecting=True)
        if sched.stopped is not None:
            raise _stopped(slot)
        if timed_out:
            timeout = 0  # one last look


def _fd_numbers(objects: Any) -> list[int]:
    """The descriptor numbers of ``objects`` (ints, or objects with a ``fileno()``)."""
    numbers = []
    for obj in objects:
        try:
            numbers.append(obj if isinstance(obj, int) else int(obj.fileno()))
        except (AttributeError, OSError, ValueError):
            continue
    return numbers


def _fds(objects: Any) -> str:
    fds = []
    for obj in objects:
        try:
            fds.append(f"fd {obj if isinstance(obj, int) else obj.fileno()}")
        except (AttributeError, OSError, ValueError):
            continue
    return ", ".join(fds) or "no descriptors"


def select_select(rlist: Any, wlist: Any, xlist: Any, timeout: float | None = None) -> Any:
    slot = current_slot()
    if (
        slot is None
        or not isinstance(timeout, int | float | None)
        or (timeout is not None and timeout < 0)
    ):
        # not ours, or a bad timeout (the real one says so)
        return _real_select(rlist, wlist, xlist, timeout)

    def look() -> Any:
        return _real_select(rlist, wlist, xlist, 0)

    why = f"select() on {_fds([*rlist, *wlist, *xlist])}"
    everything = [*rlist, *wlist, *xlist]
    waits = (
        "select",
        lambda: _fd_numbers(everything),
        lambda found: _fd_numbers([*found[0], *found[1], *found[2]]),
    )
    return _scheduled_poll(slot, look, lambda found: any(found), timeout, why, waits)


def _scheduled_selector(real: Callable[..., Any]) -> Callable[..., Any]:
    def select(self: selectors.BaseSelector, timeout: float | None = None) -> Any:
        slot = current_slot()
        if slot is None:
            return real(self, timeout)
        if timeout is not None and timeout <= 0:
            # a look that waits for nothing: still a decision point (a loop of them must let others
            # run)
            timeout = 0
        why = f"{type(self).__name__}.select() on {_fds(key.fd for key in self.get_map().values())}"
        waits = (
            _selectwaits.SYSCALL_OF.get(type(self).__name__, "select"),
            lambda: [key.fd for key in self.get_map().values()],
            lambda found: [key.fd for key, _ in found],
        )
        return _scheduled_poll(slot, lambda: real(self, 0), bool, timeout, why, waits)

    select.__doc__ = real.__doc__
    return select


class ScheduledPoll(_selectwaits.RecordedPoll):
    """``select.poll()`` made by a scheduled thread: its ``poll(ms)`` looks without blocking and
    parks (the registered descriptors are kept as a free run's poll keeps them)."""

    def poll(self, timeout: float | None = None) -> list[tuple[int, int]]:
        slot = current_slot()
        if slot is None or not isinstance(timeout, int | float | None):
            return self._real.poll(timeout)
        # milliseconds; negative: for ever
        seconds = None if timeout is None or timeout < 0 else timeout / 1000
        waits = ("poll", lambda: list(self._fds), lambda found: [fd for fd, _ in found])
        found: list[tuple[int, int]] = _scheduled_poll(
            slot, lambda: self._real.poll(0), bool, seconds, f"poll() on {_fds(self._fds)}", waits
        )
        return found


def scheduled_poll() -> Any:
    """``select.poll`` for scheduled threads (others get the real object)."""
    return ScheduledPoll() if current_slot() is not None else _real_poll()


# -- installing -----------------------------------------------------------------
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
            patches.append((cls, "select", _scheduled_selector(cls.select)))
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
