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
Here is what a lesson needs; the model's internals (the mode tables, the
event kinds, the fake socket and network) are in :mod:`sockviz.lowlevel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from ._trace._analysis import Meeting, SocketLife, Wait
from ._trace._trace import Trace
from ._weld._endings import last_trace
from ._weld._policies import PCT, Choice, Schedule, Scripted, Seeded
from ._weld._session import Weld
from ._weld._weld import weld

if TYPE_CHECKING:  # (imported on first use, below: what a weld does not need)
    from . import lowlevel
    from ._trace._fileio import load
    from ._views._compare import plot_compare
    from ._views._plots import plot_buffers, plot_sequence, plot_states
    from ._views._replay import replay
    from ._views._style import style
    from ._views._timeline import plot_timeline
    from ._views._waits import plot_waits
    from ._weld._explore import Exploration, Outcome, explore
    from ._weld._interactive import fake_network
    from ._weld._stepper import Stepper, stepper

__version__ = "0.1.0"

#: Imported on first use: ``import sockviz`` must not import matplotlib, and a weld needs neither
#: the explorer, the stepper, the file formats nor the internals' catalogue.
_LATER = {
    "Exploration": "._weld._explore",
    "Outcome": "._weld._explore",
    "explore": "._weld._explore",
    "fake_network": "._weld._interactive",
    "Stepper": "._weld._stepper",
    "stepper": "._weld._stepper",
    "load": "._trace._fileio",
    "plot_buffers": "._views._plots",
    "plot_compare": "._views._compare",
    "plot_sequence": "._views._plots",
    "plot_states": "._views._plots",
    "plot_timeline": "._views._timeline",
    "plot_waits": "._views._waits",
    "replay": "._views._replay",
    "style": "._views._style",
}


#: Internals that lived here before ``sockviz.lowlevel``: still found, with a warning.
_MOVED = frozenset(
    {"KINDS", "REFUSALS", "TRANSITIONS", "Event", "FakeNetwork", "FakeSocket", "Op", "SocketMode"}
    | {"World", "mode_table"}
)


def __getattr__(name: str) -> object:
    import importlib

    if name == "lowlevel":
        return importlib.import_module(".lowlevel", __name__)
    if name in _LATER:
        return getattr(importlib.import_module(_LATER[name], __name__), name)
    if name in _MOVED:
        import warnings

        message = f"sockviz.{name} is now sockviz.lowlevel.{name} (where the internals live)"
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(".lowlevel", __name__), name)
    raise AttributeError(f"module 'sockviz' has no attribute {name!r}")


__all__ = [
    "PCT",
    "CellStopped",
    "Choice",
    "ComponentError",
    "DeadlockError",
    "EventLimitError",
    "Exploration",
    "ExternalBlockError",
    "Meeting",
    "NetworkStopped",
    "Outcome",
    "Schedule",
    "Scripted",
    "Seeded",
    "SocketLife",
    "Stepper",
    "Trace",
    "TraceFormatError",
    "Wait",
    "Weld",
    "WeldInterrupted",
    "WeldTimeoutError",
    "__version__",
    "explore",
    "fake_network",
    "last_trace",
    "load",
    "lowlevel",
    "plot_buffers",
    "plot_compare",
    "plot_sequence",
    "plot_states",
    "plot_timeline",
    "plot_waits",
    "replay",
    "stepper",
    "style",
    "weld",
]
