"""``fake_network()``: weld the calling thread, for interactive use in a notebook.

``with sockviz.fake_network() as weld:`` makes the notebook's own thread a
welded one for the block: ``socket.socket()`` gives it fake sockets, the
threads it starts are welded too, and ``weld.trace`` is the trace so far.
A call that would block for ever (every welded thread waiting) raises
:class:`~sockviz.DeadlockError` in the cell instead of hanging the kernel.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from .._net._manager import Semantics
from .._net._members import Membership, members
from . import _patches
from ._endings import remember
from ._session import MAX_EVENTS, Weld

__all__ = ["fake_network"]

_get_ident = threading.get_ident


@contextlib.contextmanager
def fake_network(
    semantics: Semantics = "strict",
    *,
    buffer_size: int = 65536,
    trace_path: str | os.PathLike[str] | None = None,
    name: str | None = None,
    max_events: int | None = MAX_EVENTS,
) -> Iterator[Weld]:
    """Weld the calling thread (and the threads it starts) for the block.

    Inside the block ``socket.socket()`` makes fake sockets in this thread;
    ``weld.trace`` is the trace so far.  A call that would block for ever
    (every welded thread waiting) raises :class:`DeadlockError` instead of
    hanging the notebook; a cell that records more than ``max_events`` events (a loop
    that never ends) raises :class:`~sockviz.EventLimitError` instead of filling memory.
    """
    ident = _get_ident()
    if ident in members:
        raise RuntimeError("this thread is already welded; fake_network() blocks do not nest")
    thread_name = name or threading.current_thread().name
    session = Weld(
        "fake_network", [thread_name], semantics, buffer_size, trace_path, max_events=max_events
    )
    net = session.net
    _patches.install()
    members[ident] = Membership(net, thread_name, thread_name, session, root=True)
    net.recorder.name_thread(ident, thread_name)
    net.tracker.enter()
    net.recorder.emit("thread.start", thread_name, "component", thread_name, "parent", None)
    try:
        yield session
    finally:
        try:
            _patches.flush_thread_output()
            net.recorder.emit("thread.exit", thread_name, "reason", "left the fake_network block")
            del members[ident]
            net.recorder.forget_thread(ident)
            # threads it started are left: the block's end stops them, no deadlock
            if net.tracker.live > 1:
                net.stop("the fake_network block is over")
            net.tracker.leave()
            session.finish()
        finally:
            remember(session.trace)
            _patches.uninstall_after(session)
