"""One weld's books (:class:`Weld`): its network, its threads, their output and their end.

Theory of operation
-------------------
weldr fused several programs into one binary, each program a thread, their
sockets faked so that they met inside the process.  ``sockviz.weld()``
(``_weld.py``) does the same with Python callables, over one :class:`Weld`:
each component runs in a thread named after it, every thread it starts is
welded too, and all of them share one :class:`FakeNetwork`.  The calling
thread only watches:

* when every component thread (and every non-daemon thread they started) has
  ended, the weld stops the network -- waking any daemon leftovers, such as a
  ``serve_forever`` loop, with :class:`NetworkStopped` -- and returns the trace;
* when every live welded thread is blocked in an untimed wait of the fake
  network, the last one to block detects it, the network stops, and the weld
  raises :class:`~sockviz.DeadlockError` saying what each thread waited for;
* when ``timeout`` seconds pass first, it raises
  :class:`~sockviz.WeldTimeoutError`, trace attached.

:func:`~sockviz.fake_network` (:mod:`._interactive`) welds the *calling*
thread instead, for interactive use in a notebook.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import re
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from .._core._recorder import RawEvent
from .._core._schedule import TICK_NS, Scheduler, Slot
from .._errors import NetworkStopped
from .._net._manager import FakeNetwork, Semantics
from .._net._members import Membership, members
from .._net._modes import SocketMode
from .._trace._trace import Trace
from . import _ctrl_c, _endings, _outside, _patches, _spec, _startorder
from ._leftovers import Leftovers
from ._policies import Schedule
from ._spec import Component

__all__ = ["Weld"]

_get_ident = threading.get_ident
_DEFAULT_NAME = re.compile(r"Thread-\d+( \(.*\))?")

#: Seconds between the calling thread's looks at a running weld (is the event cap reached?).
_WATCH = 0.1
#: The default ``max_events``: about 500 MB of recording at the peak (measured: 2M events of a
#: ping-pong, 650 MB RSS).
MAX_EVENTS = 2_000_000

#: Seconds a weld waits, after stopping its network, for leftover threads to end (those in a fake
#: call end at once; one sleeping or computing outside is left running, and reported).
GRACE = 0.2

#: The most threads a weld runs at once (Linux allows a process some thousands; a lecture needs
#: fewer).
MAX_THREADS = 1000


class Weld(Leftovers):
    """One weld in progress: its fake network, its threads, its trace so far."""

    def __init__(
        self,
        how: str,
        components: list[str],
        semantics: Semantics,
        buffer_size: int,
        trace_path: str | os.PathLike[str] | None = None,
        *,
        cpu: int | None = None,
        schedule: Schedule | None = None,
        max_events: int | None = None,
    ) -> None:
        _spec.check_options(schedule, max_events)
        #: the baton, when a schedule runs the weld (see sockviz._core._schedule)
        self.sched = sched = Scheduler(schedule) if schedule is not None else None
        self.net = net = FakeNetwork(
            semantics, buffer_size, components=components, scheduler=sched, max_events=max_events
        )
        net.full_error = lambda: _endings.limit_error(self)
        self.meta = meta = _spec.meta(net, how, components)
        if sched is not None and schedule is not None:
            schedule.attach(sched, net.recorder)
            meta["schedule"] = {**sched.schedule.describe(), "clock": "logical", "tick_ns": TICK_NS}
            sched.on_deadlock = self._on_deadlock
            sched.before_poll = net.show_readiness
            sched.stop_run = net.stop
        self._thread_numbers = 0
        #: pass what welded threads print on to the real stdout/stderr (it is recorded either way)
        self.echo = True
        #: the signal handlers each component installed (kept, never called: see
        #: _patches._welded_signal)
        self.signal_handlers: dict[str, dict[int, Any]] = {}
        #: lines welded threads may still print to the screen (see _patches.MAX_ECHOED_LINES)
        self.echo_left = _patches.MAX_ECHOED_LINES
        #: a progress bar's ``advance(n)``, told of the events recorded as the weld goes on
        self.progress: Callable[[int], None] | None = None
        self._shown = 0
        #: the CPU every welded thread is kept on (None: wherever the OS likes)
        self.cpu = cpu
        self.errors: list[tuple[str, Exception]] = []
        self._mutex = threading.Lock()
        self._must_finish = 0  # components + non-daemon children still running
        #: at a timeout: each thread busy outside the network, and its line
        self.running: dict[str, str] = {}
        #: after the weld: each welded thread that was still running outside the network, and its
        #: line
        self.leftovers: dict[str, str] = {}
        #: threads that caught the stop and kept calling the network, parked for good, and their
        #: line
        self.parked: dict[str, str] = {}
        self._exits: dict[int, tuple[bool, Slot | None]] = {}  # each thread: (counted?, its slot)
        self._parked_idents: set[int] = set()
        # threads sent LeftRunning: when first, when last
        self._told: dict[int, tuple[float, float]] = {}
        # threads on their way out: nothing more is raised into them
        self._leaving: set[int] = set()
        self._final: Trace | None = None  # the trace, once the weld is over
        # components whose end does not end the weld (weld(until=...))
        self._background: set[str] = set()
        self.done = threading.Event()
        self.threads: list[threading.Thread] = []
        try:
            self._writer = _writer(trace_path, meta) if trace_path is not None else None
        except BaseException:  # e.g. the trace file cannot be written: nothing has started
            net.close()
            raise
        if self._writer is not None:
            net.recorder.sink = self._writer
        net.tracker.on_deadlock = self._on_deadlock
        net.on_refused_again = self._park_for_good
        net.on_full = self._note_where_at_limit
        #: where each welded thread was when the event limit was reached (its own line of code)
        self.where_at_limit: dict[str, str] = {}

    @property
    def trace(self) -> Trace:
        """The trace of everything recorded so far (once the weld is over, its whole trace, built
        once)."""
        if self._final is not None:
            return self._final
        return Trace(list(self.net.recorder.events), self.meta)

    def raw_events(self) -> Sequence[RawEvent]:
        """The events so far as the recorder's tuples (the whole weld's, once it is over)."""
        if self._final is None:
            return self.net.recorder.events
        if self._final._events is None:
            return self._final._raw
        return [(*event[:5], *itertools.chain.from_iterable(event.fields.items()))
                for event in self._final._events]  # fmt: skip

    def _conclude(self) -> None:
        """The weld is over: record nothing more, build its trace once, and let the recorder's copy
        go (a trace of millions of events is held once, and freed when the student drops it -- not
        when the garbage collector gets round to the weld's cycles of objects)."""
        recorder = self.net.recorder
        recorder.seal()  # from now on nothing is recorded: a leftover's unwinding is not the weld's
        # (interrupted before this line, the recorder keeps all)
        self._final = Trace(recorder.finished(), self.meta)
        recorder.release()

    @property
    def semantics(self) -> Semantics:
        return self.net.semantics

    def socket(self, family: int = -1, type: int = -1, proto: int = -1) -> Any:
        """A fake socket of this weld (what ``socket.socket()`` gives its threads)."""
        return self.net.socket(family, type, proto)

    def waiting(self) -> dict[str, str]:
        """What each blocked welded thread waits for, right now."""
        return self.net.tracker.waiting()

    def _on_deadlock(self, waits: dict[str, str]) -> None:
        # Once every component (and non-daemon child) has ended, daemon leftovers blocked for ever
        # are the end of the weld, not a deadlock: finish() stops them.
        if not self.done.is_set():
            self.net.on_deadlock(
                waits,
                lambda: _endings.deadlock_error(
                    self.net.deadlock or waits, self.trace, self.errors
                ),
            )

    # -- threads ------------------------------------------------------------
    def _count(self, delta: int, *, stop_first: bool = False) -> None:
        """Count threads the weld waits for; at zero it is done (``stop_first``: stop the network,
        then say so)."""
        with self._mutex:
            self._must_finish += delta
            over = self._must_finish <= 0
        if over:
            if stop_first:
                # Under a schedule the last one stops the leftovers here, at a point the schedule
                # fixes -- before the calling thread hears it is done and stops them too, at a
                # moment no schedule fixes.
                self.net.stop("the weld is over")
            self.done.set()

    def _slot(self, thread: threading.Thread, name: str) -> Slot | None:
        if self.sched is None:
            return None
        slot = self.sched.register(name)
        thread._sockviz_slot = slot  # type: ignore[attr-defined]
        return slot

    def spawn(
        self,
        components: list[tuple[str, Component]],
        *,
        stagger: bool = False,
        deadline: float = math.inf,
        until: frozenset[str] | None = None,
    ) -> None:
        """Start one thread per component (all counted before any starts).

        ``stagger``: start them in order, each once the threads before it have
        blocked in the network, ended or gone quiet (see :mod:`._startorder`);
        if the weld ends first (``deadline``, a stop), the rest never start.
        ``until``: the weld is over once these components are done; the others
        (and their threads) run in the background, stopped when it is over.
        """
        starting = []
        counted = 0
        for name, body in components:
            thread = threading.Thread(name=name, daemon=True)
            slot = self._slot(thread, name)
            counts = until is None or name in until
            if counts:
                counted += 1
            else:
                self._background.add(name)
            thread.run = functools.partial(self._run, name, name, body, None, counts, slot)  # type: ignore[method-assign]
            thread._sockviz_adopted = True  # type: ignore[attr-defined]
            starting.append(thread)
            self.net.tracker.enter()
        self.threads.extend(starting)
        self._count(counted)
        started = 0
        try:
            for thread in starting:
                if started and stagger and not self._settled(deadline):
                    break
                thread.start()
                started += 1
        finally:
            for thread, (name, _) in zip(starting[started:], components[started:], strict=True):
                # the weld ended (or the caller was interrupted) first: this one never runs
                self.threads.remove(thread)
                self.net.tracker.leave()
                if name not in self._background:
                    self._count(-1)
        if self.sched is not None:
            self.sched.begin()

    def _settled(self, deadline: float) -> bool:
        """Wait until the next component may start (see :mod:`._startorder`); False if the weld
        ended."""
        net = self.net
        return _startorder.wait_until_settled(
            lambda: list(self.threads),
            net.tracker.blocked_idents,
            lambda: net.tracker.stopped is not None,
            deadline,
        )

    def adopt(self, thread: threading.Thread, parent: Membership) -> None:
        """``parent`` is starting ``thread``: weld it (called before it starts).

        A weld runs at most :data:`MAX_THREADS` threads at once: beyond, ``start()`` raises what
        CPython raises when the system refuses a thread (a loop starting threads for ever would
        otherwise start tens of thousands, each blocked in the network, and outlast any timeout).
        """
        if self.net.tracker.live >= MAX_THREADS:
            raise RuntimeError(
                f"can't start new thread (a weld runs at most {MAX_THREADS:,} threads at once)"
            )
        match = _DEFAULT_NAME.fullmatch(thread.name)
        if match:  # "Thread-37 (handle)" counts every thread of the process: number them per weld
            self._thread_numbers += 1
            thread.name = f"Thread-{self._thread_numbers}{match[1] or ''}"
        name = f"{parent.component}/{thread.name}"
        counts = not thread.daemon and parent.component not in self._background
        body = thread.run
        slot = self._slot(thread, name)
        thread.run = lambda: self._run(name, parent.component, body, parent.name, counts, slot)  # type: ignore[method-assign]
        thread._sockviz_adopted = True  # type: ignore[attr-defined]
        self.net.tracker.enter()
        if counts:
            self._count(+1)
        self.threads.append(thread)

    def disown(self, thread: threading.Thread, parent: Membership) -> None:
        """``thread`` failed to start after :meth:`adopt`."""
        self.net.tracker.leave()
        if not thread.daemon and parent.component not in self._background:
            self._count(-1)

    def _run(
        self,
        name: str,
        component: str,
        body: Component,
        parent: str | None,
        counts: bool,
        slot: Slot | None = None,
    ) -> None:
        ident = _get_ident()
        if slot is not None:
            slot.sched.arrive(slot)  # wait for the baton before anything else
        rec = self.net.recorder
        if self.cpu is not None:
            _pin_to(self.cpu)
        members[ident] = Membership(self.net, name, component, self)
        self._exits[ident] = counts, slot
        rec.name_thread(ident, name)
        rec.emit("thread.start", name, "component", component, "parent", parent)
        reason = "returned"
        try:
            body()
        except BaseException as exc:  # noqa: BLE001 - every failure is reported by the weld
            # first of all: LeftRunning is not raised into a thread on its way out
            self._leaving.add(ident)
            reason = self._ended_by(name, exc)
        finally:
            self._leaving.add(ident)
            _patches.flush_thread_output()
            self.net.close_orphans()  # the thread's dropped sockets: the peers see EOF now
            self._leave(ident, reason)

    def _ended_by(self, name: str, exc: BaseException) -> str:
        """Why thread ``name`` ended, raising ``exc`` (reported as its failure unless it was told to
        stop)."""
        if isinstance(exc, NetworkStopped):
            return f"stopped: {exc}"
        if isinstance(exc, SystemExit):
            if exc.code in (None, 0):
                return "returned"
            # (with the exit's traceback: the report shows the student's line)
            exc = RuntimeError(f"{name} called sys.exit({exc.code!r})").with_traceback(
                exc.__traceback__
            )
        self._failed(name, exc)
        return "failed"

    def _leave(self, ident: int, reason: str) -> None:
        """The calling welded thread's last steps in the weld (once: a second call does nothing)."""
        member, how = members.get(ident), self._exits.pop(ident, None)
        if member is None or how is None:
            return
        counts, slot = how
        rec = self.net.recorder
        rec.emit("thread.exit", member.name, "reason", reason)
        del members[ident]
        self._end_of_process(member.component)
        rec.forget_thread(ident)
        if counts:
            self._count(-1, stop_first=slot is not None)  # before leave(): see _on_deadlock
        self.net.tracker.leave()
        if slot is not None:
            slot.sched.leave()  # the very last thing: the baton goes to another thread

    def _end_of_process(self, component: str) -> None:
        """If ``component`` has no thread left, close the sockets it left open, as the kernel does
        when a process exits (or dies of an exception): listeners stop, peers read end of file, or a
        reset if bytes were left unread.  (The weld's own end closes everything anyway.)"""
        net = self.net
        if net.tracker.stopped is not None or any(
            m.session is self and m.component == component for m in list(members.values())
        ):
            return
        for ref in list(net.sockets.values()):
            sock = ref()
            if (
                sock is not None
                and sock.mode is not SocketMode.CLOSED
                and sock.owner.partition("/")[0] == component
            ):
                with contextlib.suppress(OSError):
                    sock._real_close()

    def _failed(self, name: str, exc: BaseException) -> None:
        # ExceptionGroup holds Exceptions only; a stray BaseException is described instead.
        if not isinstance(exc, Exception):
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        text = "".join(traceback.format_exception(exc))
        self.net.recorder.emit(
            "thread.error", name,
            "error", type(exc).__name__, "message", str(exc), "traceback", text,
        )  # fmt: skip
        with self._mutex:
            self.errors.append((name, exc))

    def run(
        self,
        components: list[tuple[str, Component]],
        timeout: float,
        *,
        stagger: bool,
        until: frozenset[str] | None,
    ) -> tuple[tuple[str, str] | None, dict[str, str] | None]:
        """Start the components, wait for the end: (a thread blocked outside, what each waited for
        at a timeout)."""
        net, sched = self.net, self.sched
        started = time.monotonic()
        self.spawn(components, stagger=stagger, deadline=started + timeout, until=until)
        outside = None
        if sched is None:
            finished = self._wait_for_the_end(started + timeout)
        else:
            finished, outside = _outside.watch(self, timeout)
        self.tick()
        if net.full:  # the event cap: the threads already waiting are stopped too
            net.stop("the weld recorded its maximum of events")
            return None, None
        if outside is not None or finished:
            return outside, None
        stuck = net.tracker.waiting() if sched is None else sched.waiting()
        self.running = _endings.running_outside(self, set(stuck))
        net.recorder.emit("timeout", "weld", "after", timeout, "waits", stuck)
        net.stop(f"the weld timed out after {timeout:g} s")
        return None, stuck

    def _wait_for_the_end(self, deadline: float) -> bool:
        """Wait until the weld is done (True), ``deadline`` passes, or the event cap is reached
        (False)."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.done.wait(min(remaining, _WATCH)):
                return True
            _ctrl_c.check()
            self.tick()
            if self.net.full:
                return False

    def tick(self) -> None:
        """Tell the progress bar (if any) how many events were recorded since the last tick."""
        if self.progress is not None:
            recorded = self.net.recorder.last_seq() + 1
            if recorded > self._shown:
                self.progress(recorded - self._shown)
                self._shown = recorded

    def finish(self, grace: float | None = None) -> list[threading.Thread]:
        """Stop the network for leftover threads, wait a little; return those still running.

        A thread still running now is busy outside the fake network (sleeping,
        computing, blocked on something real): nothing here can stop it.
        """
        if self.net.tracker.live:
            self.net.stop("the weld is over")
        # Join even threads that have left the network: they are in their last lines, and a thread
        # still alive when the weld returns would keep the patches installed a moment.
        deadline = time.monotonic() + (GRACE if grace is None else grace)
        for thread in self.threads:
            if thread.ident not in self._parked_idents:
                thread.join(max(0.0, deadline - time.monotonic()))
        self.leftovers = _endings.running_outside(self, set())
        self.leftovers.update(self.parked)
        self.stop_leftovers()
        self._conclude()
        if self._writer is not None:
            self._writer.close()
        self.net.close()
        return [thread for thread in self.threads if thread.is_alive()]


def _writer(path: str | os.PathLike[str], meta: dict[str, Any]) -> Any:
    from .._trace._fileio import TraceWriter  # (only a weld with a trace_path needs the formats)

    return TraceWriter(path, meta)


def _pin_to(cpu: int) -> None:
    """Keep the calling thread on ``cpu`` (Linux: affects this thread only)."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed: run unpinned
        os.sched_setaffinity(0, {cpu})
