"""Start order: components start as a person starts programs by hand.

Somebody trying a client and a server starts the server in one terminal,
waits until it sits there listening, then starts the client in another.  A
weld does the same with its components, in the order given: each one starts
once every welded thread already running is

* **blocked in the fake network** (waiting in ``accept()``, ``recv()``, ...),
* **ended**, or
* **outside the network and quiet** for :data:`QUIET` seconds: sleeping,
  waiting on something else, using no CPU (a server in a real ``select()``,
  a ``time.sleep`` loop);

and a thread that keeps *computing* outside the network (importing a big
module, say) holds the next component back for at most :data:`BUSY` seconds.
So ``weld(server, client)`` with a client that connects at once, without
retrying, is never refused -- and a client that comes first is refused as
on Linux, if you ask for it with ``stagger=False``.  A schedule decides the
order by itself (see :mod:`sockviz._core._schedule`); it is not staggered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["BUSY", "QUIET", "cpu_seconds", "wait_until_settled"]

#: Seconds a thread outside the network must use no CPU before the next component starts.
QUIET = 0.05
#: Seconds at most that threads computing outside the network hold the next component back.
BUSY = 1.0
_POLL = 0.002


def cpu_seconds(ident: int) -> float | None:
    """CPU time the thread ``ident`` has used, or None (not Linux, or the thread is gone)."""
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(ident))
    except (AttributeError, OSError, TypeError, OverflowError):
        return None


def wait_until_settled(
    threads: Callable[[], list[threading.Thread]],
    blocked: Callable[[], set[int]],
    over: Callable[[], bool],
    deadline: float,
) -> bool:
    """Wait until every thread of ``threads()`` is blocked, ended or quiet; False if ``over()``
    first.

    ``blocked()`` gives the idents of the threads blocked in the fake network
    now; ``over()`` says the weld has ended (stopped, deadlocked, timed out).
    """
    start = time.monotonic()
    # ident -> (its CPU seconds, when it last used the CPU): a thread is quiet once that is QUIET
    # ago
    marks: dict[int, tuple[float | None, float]] = {}
    while True:
        if over() or time.monotonic() >= deadline:
            return False
        now = time.monotonic()
        parked = blocked()
        waiting_for = [
            t.ident
            for t in threads()
            if t.ident is not None and t.is_alive() and t.ident not in parked
        ]
        if not waiting_for or now - start >= BUSY:
            return True
        quiet = True
        for ident in waiting_for:
            cpu = cpu_seconds(ident)
            seen = marks.get(ident)
            if seen is None or (
                cpu is not None and seen[0] is not None and cpu - seen[0] > 0.1 * (now - seen[1])
            ):
                marks[ident] = (cpu, now)  # new, or it used the CPU since: busy
                quiet = False
            elif now - seen[1] < QUIET:
                quiet = False
        if quiet:
            return True
        time.sleep(_POLL)
