"""A schedule's select: ``select.select``, ``select.poll`` and the selectors, without blocking.

In a scheduled thread they look at the descriptors without blocking and, if
nothing is ready, park until some socket call has happened, then look again;
the wait is recorded as a free run's is (:mod:`._selectwaits`).
:mod:`._schedpatch` installs them.
"""

from __future__ import annotations

import select
import selectors
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .._core._schedule import Slot, current_slot
from .._net._members import members
from . import _selectwaits
from ._schedtime import stopped

_real_poll = select.poll
_real_select = select.select


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
            raise stopped(slot)
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


def scheduled_selector(real: Callable[..., Any]) -> Callable[..., Any]:
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
