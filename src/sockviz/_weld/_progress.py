"""Progress bars for long work: ``explore``'s runs, a long weld's events, ``sockviz run``.

``tqdm.auto`` draws a widget in a notebook (JupyterLab, Voila) and a text bar
in a terminal.  By default (``progress=None``) a bar appears only once the
work has lasted a second, and only where somebody watches (a notebook, or a
terminal: not output piped to a file or a CI log): the short runs of a lesson
show nothing, a long one shows how far it got.  ``progress=True`` shows it at
once, ``False`` never.  tqdm is imported on first use (``import sockviz``
stays quick).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["AFTER_S", "progress_bar"]

#: ``progress=None``: the bar appears once the work has lasted this long
AFTER_S = 1.0


@contextlib.contextmanager
def progress_bar(
    progress: bool | None, *, total: int | None, what: str, unit: str
) -> Iterator[Callable[[int], None]]:
    """A bar over ``total`` pieces of work (None: a counter); yields ``advance(n)``."""
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None (after a second), not {progress!r}")
    if progress is False or (progress is None and not _watched()):
        yield _nothing
        return
    bar = _LateBar(total, what, unit, after=0.0 if progress else AFTER_S)
    try:
        yield bar.advance
    finally:
        bar.close()


class _LateBar:
    """A tqdm bar made only once the work has lasted ``after`` seconds: a short weld in a
    notebook costs no widget at all."""

    def __init__(self, total: int | None, what: str, unit: str, after: float) -> None:
        self.options = {"total": total, "desc": what, "unit": unit, "dynamic_ncols": True}
        self.leave = after == 0.0
        self.due = time.monotonic() + after
        self.done = 0
        self.bar: Any = None
        if after == 0.0:
            self._show()

    def _show(self) -> None:
        from tqdm.auto import tqdm

        class Bar(tqdm):  # type: ignore[misc]
            monitor_interval = 0  # (no "tqdm_monitor" thread left running after the bar)

        self.bar = Bar(initial=self.done, leave=self.leave, **self.options)

    def advance(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif time.monotonic() >= self.due:
            self._show()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _nothing(n: int) -> None:
    pass


def _watched() -> bool:
    """Is there somebody to see a bar: a notebook's kernel, or a terminal on stderr?"""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())
