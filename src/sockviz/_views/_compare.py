"""``plot_compare``: two or more traces as timelines one above the other, made to be compared.

Side by side, two runs only compare if they are drawn alike: the same lanes in
the same order (a thread missing from one run keeps its empty lane), one x
axis shared by every panel, one legend for the figure.  Each panel keeps its
own title, so the reader knows which run is which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._geometry import timeline_geometry
from ._timeline import draw_timeline, figure_height, legend_handles, timeline_title

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._trace._trace import Trace

__all__ = ["plot_compare", "shared_lanes"]


def shared_lanes(traces: Sequence[Trace]) -> list[str]:
    """Every thread of every trace, once: components in the order they first appear, each
    followed by its own threads (``server``, ``server/handler1``...)."""
    seen = list(dict.fromkeys(thread for trace in traces for thread in trace.threads))
    components = list(dict.fromkeys(thread.split("/", 1)[0] for thread in seen))
    return sorted(seen, key=lambda thread: components.index(thread.split("/", 1)[0]))


def plot_compare(
    traces: Sequence[Trace],
    titles: Sequence[str] | None = None,
    *,
    by: str = "order",
    kinds: str | list[str] | None = None,
    internals: bool = False,
) -> list[Axes]:
    """Draw ``traces`` one above the other, with the same lanes, a shared x axis and one legend.

    ``titles`` names each panel (by default: its events, semantics and schedule).  ``by="order"``
    (the default) compares the runs step by step; ``by="time"`` in milliseconds, on a plain axis
    (idle stretches are not cut: each run would cut its own).  Returns the list of Axes, top first.
    """
    import matplotlib.pyplot as plt

    traces = list(traces)
    if not traces:
        raise ValueError("plot_compare needs at least one trace")
    if titles is not None and len(titles) != len(traces):
        raise ValueError(f"{len(titles)} titles for {len(traces)} traces: give one per trace")
    lanes = shared_lanes(traces)
    geometries = [
        timeline_geometry(
            trace, by=by, kinds=kinds, internals=internals, lanes=lanes, cut_idle=False
        )
        for trace in traces
    ]
    panel = figure_height(len(lanes))
    width = max(plt.rcParams["figure.figsize"][0], 10.0)
    figure, axes = plt.subplots(
        len(traces), 1, figsize=(width, panel * len(traces)), sharex=True, layout="constrained",
        squeeze=False,
    )  # fmt: skip
    lo = min(g.span[0] for g in geometries)
    hi = max(g.span[1] for g in geometries)
    pad = (hi - lo) * 0.02 or 0.5
    handles: dict[str, Any] = {}
    for ax, geometry, title in zip(
        axes[:, 0], geometries, titles or [timeline_title(t) for t in traces], strict=True
    ):
        draw_timeline(ax, geometry, window=(lo - pad, hi + pad), legend=False)
        ax.set_title(title, loc="left")
        for handle in legend_handles(geometry):
            handles.setdefault(handle.get_label(), handle)
        if ax is not axes[-1, 0]:
            ax.set_xlabel("")
    if handles:
        figure.legend(handles=list(handles.values()), loc="outside right upper", fontsize="small")
    return list(axes[:, 0])
