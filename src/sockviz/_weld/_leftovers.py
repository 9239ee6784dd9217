"""What a weld does with the threads that outlive it: stopped, reminded, and if they insist, parked.

When a weld ends, a welded thread still running is stopped: in the network at
once (the network stops, every fake call raises ``NetworkStopped``), outside it
at its next line of Python (``LeftRunning``, repeated every :data:`STUBBORN`
seconds in case it was caught).  A thread that catches the stop and keeps
calling the stopped network -- a bare ``except:`` around ``accept()`` -- or
keeps printing is *parked for good*: it leaves the weld and waits on a lock
nobody releases, using no CPU.  The notebook's own thread is never parked: its
cell gets ``CellStopped`` instead.
"""

from __future__ import annotations

import math
import threading
import time
from _thread import allocate_lock as _allocate_lock
from typing import TYPE_CHECKING

from .._errors import CellStopped, LeftRunning
from .._net._manager import CALLS_AFTER_STOP
from .._net._members import members
from . import _endings, _outside

if TYPE_CHECKING:
    from .._core._schedule import Slot
    from .._net._manager import FakeNetwork

__all__ = ["STUBBORN", "Leftovers"]

_get_ident = threading.get_ident

#: Seconds after which a leftover told to stop (LeftRunning) and still running is told again, and
#: parked for good if it prints (it caught the stop: a bare ``except:``).
STUBBORN = 0.4


class Leftovers:
    """The part of a :class:`~sockviz._weld._session.Weld` that deals with its leftover threads."""

    net: FakeNetwork
    parked: dict[str, str]
    where_at_limit: dict[str, str]
    _told: dict[int, tuple[float, float]]
    _leaving: set[int]
    _parked_idents: set[int]
    _exits: dict[int, tuple[bool, Slot | None]]

    def _leave(self, ident: int, reason: str) -> None:  # pragma: no cover - the Weld's
        raise NotImplementedError

    def stop_leftovers(self) -> None:
        """Stop every thread of this weld still running: one in the network at once (the network
        stops), one outside it at its next line of Python (:class:`LeftRunning`).  Safe to call
        again (the janitor does, in case a second Ctrl-C cut :meth:`finish` short)."""
        if self.net.tracker.live and self.net.tracker.stopped is None:
            self.net.stop("the weld is over")
        now = time.monotonic()
        for ident, member in list(members.items()):
            if member.session is not self or member.root or ident in self._leaving:
                continue
            first, last = self._told.get(ident, (now, -math.inf))
            # (again: a reminder, if it caught the first with a bare except:)
            if now - last > STUBBORN:
                self._told[ident] = first, now
                _endings.raise_in(ident, LeftRunning)

    def check_stubborn(self) -> None:
        """Called when a welded thread prints: one told to stop more than :data:`STUBBORN` seconds
        ago that still prints caught the stop (a bare ``except:`` around a loop, printing 'oops,
        retrying'): parked for good, as one that keeps calling the network is."""
        told = self._told.get(_get_ident())
        if told is not None and time.monotonic() - told[0] > STUBBORN:
            self._park_for_good()

    def _note_where_at_limit(self) -> None:
        self.where_at_limit = {
            member.name: _outside.where_blocked(ident)
            for ident, member in list(members.items())
            if member.session is self
        }

    def _park_for_good(self) -> None:
        """Called in a welded thread that caught the stop and keeps calling the stopped network -- a
        loop with a bare ``except:`` around ``accept()`` -- which would burn a core for ever.  It
        never runs again: it leaves the weld (so the weld can end and the patches go) and waits on a
        lock nobody releases, using no CPU.  The thread that called ``fake_network()`` (the
        notebook's own) is never parked.
        """
        ident = _get_ident()
        member = members.get(ident)
        # the notebook's own thread: never parked, but no endless loop
        if member is not None and member.root:
            raise CellStopped(
                f"the fake_network() block called its stopped network {CALLS_AFTER_STOP} times "
                "more (a loop that catches the error and tries again?): nothing can ever answer, "
                "so the cell is stopped."
            )
        if (
            member is None
            or member.session is not self
            or ident not in self._exits
            or ident in self._leaving
        ):
            return
        where = _outside.where_blocked(ident)
        self.parked[member.name] = where
        self._parked_idents.add(ident)
        self._leave(
            ident, f"parked for good: it caught the stop and kept calling the network, at {where}"
        )
        never = _allocate_lock()
        never.acquire()
        never.acquire()
