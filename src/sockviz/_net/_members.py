"""Which threads are welded, and to which fake network.

The patched ``socket`` module serves every thread of the process, the
notebook kernel's included; it looks the calling thread up here and hands out
fake sockets only to members.  A member's children become members when they
are started (see ``Weld.adopt`` in :mod:`sockviz._weld._session`, called by the
patched ``Thread.start`` of :mod:`sockviz._weld._patches`), so a threading server's
per-request threads are welded too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._manager import FakeNetwork

__all__ = ["Membership", "current", "members"]


@dataclass(slots=True)
class Membership:
    """A welded thread: its network, the name its events carry, its component."""

    net: FakeNetwork
    name: str
    component: str
    #: The weld's bookkeeping of its threads (adopts the threads a member starts).
    session: Any
    #: The thread that called ``fake_network()`` itself (it gets DeadlockError).
    root: bool = False


#: thread ident -> membership, for every welded thread alive now.
members: dict[int, Membership] = {}

_get_ident = threading.get_ident


def current() -> Membership | None:
    """The calling thread's membership, or None for an ordinary thread."""
    return members.get(_get_ident())
