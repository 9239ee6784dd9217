"""sockviz: watch sockets and threads meet.

A fake socket library runs a client and a server -- any Python code that
uses the ``socket`` module -- as threads of one process, records every lock
wait, wake-up and socket state change, and lets you replay and plot it.

    >>> import socket, sockviz
    >>> def server():
    ...     with socket.create_server(("", 8080)) as listener:
    ...         conn, _ = listener.accept()
    ...         conn.sendall(conn.recv(100).upper())
    >>> def client():
    ...     with socket.create_connection(("server", 8080)) as sock:
    ...         sock.sendall(b"hello")
    ...         print(sock.recv(100))
    >>> trace = sockviz.weld(server, client)
    b'HELLO'
    >>> print(trace.summary())  # doctest: +SKIP

Importing sockviz and running a weld never imports matplotlib or ipywidgets.
"""

from __future__ import annotations

from ._core._events import Event
from ._errors import (
    CellStopped,
    ComponentError,
    DeadlockError,
    EventLimitError,
    ExternalBlockError,
    NetworkStopped,
    TraceFormatError,
    WeldInterrupted,
    WeldTimeoutError,
)
from ._net._fakesocket import FakeSocket
from ._net._manager import FakeNetwork
from ._net._modes import REFUSALS, TRANSITIONS, Op, SocketMode
from ._net._modes import markdown_table as mode_table
from ._trace._analysis import Meeting, SocketLife, Wait
from ._trace._fileio import load
from ._trace._kinds import KINDS
from ._trace._trace import Trace
from ._trace._world import World
from ._weld._endings import last_trace
from ._weld._explore import Exploration, Outcome, explore
from ._weld._interactive import fake_network
from ._weld._policies import Choice, Schedule, Scripted, Seeded
from ._weld._session import Weld, weld

__version__ = "0.1.0"

#: The views, imported on first use: ``import sockviz`` must not import matplotlib.
_VIEWS = {
    "plot_buffers": "._views._plots",
    "plot_sequence": "._views._plots",
    "plot_states": "._views._plots",
    "plot_timeline": "._views._timeline",
    "plot_waits": "._views._plots",
    "replay": "._views._replay",
    "style": "._views._style",
}


def __getattr__(name: str) -> object:
    if name in _VIEWS:
        import importlib

        return getattr(importlib.import_module(_VIEWS[name], __name__), name)
    raise AttributeError(f"module 'sockviz' has no attribute {name!r}")


__all__ = [
    "KINDS",
    "REFUSALS",
    "TRANSITIONS",
    "CellStopped",
    "Choice",
    "ComponentError",
    "DeadlockError",
    "Event",
    "EventLimitError",
    "Exploration",
    "ExternalBlockError",
    "FakeNetwork",
    "FakeSocket",
    "Meeting",
    "NetworkStopped",
    "Op",
    "Outcome",
    "Schedule",
    "Scripted",
    "Seeded",
    "SocketLife",
    "SocketMode",
    "Trace",
    "TraceFormatError",
    "Wait",
    "Weld",
    "WeldInterrupted",
    "WeldTimeoutError",
    "World",
    "__version__",
    "explore",
    "fake_network",
    "last_trace",
    "load",
    "mode_table",
    "plot_buffers",
    "plot_sequence",
    "plot_states",
    "plot_timeline",
    "plot_waits",
    "replay",
    "style",
    "weld",
]
