"""Deterministic runs: a baton that lets exactly one welded thread run at a time.

Theory of operation
-------------------
The original weldr made its runs reproducible by modelling every thread in a
single real thread.  sockviz keeps real threads -- the components are
ordinary Python code that calls ``socket`` and ``threading`` -- but, when a
weld is given a schedule, only the thread holding the **baton** may run:

* every other welded thread waits on its own **gate** (a raw lock the
  scheduler releases to hand it the baton);
* the holder gives the baton away only at the fake network's instrumented
  points -- taking a lock, waiting on a condition or semaphore, posting a
  semaphore (every socket call does at least one), and the ``threading``,
  ``time.sleep`` and ``select`` calls a schedule takes over (see
  :mod:`sockviz._weld._schedpatch`).  Each such point is a **decision**: the
  schedule picks the next thread among the runnable ones;
* a thread that must wait **parks**: it leaves the runnable set and hands
  the baton on.  Whoever makes its wait end (a notify, a post, a release, the
  end of a thread it joins) **unparks** it, which puts it back in the
  runnable set there and then -- so what may run next depends only on what
  has run so far, never on how fast the operating system woke a thread.

Time is **logical**: every recorded event is one tick (:data:`TICK_NS`, one
microsecond of trace time), and a timeout or a ``sleep`` ends when the
logical clock reaches its deadline.  When no thread is runnable but some
wait with a deadline, the clock jumps to the nearest one -- a seeded run
never really sleeps.  When no thread is runnable and none has a deadline,
nobody can ever wake anybody: that is a deadlock, detected exactly.

The choice itself is the **policy's** (:class:`Schedule`; the policies are in
:mod:`sockviz._weld._policies`): ``Seeded`` draws it from a
seeded random generator (same seed, same run), ``Scripted`` follows a
list of thread names or a function (``Scripted(["client", "server"])``:
the client runs until it must wait, then the server, and so on).
"""

from __future__ import annotations

import bisect
import heapq
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DETACHED",
    "ENDED",
    "TICK_NS",
    "Chooser",
    "Schedule",
    "Scheduler",
    "Slot",
    "current_slot",
    "take_when_released",
    "unpark_all",
]

#: Logical nanoseconds per recorded event in a scheduled weld (one microsecond).
TICK_NS = 1_000

_allocate_lock = threading.Lock
_local = threading.local()

# Slot states
RUNNABLE, PARKED, ENDED, DETACHED = "runnable", "parked", "ended", "detached"


#: A policy's answer to the one question the scheduler asks: (the runnable slots in start order, the
#: slot that reached the decision or None, decisions so far, logical now in ns) -> the slot to run.
Chooser = Callable[[list["Slot"], "Slot | None", int, int], "Slot"]


class Schedule(ABC):
    """A policy that picks which welded thread runs next (sockviz.Seeded, sockviz.Scripted).

    ``chooser()`` makes a fresh :data:`Chooser` for each run, so that one
    policy object gives the same run every time; ``describe()`` is what the
    trace's header records of it.
    """

    @abstractmethod
    def chooser(self) -> Chooser: ...

    @abstractmethod
    def describe(self) -> dict[str, Any]: ...

    def attach(self, scheduler: Scheduler, recorder: Any) -> None:  # noqa: B027 - optional
        """A run's scheduler and recorder are made, no thread has started: a policy that watches
        the run (the stepper's) takes them here.  Nothing by default."""


def current_slot() -> Slot | None:
    """The calling thread's slot when it runs under a schedule (and is not in passthrough), else
    None."""
    slot: Slot | None = getattr(_local, "slot", None)
    return None if slot is None or slot.passthrough else slot


