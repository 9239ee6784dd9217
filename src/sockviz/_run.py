"""``sockviz run``: unmodified scripts and modules as welded components.

``sockviz run "server.py --port 8080" "client.py --port 8080"`` runs each
script in its own thread as if it were ``__main__`` (``runpy``: its own
globals), with its own ``sys.argv`` and its printed lines prefixed with its
name, over one fake network; then it writes the trace and prints the summary.
A spec may start with ``NAME=`` to name the component; ``-m MODULE ARGS``
runs a module (``"-m http.server 8000"``).  ``--until NAME`` ends the run
when those components are done, for servers that would serve for ever.
"""

from __future__ import annotations

import os
import runpy
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import SupportsIndex, overload

__all__ = ["Component", "parse_spec", "thread_argv"]


@dataclass(frozen=True)
class Component:
    """One ``sockviz run`` component: a script or a module, with its arguments."""

    name: str
    argv: list[str]
    module: str | None = None  # run as ``-m module`` (else argv[0] is a script path)

    def body(self, started: Callable[[], None] | None = None) -> Callable[[], None]:
        """The callable ``weld`` runs: the script as ``__main__``, with this argv for this thread."""

        def run() -> None:
            _ARGV.per_thread[threading.get_ident()] = list(self.argv)
            try:
                if self.module is not None:
                    runpy.run_module(self.module, run_name="__main__", alter_sys=False)
                else:
                    runpy.run_path(self.argv[0], run_name="__main__")
            except SystemExit as exit_:
                if exit_.code not in (None, 0):
                    raise RuntimeError(f"{self.name} exited with status {exit_.code}") from None
            finally:
                _ARGV.per_thread.pop(threading.get_ident(), None)

        run.__name__ = self.name
        return run


def parse_spec(spec: str) -> Component:
    """``"[NAME=]script.py args"`` or ``"[NAME=]-m module args"`` as a :class:`Component`."""
    name = None
    head, sep, rest = spec.partition("=")
    if sep and head.isidentifier() and " " not in head:
        name, spec = head, rest
    words = shlex.split(spec)
    if not words:
        raise ValueError("an empty component: give a script (server.py) or a module (-m http.server)")
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
    """``sys.argv`` that each component thread sees as its own (and every other thread as before)."""

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


@contextmanager
def thread_argv() -> Iterator[None]:
    """Give component threads their own ``sys.argv`` for the duration of a run."""
    real = sys.argv
    _ARGV[:] = real
    _ARGV.per_thread.clear()
    sys.argv = _ARGV
    try:
        yield
    finally:
        sys.argv = real


def until(components: list[Component], names: list[str]) -> dict[str, Callable[[], None]]:
    """Bodies where the components not in ``names`` run in a daemon child and stop counting once ``names`` are done."""
    unknown = set(names) - {c.name for c in components}
    if unknown:
        raise ValueError(f"--until names no component: {', '.join(sorted(unknown))}")
    finished = threading.Event()
    remaining = [len(names)]
    lock = threading.Lock()
    bodies: dict[str, Callable[[], None]] = {}
    for component in components:
        body = component.body()
        if component.name in names:
            bodies[component.name] = _then(body, lambda: _count_down(remaining, lock, finished))
        else:
            bodies[component.name] = _in_background(body, component.name, finished)
    return bodies


def _count_down(remaining: list[int], lock: threading.Lock, finished: threading.Event) -> None:
    with lock:
        remaining[0] -= 1
        if remaining[0] <= 0:
            finished.set()


def _then(body: Callable[[], None], after: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            body()
        finally:
            after()

    run.__name__ = body.__name__
    return run


def _in_background(body: Callable[[], None], name: str, finished: threading.Event) -> Callable[[], None]:
    def run() -> None:
        errors: list[BaseException] = []

        def guarded() -> None:
            try:
                body()
            except BaseException as error:  # noqa: BLE001 - reported by the waiting thread
                errors.append(error)

        worker = threading.Thread(target=guarded, name="main", daemon=True)
        worker.start()
        while not finished.wait(0.05):
            if not worker.is_alive():
                break
        if errors and isinstance(errors[0], Exception):  # NetworkStopped and the like end it quietly
            raise errors[0]

    run.__name__ = name
    return run
