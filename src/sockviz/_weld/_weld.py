"""``sockviz.weld()``: run components as welded threads, to the end, and hand over the trace.

The :class:`~sockviz._weld._session.Weld` keeps the books of one weld (its
network, its threads, their output, their end); this module checks what the
student passed, installs the patches for the weld's time, and turns how it
ended into the trace returned or the error raised (``_endings.py``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from typing import Any

from .._errors import WeldInterrupted
from .._net._manager import Semantics
from .._net._members import members
from .._trace._trace import Trace
from . import _ctrl_c, _endings, _patches, _schedpatch, _session, _spec
from ._policies import Schedule
from ._progress import progress_bar
from ._session import MAX_EVENTS, Weld
from ._spec import Component

__all__ = ["weld"]

_get_ident = threading.get_ident


def _weld_cpu(single_cpu: bool) -> int | None:
    if not single_cpu or not hasattr(os, "sched_getaffinity"):
        return None
    return max(os.sched_getaffinity(0))


def weld(
    *components: Any,
    semantics: Semantics = "strict",
    timeout: float = 30.0,
    buffer_size: int = 65536,
    trace_path: str | os.PathLike[str] | None = None,
    single_cpu: bool = True,
    schedule: Schedule | None = None,
    echo: bool = True,
    stagger: bool = True,
    until: str | Iterable[str] | None = None,
    max_events: int | None = MAX_EVENTS,
    progress: bool | None = None,
) -> Trace:
    """Run each component in its own welded thread and return the trace.

    ``components`` are callables (a thread each, named after the function),
    ``(name, callable)`` pairs or mappings ``{name: callable}``.  Their
    sockets -- and those of every thread they start -- are fake; the names of
    the components resolve, so a client can connect to ``("server", 8080)``.

    ``single_cpu`` keeps every welded thread on one CPU.  They share one GIL,
    so they never run Python in parallel anyway, and a hand-off between two
    threads on one CPU is a plain context switch instead of a wake-up sent to
    another CPU: several times faster (see ``bench/bench_core.py``).  Pass
    ``False`` for components that do long work outside the GIL.

    ``schedule`` makes the run deterministic: ``sockviz.Seeded(seed)`` or
    ``sockviz.Scripted([...])`` lets exactly one welded thread run at a
    time, chooses the next one at every lock, condition, semaphore and
    socket call, and runs on a logical clock (one tick per event; timeouts
    and ``time.sleep`` in logical time, so they cost no real time).  The same
    schedule gives the same events every time.  A thread blocked outside the
    fake network (``input()``, a real socket) raises :class:`ExternalBlockError`.

    ``semantics="strict"`` (the default) is Linux: a ``connect()`` to an
    address nobody listens on is refused, and one to a listener returns as
    soon as the connection is queued in its backlog, accepted or not.
    ``semantics="weldr"`` is the original's model: ``connect()`` waits until
    somebody listens and accepts.

    Components start as a person starts programs by hand: in the order
    given, each once the threads before it have blocked in the fake network,
    ended, or stayed quiet outside it for a moment (see
    :mod:`sockviz._weld._startorder`).  So a server given first is listening when
    its client connects.  ``stagger=False`` starts them all at once (a client
    that comes first is then refused, as on Linux); under a ``schedule`` the
    schedule decides.

    ``until`` names the components whose end ends the weld (a client, say,
    when its server serves for ever): the others are stopped then, at their
    next call of the fake network.  By default the weld lasts until every
    component and every non-daemon thread they started has ended.

    ``echo=False`` keeps what components print off the screen (it is still
    recorded as ``output`` events).

    ``max_events`` (two million by default, about 500 MB) stops a weld that
    records more -- a loop that never ends -- with :class:`EventLimitError`
    naming the busiest threads, the trace so far attached; None: no limit.

    ``progress`` shows the events recorded so far in a bar: None (the
    default) once the weld has lasted a second, True at once, False never.

    Raises :class:`ComponentError` (an ``ExceptionGroup``) if components
    raised, :class:`DeadlockError` if all got stuck, :class:`WeldTimeoutError`
    after ``timeout`` seconds; each carries the trace as ``.trace``.
    """
    named, ending = _checked(components, timeout, until, schedule)
    names = [name for name, _ in named]
    cpu = _weld_cpu(single_cpu)
    session = Weld("weld", names, semantics, buffer_size, trace_path, cpu=cpu, schedule=schedule,
                   max_events=max_events)  # fmt: skip
    session.echo = echo
    with (
        _ctrl_c.ctrl_c_latch(),
        progress_bar(progress, total=None, what="weld", unit=" events") as session.progress,
    ):
        return _weld_to_the_end(
            session, named, timeout, stagger=stagger and session.sched is None, until=ending
        )


def _checked(
    components: tuple[Any, ...],
    timeout: object,
    until: str | Iterable[str] | None,
    schedule: Schedule | None,
) -> tuple[list[tuple[str, Component]], frozenset[str] | None]:
    """weld()'s arguments, checked before anything starts: the components named, the ones whose end
    ends the weld."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    caller = members.get(_get_ident())
    if caller is not None:
        raise RuntimeError(
            f"sockviz.weld() called inside a weld (by its thread {caller.name!r}): welds do not "
            "nest. Give every component to one weld, or call weld() from outside it."
        )
    named = _spec.components(components)
    names = [name for name, _ in named]
    _spec.check_script(schedule, names)
    return named, _spec.until(until, names)


def _weld_to_the_end(
    session: Weld,
    named: list[tuple[str, Component]],
    timeout: float,
    *,
    stagger: bool,
    until: frozenset[str] | None,
) -> Trace:
    """Run ``session`` with the patches installed; however it ends, remove them (once its threads
    are gone) and hand over its trace -- returned, or attached to the error that says how it
    ended."""
    sched = session.sched
    outside: tuple[str, str] | None = None
    stuck: dict[str, str] | None = None
    _patches.install()
    if sched is not None:
        _schedpatch.install()
    try:
        try:
            outside, stuck = session.run(named, timeout, stagger=stagger, until=until)
        finally:
            try:
                session.finish(grace=_session.GRACE / 4 if outside is not None else None)
            finally:
                if sched is not None:
                    _schedpatch.uninstall()
                # Whatever happened above (a second Ctrl-C in the clean-up included), a welded
                # thread still alive keeps the patches -- and so its fake sockets -- until it
                # ends: it never reaches the real network.
                _patches.uninstall_after(session)
    # Ctrl-C, Jupyter's interrupt (once or twice): the trace so far goes with it
    except KeyboardInterrupt:
        _ctrl_c.consumed()
        raise WeldInterrupted(_endings.remember_later(session)) from None
    except BaseException as escaping:  # e.g. a signal handler's exception in the calling thread
        trace_of = _endings.remember_later(session)
        with contextlib.suppress(AttributeError):  # (an exception that takes no attributes)
            escaping.trace = trace_of()  # type: ignore[attr-defined]
        raise
    # (a timeout's or a block's error names them itself)
    if session.leftovers and stuck is None and outside is None:
        _endings.warn_leftovers(session.leftovers, session.parked)
    try:
        return _endings.result(session, outside, stuck, timeout)
    finally:
        # The weld's objects hold each other in cycles, which only the garbage collector
        # frees -- late, and
        # a big trace with them.  The trace lives on in what is returned or raised, and in
        # last_trace().
        session._final = None