class Slot:
    """One scheduled thread: its gate, whether it can run, and why it waits."""

    __slots__ = (
        "at",
        "gate",
        "ident",
        "joiners",
        "name",
        "native_id",
        "order",
        "park_no",
        "passthrough",
        "pending",
        "sched",
        "state",
        "steps",
        "timed_out",
        "why",
    )

    def __init__(self, sched: Scheduler, name: str, order: int) -> None:
        self.sched = sched
        self.name = name
        self.order = order
        self.gate = _allocate_lock()
        self.gate.acquire()  # locked: the scheduler releases it to hand over the baton
        self.state = RUNNABLE
        self.why = ""
        self.timed_out = False
        self.pending = False
        self.park_no = 0
        self.joiners: list[Slot] = []
        self.ident = 0  # the thread's ident, once it runs
        self.native_id = 0  # and the kernel's id for it
        #: while set, threading calls of this thread block for real (Thread.start's handshake)
        self.passthrough = False
        #: the program steps it has reached that are not socket calls (a time.sleep: where a
        #: stepper may also stop it), and the last of them ("sleep(0)")
        self.steps = 0
        self.at = ""

    def __repr__(self) -> str:
        return f"<Slot {self.name} {self.state}>"


def _order(slot: Slot) -> int:
    return slot.order


@dataclass
class _Stats:
    decisions: int = 0
    switches: int = 0
    jumps: int = 0
    policy_errors: list[str] = field(default_factory=list)


