"""The exceptions sockviz raises (fake socket errors are plain ``OSError``s)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._trace._trace import Trace

__all__ = [
    "CellStopped",
    "ComponentError",
    "DeadlockError",
    "EventLimitError",
    "ExternalBlockError",
    "LeftRunning",
    "NetworkStopped",
    "TraceFormatError",
    "WeldInterrupted",
    "WeldTimeoutError",
    "component_error",
]


class CellStopped(BaseException):
    """A ``fake_network()`` block kept calling its network after it stopped -- a loop that catches
    the ``DeadlockError`` and tries again, which would spin at full speed for ever.  Not an
    ``Exception``, so ``except Exception`` lets it end the cell."""


class WeldInterrupted(KeyboardInterrupt):
    """Ctrl-C (a notebook's interrupt) stopped a weld: its threads were stopped, and what it
    recorded until then is ``trace`` (and ``sockviz.last_trace()``).  A ``KeyboardInterrupt``, so
    code that handles Ctrl-C handles this too.  The trace is built when first read: a second Ctrl-C
    while the weld cleans up cannot lose it."""

    def __init__(self, trace_of: Callable[[], Trace]) -> None:
        super().__init__(
            "the weld was interrupted (Ctrl-C); what it recorded until then is .trace, and "
            "sockviz.last_trace()"
        )
        self._trace_of = trace_of

    @property
    def trace(self) -> Trace:
        return self._trace_of()


class NetworkStopped(SystemExit):
    """Raised inside welded threads when the weld stops the fake network.

    The thread's program is over, as if its process exited, so it is a
    ``SystemExit``: a component's ``except Exception`` (socketserver's,
    yours) cannot swallow it and carry on for ever, asyncio's event loop
    lets it through instead of logging it from every callback, and a thread
    it ends ends quietly.  ``finally`` blocks still run, so sockets are
    closed on the way out.  Its ``code`` is None: a clean exit.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.code = None


class LeftRunning(NetworkStopped):
    """Raised in a welded thread still running outside the network after its weld ended.

    A thread that sleeps or computes never reaches the fake network's calls,
    where :class:`NetworkStopped` would stop it; so the weld raises this one in
    it asynchronously (``PyThreadState_SetAsyncExc``), at its next line of
    Python: a forgotten ``while True`` costs no CPU once the weld is over.
    """

    def __init__(self, reason: str = "the weld is over, and this thread was still running") -> None:
        super().__init__(reason)


#: How many threads an error message lists one by one (a thread bomb would make it thousands of
#: lines).
LISTED = 20


