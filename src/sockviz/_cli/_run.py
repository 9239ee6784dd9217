"""``sockviz run``: unmodified scripts and modules as welded components.

``sockviz run "server.py --port 8080" "client.py --port 8080"`` runs each
script in its own thread as ``python server.py --port 8080`` would run it:

* as ``__main__`` (``runpy``: its own globals), with its own ``sys.argv``;
* with its folder first on ``sys.path``, so that a helper module beside it
  imports (``-m module`` puts the current folder first, as ``python -m`` does);
* as a *main thread* for asyncio: ``asyncio.get_event_loop()`` at module
  level makes a loop, as it does in a script on this Python;
* its printed lines prefixed with its name.

All of them share one fake network; then the trace is written and
summarised.  A spec may start with ``NAME=`` to name the component.
``--until NAME`` ends the run when those components are done, for servers
that would serve for ever (``weld(until=...)``).  What the scripts share, as
threads of one process: ``sys.path`` (each script's folder is on it for all),
the module cache (two helpers of one name in two folders: the first wins),
the current directory and the environment.
"""

from __future__ import annotations

import os
import runpy
import shlex
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, SupportsIndex, overload

from .._errors import NetworkStopped

__all__ = ["Component", "parse_spec", "script_context"]


@dataclass(frozen=True)
class Component:
    """One ``sockviz run`` component: a script or a module, with its arguments."""

    name: str
    argv: list[str]
    module: str | None = None  # run as ``-m module`` (else argv[0] is a script path)

    def body(self, started: Callable[[], None] | None = None) -> Callable[[], None]:
        """The callable ``weld`` runs: the script as ``__main__``, with this argv for this
        thread."""

        def run() -> None:
            ident = threading.get_ident()
            _ARGV.per_thread[ident] = list(self.argv)
            _MainThreads.idents.add(ident)
            try:
                if self.module is not None:
                    runpy.run_module(self.module, run_name="__main__", alter_sys=False)
                else:
                    runpy.run_path(self.argv[0], run_name="__main__")
            except NetworkStopped:
                raise  # the weld is over: not the script's own exit
            except SystemExit as exit_:
                if exit_.code not in (None, 0):
                    raise RuntimeError(f"{self.name} exited with status {exit_.code}") from None
            finally:
                _close_event_loop()
                _ARGV.per_thread.pop(ident, None)
                _MainThreads.idents.discard(ident)

        run.__name__ = self.name
        return run

    @property
    def folder(self) -> str:
        """What ``python`` puts first on ``sys.path``: the script's folder, or the current one for
        ``-m``."""
        return (
            os.getcwd()
            if self.module is not None
            else os.path.dirname(os.path.abspath(self.argv[0]))
        )


def parse_spec(spec: str) -> Component:
    """``"[NAME=]script.py args"`` or ``"[NAME=]-m module args"`` as a :class:`Component`."""
    name = None
    head, sep, rest = spec.partition("=")
    if sep and head.isidentifier() and " " not in head:
        name, spec = head, rest
    words = shlex.split(spec)
    if not words:
        raise ValueError(
            "an empty component: give a script (server.py) or a module (-m http.server)"
        )
    if words[0] == "-m":
        if len(words) < 2:
            raise ValueError(f"{spec!r}: -m needs a module name")
        module = words[1]
        return Component(name or module.rsplit(".", 1)[-1], [module, *words[2:]], module)
    path = words[0]
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such script: {path}")
    stem = os.path.splitext(os.path.basename(path))[0]
    return Component(name or stem, words)


class _ThreadArgv(list[str]):
    """``sys.argv`` that each component thread sees as its own (and every other thread as
    before)."""

    def __init__(self, real: list[str]) -> None:
        super().__init__(real)
        self.per_thread: dict[int, list[str]] = {}

    def _mine(self) -> list[str]:
        return self.per_thread.get(threading.get_ident(), list(super().__iter__()))

    @overload
    def __getitem__(self, index: SupportsIndex) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> str | list[str]:
        return self._mine()[index]

    def __len__(self) -> int:
        return len(self._mine())

    def __iter__(self) -> Iterator[str]:
        return iter(self._mine())

    def __repr__(self) -> str:
        return repr(self._mine())


_ARGV = _ThreadArgv([])


def _close_event_loop() -> None:
    """Close the event loop the script's thread left set (``get_event_loop()`` at module level), as
    the end of its process would, while its sockets are still open (the weld closes them next)."""
    import asyncio

    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    loop = getattr(local, "_loop", None)
    if loop is not None and not loop.is_running() and not loop.is_closed():
        loop.close()


class _MainThreads:
    """``threading`` as asyncio's policy sees it during a run: every script's thread is a main
    thread."""

    idents: ClassVar[set[int]] = set()
    current_thread = staticmethod(threading.current_thread)

    @staticmethod
    def main_thread() -> threading.Thread:
        current = threading.current_thread()
        return current if threading.get_ident() in _MainThreads.idents else threading.main_thread()


def _as_in_main_thread(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` itself (this Python's code, warnings and all), seeing :class:`_MainThreads` as
    ``threading``."""
    scope = {**method.__globals__, "threading": _MainThreads}
    copy = types.FunctionType(
        method.__code__, scope, method.__name__, method.__defaults__, method.__closure__
    )
    copy.__doc__, copy.__qualname__ = method.__doc__, method.__qualname__
    return copy


@contextmanager
def script_context(components: list[Component]) -> Iterator[None]:
    """For the duration of a run: each component thread's own ``sys.argv``, the scripts'
    folders first on ``sys.path``, and asyncio treating each script's thread as a main thread."""
    import asyncio.events

    real_argv, real_path = sys.argv, list(sys.path)
    _ARGV[:] = real_argv
    _ARGV.per_thread.clear()
    sys.argv = _ARGV
    sys.path[:0] = dict.fromkeys(component.folder for component in components)
    policy = asyncio.events.BaseDefaultEventLoopPolicy
    real_get_event_loop = policy.get_event_loop
    policy.get_event_loop = _as_in_main_thread(real_get_event_loop)  # type: ignore[method-assign]
    try:
        yield
    finally:
        sys.argv = real_argv
        sys.path[:] = real_path
        policy.get_event_loop = real_get_event_loop  # type: ignore[method-assign]