class Scheduler:
    """The baton of one scheduled weld (see the module's docstring).

    Every method that gives the baton away takes the scheduler's mutex only
    to update the books and choose; the waiting itself happens on the
    caller's gate, without the mutex.
    """

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self._choose = schedule.chooser()
        self._mutex = _allocate_lock()
        #: the logical clock, in ns
        self.now = 0
        self.slots: list[Slot] = []
        self._runnable: list[Slot] = []  # in start order; the running thread included
        self._timers: list[tuple[int, int, int, Slot]] = []  # (deadline, order, park_no, slot)
        #: the thread holding the baton (None: nobody -- not started, idle or finished)
        self.current: Slot | None = None
        self.stats = _Stats()
        #: set by stop(): makes the exception scheduled waits raise from now on
        self.stopped: Callable[[], BaseException] | None = None
        #: called, without the mutex, with {thread: what it waits for} when nobody can run
        self.on_deadlock: Callable[[dict[str, str]], None] | None = None
        #: called before select() looks at descriptors (the network re-shows readiness)
        self.before_poll: Callable[[], None] | None = None
        #: threads parked in select(): any socket activity unparks them to look again
        self.selecting: list[Slot] = []
        #: stops the run's network with a reason (the weld sets it): what halt() calls
        self.stop_run: Callable[[str], None] | None = None
        self._halting: str | None = None  # halt()'s reason, until a thread acts on it

    # -- the clock ----------------------------------------------------------
    def tick(self) -> int:
        """One event: the clock moves one tick (the recorder's clock)."""
        self.now += TICK_NS
        return self.now

    def deadline(self, timeout: float | None) -> int | None:
        """The logical deadline ``timeout`` seconds from now (None: none)."""
        return None if timeout is None else self.now + max(0, round(timeout * 1e9))

    # -- threads ------------------------------------------------------------
    def register(self, name: str) -> Slot:
        """A thread is starting: it can run from now on (called by whoever starts it)."""
        with self._mutex:
            slot = Slot(self, name, len(self.slots))
            self.slots.append(slot)
            self._runnable.append(slot)
            return slot

    def begin(self) -> None:
        """Hand the baton to the first thread (called once every component is registered)."""
        with self._mutex:
            if self.current is None and self._runnable:
                self._give(self._pick(None))

    def arrive(self, slot: Slot) -> None:
        """In the new thread itself: wait for the baton before running anything."""
        _local.slot = slot
        slot.ident = threading.get_ident()
        slot.native_id = threading.get_native_id()
        slot.gate.acquire()
        self._act_on_halt()

    def leave(self) -> None:
        """The calling thread ends: it hands the baton on for good."""
        me: Slot = _local.slot
        self._rejoin(me)
        with self._mutex:
            me.state = ENDED
            self._runnable.remove(me)
            for joiner in me.joiners:
                self._wake(joiner)
            me.joiners.clear()
            self._wake_selectors()
            stuck = self._hand_on()
        _local.slot = None
        if stuck:
            self._deadlocked(stuck)

    # -- decisions ----------------------------------------------------------
    def pause(self) -> None:
        """A decision point: the calling thread goes on, or another runs first."""
        me: Slot = _local.slot
        if me.state is DETACHED:
            self._rejoin(me)
        with self._mutex:
            self._expire()
            if len(self._runnable) == 1:
                return
            chosen = self._pick(me)
            if chosen is not me:
                self._give(chosen)
        if chosen is not me:
            me.gate.acquire()
        self._act_on_halt()

    def park(self, deadline: int | None, why: str, *, selecting: bool = False) -> bool:
        """Wait until unparked or the clock reaches ``deadline``; True if the time ran out.

        Callers re-check what they wait for and park again if need be: a
        wake-up can come early (a select() looks again after every socket call).
        """
        me: Slot = _local.slot
        self._rejoin(me)
        with self._mutex:
            if me.pending:
                me.pending = False
                return False
            if deadline is not None and deadline <= self.now:
                return True
            me.state = PARKED
            me.why = why
            me.timed_out = False
            me.park_no += 1
            self._runnable.remove(me)
            if deadline is not None:
                heapq.heappush(self._timers, (deadline, me.order, me.park_no, me))
            if selecting:
                self.selecting.append(me)
            stuck = self._hand_on()
        if stuck:
            # parked, yet it reports the deadlock: it acts as an outsider meanwhile
            me.passthrough = True
            try:
                self._deadlocked(stuck)
            finally:
                me.passthrough = False
        me.gate.acquire()
        self._act_on_halt()
        return me.timed_out

    def unpark(self, slot: Slot) -> None:
        """Make ``slot`` runnable again (from any thread)."""
        with self._mutex:
            if slot.state is PARKED:
                self._wake(slot)
                if self.current is None:
                    self._give(self._pick(None))
            elif slot.state is RUNNABLE:
                slot.pending = True

    def wake_selectors(self) -> None:
        """Socket activity: threads waiting in select() look again."""
        if self.selecting:
            with self._mutex:
                self._wake_selectors()

    def stop(self, error: Callable[[], BaseException]) -> None:
        """From now on scheduled waits raise ``error()``; wake every parked thread."""
        with self._mutex:
            if self.stopped is None:
                self.stopped = error
            for slot in self.slots:
                if slot.state is PARKED:
                    self._wake(slot)
            if self.current is None and self._runnable:
                self._give(self._pick(None))

    def detach(self, slot: Slot) -> bool:
        """``slot`` holds the baton but is blocked outside the network: run the others.

        It takes its turn again, as a runnable thread, when it comes back to a
        decision point.  False if it had moved on meanwhile.
        """
        with self._mutex:
            if self.current is not slot or slot.state is not RUNNABLE:
                return False
            slot.state = DETACHED
            self._runnable.remove(slot)
            stuck = self._hand_on()
        if stuck:
            self._deadlocked(stuck)
        return True

    def halt(self, reason: str) -> None:
        """End the run at this decision: the thread given the baton stops the run's network
        (``stop_run``) before it does anything else, so nothing the components do is recorded
        before the stop.  Called by a policy's chooser, the mutex held (the stepper pauses a run
        this way)."""
        self._halting = reason

    def _act_on_halt(self) -> None:
        reason, self._halting = self._halting, None
        if reason is not None and self.stop_run is not None:
            self.stop_run(reason)

    def waiting(self) -> dict[str, str]:
        """What each parked thread waits for, right now."""
        with self._mutex:
            return {slot.name: slot.why for slot in self.slots if slot.state is PARKED}

    # -- the books (mutex held) ---------------------------------------------
    def _rejoin(self, me: Slot) -> None:
        if me.state is not DETACHED:
            return
        with self._mutex:
            me.state = RUNNABLE
            bisect.insort(self._runnable, me, key=_order)
            if self.current is not None:
                me.pending = False
                waiting = True
            else:
                self.current = me
                waiting = False
        if waiting:
            me.gate.acquire()

    def _wake(self, slot: Slot) -> None:
        if slot.state is PARKED:
            slot.state = RUNNABLE
            bisect.insort(self._runnable, slot, key=_order)

    def _wake_selectors(self) -> None:
        selecting, self.selecting = self.selecting, []
        for slot in selecting:
            self._wake(slot)

    def _expire(self) -> None:
        timers = self._timers
        while timers and timers[0][0] <= self.now:
            _, _, park_no, slot = heapq.heappop(timers)
            if slot.state is PARKED and slot.park_no == park_no:
                slot.timed_out = True
                self._wake(slot)

    def _hand_on(self) -> dict[str, str] | None:
        """The baton is free: give it to the next thread; the deadlock's waits if nobody can run."""
        self._expire()
        # nobody can run: time jumps to the next deadline
        while not self._runnable and self._timers:
            self.now = max(self.now, self._timers[0][0])
            self.stats.jumps += 1
            self._expire()
        if not self._runnable:
            self.current = None
            if any(slot.state is DETACHED for slot in self.slots):
                return None  # a thread busy outside may still wake somebody
            stuck = {slot.name: slot.why for slot in self.slots if slot.state is PARKED}
            return stuck or None
        self._give(self._pick(None))
        return None

    def _pick(self, current: Slot | None) -> Slot:
        runnable = self._runnable
        self.stats.decisions += 1
        if len(runnable) == 1:
            return runnable[0]
        try:
            return self._choose(runnable, current, self.stats.decisions, self.now)
        except Exception as exc:  # noqa: BLE001 - a broken policy must not hang the weld
            self.stats.policy_errors.append(f"{type(exc).__name__}: {exc}")
            return current if current is not None else runnable[0]

    def _give(self, chosen: Slot) -> None:
        if chosen is not self.current:
            self.stats.switches += 1
        self.current = chosen
        chosen.gate.release()

    def _deadlocked(self, waits: dict[str, str]) -> None:
        if self.on_deadlock is not None and self.stopped is None:
            self.on_deadlock(waits)