def listing(entries: dict[str, str], form: str = "  {thread}: {what}") -> str:
    """``entries`` as indented lines, sorted by thread, the first :data:`LISTED` only."""
    items = sorted(entries.items())
    lines = [form.format(thread=thread, what=what) for thread, what in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(
            f"  ... and {len(items) - LISTED:,} more (every one is in .waits, .running and the "
            "trace)"
        )
    return "\n".join(lines)


class DeadlockError(RuntimeError):
    """Every welded thread is blocked on the fake network: nobody can wake anybody.

    ``waits`` maps each blocked thread to what it waits for; ``trace`` is the
    trace up to the deadlock (set by ``weld`` and ``fake_network``).
    """

    def __init__(
        self,
        waits: dict[str, str],
        trace: Trace | None = None,
        errors: list[tuple[str, Exception]] | None = None,
        cycle: list[str] | None = None,
        stuck: list[str] | None = None,
    ) -> None:
        self.waits = dict(waits)
        self.trace = trace
        #: ``(thread, exception)`` for threads that failed before the deadlock
        self.errors = list(errors or [])
        #: the threads that wait for each other in a circle (a real deadlock), in order; None when
        #: the threads are *stuck* instead: each waits for something no thread is left to do
        #: (a server in accept() once every client has gone)
        self.cycle = cycle
        #: when stuck: for each thread, what it waits for that no thread is left to do, or whom
        #: it waits for ("server waits in accept() for a client, and no thread that could connect
        #: is left"); empty when the trace cannot tell
        self.stuck = list(stuck or [])
        lines = [listing(self.waits)]
        lines += [
            f"  ({thread} had already failed: {type(exc).__name__}: {exc})"
            for thread, exc in self.errors
        ]
        super().__init__(_deadlock_head(cycle, self.stuck) + "\n" + "\n".join(lines))


def _deadlock_head(cycle: list[str] | None, stuck: list[str]) -> str:
    if not cycle:
        if stuck and len(stuck) <= 3:
            return "stuck: " + "; ".join(stuck)
        return (
            "stuck: every welded thread is blocked, and what each waits for no thread is left to do"
        )
    pairs = zip(cycle, [*cycle[1:], cycle[0]], strict=True)
    return "deadlock: " + ", ".join(f"{a} waits for {b}" for a, b in pairs)


class WeldTimeoutError(TimeoutError):
    """The weld ran longer than its ``timeout``; ``waits`` says who was stuck where."""

    def __init__(
        self,
        timeout: float,
        waits: dict[str, str],
        trace: Trace | None = None,
        running: dict[str, str] | None = None,
    ) -> None:
        self.timeout = timeout
        self.waits = dict(waits)
        #: each thread that was busy outside the fake network (sleeping, computing), and its line
        self.running = dict(running or {})
        self.trace = trace
        message = f"the weld did not finish within {timeout:g} s"
        if self.waits:
            message += "; still waiting:\n" + listing(self.waits)
        if self.running:
            message += (
                "\nstill running, not in a fake socket call (sleeping, computing, or watching "
                "sockets with select):\n"
            )
            message += listing(self.running, "  {thread}: at {what}")
        elif not self.waits:
            message += (
                " (its threads were busy outside a fake socket call: sleeping, computing, or "
                "watching sockets with select)"
            )
        super().__init__(message)


class EventLimitError(RuntimeError):
    """The weld recorded ``max_events`` events and was stopped, so that a loop that never ends
    cannot fill the machine's memory.  ``busiest`` lists the threads that recorded most, with what
    each did last; ``trace`` is everything recorded up to the stop (save it, load it, replay it)."""

    def __init__(
        self, limit: int, busiest: list[tuple[str, int, str]], trace: Trace | None = None
    ) -> None:
        self.limit = limit
        self.busiest = list(busiest)
        self.trace = trace
        lines = [
            f"  {thread}: {count:,} events, last: {last}" for thread, count, last in self.busiest
        ]
        super().__init__(
            f"the weld recorded {limit:,} events, its limit, and was stopped (a loop that never "
            "ends?). The busiest threads:\n"
            + "\n".join(lines)
            + "\nIf the run really needs more, raise the limit: "
            f"weld(..., max_events={limit * 4:,}) (a recorded event takes about 250 bytes), or "
            "max_events=None for none."
        )


class ExternalBlockError(RuntimeError):
    """Under a schedule, a thread blocked on something outside the fake network.

    Only one welded thread runs at a time under a schedule, so a thread
    waiting for ``input()``, a real socket or a lock the schedule does not
    know would keep everyone else waiting for ever.  The weld stops instead:
    ``thread`` is the thread, ``where`` its line of code; the other threads
    were stopped, and the blocked one was left running (it is a daemon).  In a
    script, a thread left blocked reading ``sys.stdin`` can make Python abort
    at exit ("could not acquire lock for stdin"): a limit of daemon threads in
    CPython, not of sockviz.  A notebook's kernel keeps running.
    """

    def __init__(self, thread: str, where: str, trace: Trace | None = None) -> None:
        self.thread = thread
        self.where = where
        self.trace = trace
        super().__init__(
            f"{thread} blocked outside the fake network, at {where}. A scheduled weld runs one "
            "thread at a time, so it can only schedule fake sockets, threading, time.sleep and "
            "select; run this component without schedule=, or make it wait on one of those."
        )


class ComponentError(ExceptionGroup[Exception]):
    """One or more components raised; each exception is in ``exceptions``.

    The message names the threads; ``trace`` is the whole run's trace.  Catch
    one kind with ``except* ValueError`` or look through ``exceptions``.
    """

    trace: Trace | None = None
    threads: tuple[str, ...] = ()
    #: how the weld ended after these errors, if it did not simply finish: the deadlock or timeout
    #: they left
    after: DeadlockError | WeldTimeoutError | None = None

    def derive(self, excs: Sequence[Exception], /) -> ComponentError:  # type: ignore[override]  # (overloads for BaseException too)
        """The group ``except*`` and ``split()`` make: the same trace, the threads of these
        exceptions."""
        group = ComponentError(self.message, excs)
        group.trace, group.after = self.trace, self.after
        group.threads = tuple(
            thread
            for thread, exc in zip(self.threads, self.exceptions, strict=False)
            if exc in excs
        )
        return group


class TraceFormatError(ValueError):
    """A trace file could not be read: names the file, the line and what is wrong."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


def component_error(
    errors: list[tuple[str, Exception]],
    trace: Trace,
    after: DeadlockError | WeldTimeoutError | None = None,
) -> ComponentError:
    """The components' own errors; ``after``: how the weld ended after them (a deadlock, a
    timeout)."""
    listing = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in errors)
    message = f"{len(errors)} welded thread(s) failed ({listing})"
    if after is not None:
        message += f"; after that, {after}"
    group = ComponentError(message, [exc for _, exc in errors])
    group.after = after
    group.trace = trace
    group.threads = tuple(name for name, _ in errors)
    return group
