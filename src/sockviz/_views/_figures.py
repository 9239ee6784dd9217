"""Figures the command line saves: a trace's plot drawn off-screen (Agg) into a file."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import _plots, _timeline, _waits
from ._style import style

if TYPE_CHECKING:
    from .._trace._trace import Trace

__all__ = ["save_plot"]


def save_plot(trace: Trace, path: str, kind: str, *, by: str, style_name: str) -> None:
    """Draw ``kind`` of ``trace`` off-screen (Agg) and save it; the format follows the suffix."""
    with style(style_name):
        lanes = len(trace.sockets()) if kind == "states" else len(trace.threads)
        width, font = mpl.rcParams["figure.figsize"][0], mpl.rcParams["font.size"]
        figure = Figure(
            figsize=(width, max(2.2, (0.25 + 0.028 * font) * lanes + 0.12 * font)),
            layout="constrained",
        )
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        if kind == "timeline":
            _timeline.plot_timeline(trace, ax, by=by)
        elif kind == "sequence":
            figure.set_size_inches(width, max(4.0, min(2 * width, 2.0 + 0.05 * len(trace.events))))
            _plots.plot_sequence(trace, ax, by=by if by == "time" else "order")
        elif kind == "waits":
            _waits.plot_waits(trace, ax)
        else:
            getattr(_plots, f"plot_{kind}")(trace, ax)
        figure.savefig(path)