def take_when_released(
    raw: Any,
    slot: Slot,
    timeout: float | None,
    why: str | Callable[[], str],
    *,
    parked: list[Slot] | None = None,
    raise_if_stopped: bool = False,
) -> bool:
    """Take the raw lock ``raw``, parking ``slot`` until someone releases it; False after
    ``timeout``.

    Every scheduled wait for a lock is this loop: the fake network's locks, the
    waiter locks its conditions and semaphores park on, and ``threading``'s
    locks.  Whoever releases ``raw`` unparks the waiter: the ones listed in
    ``parked`` (see :func:`unpark_all`), or the one its notifier knows.  A
    wake-up may come early; the loop parks again until the lock is free or
    the logical ``timeout`` (seconds; None: for ever) is over.  ``why`` (or
    what it returns, asked at each park) is what a deadlock report says the
    thread waits for.
    """
    if raw.acquire(False):
        return True
    sched = slot.sched
    deadline = sched.deadline(timeout)
    while True:
        if parked is not None:
            parked.append(slot)
        timed_out = sched.park(deadline, why if isinstance(why, str) else why())
        # Stopped first: a thread woken by the stop must unwind, not take a lock that another
        # one's unwinding has just released and run on after the alarm.
        if raise_if_stopped and sched.stopped is not None:
            raise sched.stopped()
        if raw.acquire(False):
            return True
        if timed_out:
            return False


def unpark_all(parked: list[Slot]) -> None:
    """A lock was released: every thread parked waiting for it looks again."""
    waiting = parked[:]
    parked.clear()
    for slot in waiting:
        slot.sched.unpark(slot)
