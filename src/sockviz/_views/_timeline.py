"""``plot_timeline``: a lane per thread, waits as bars, meetings as arrows.

The geometry comes from :mod:`._geometry`; this module only paints it,
with one collection per layer (``PolyCollection`` for bars, ``PathCollection``
for markers, ``Quiver`` for arrows), each tagged with a ``gid`` so tests and
the replay widget can find them: ``sockviz-calls``, ``sockviz-waits``,
``sockviz-states``, ``sockviz-outputs``, ``sockviz-wakes``,
``sockviz-meetings``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._aggregate import aggregate
from ._cuts import TimeCuts, ms_words
from ._geometry import TimelineGeometry, timeline_geometry
from ._labels import ABOVE_THEN_BESIDE, CENTRED, INSIDE, label_layer
from ._style import (
    CALL_COLOUR,
    MEETING_COLOUR,
    TEXT_ON,
    WAIT_COLOURS,
    WAIT_LEGEND,
    WAKE_COLOUR,
    colour_of_wait,
    text_colour_on,
    wait_category,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._trace._trace import Trace

__all__ = [
    "draw_timeline",
    "figure_height",
    "legend_handles",
    "new_axes",
    "paint_cuts",
    "plot_timeline",
    "timeline_title",
]

#: A label's background: it stays readable over a bar or an arrow.
_PAPER = {"boxstyle": "square,pad=0.08", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"}

#: Most text labels a timeline writes (bars, modes, outputs); beyond, the widest win.
MAX_LABELS = 60


def new_axes(ax: Axes | None, height: float | None = None) -> Axes:
    """``ax``, or a new figure's axes (made without pyplot's global state when possible)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    width = max(plt.rcParams["figure.figsize"][0], 10.0)
    _figure, axes = plt.subplots(
        figsize=(width, height or plt.rcParams["figure.figsize"][1]), layout="constrained"
    )
    return axes


def figure_height(lanes: int, *, legend_entries: int = 0) -> float:
    """Inches that fit ``lanes`` lanes and a legend of that many entries at the current font
    size."""
    import matplotlib as mpl

    font = float(mpl.rcParams["font.size"])
    lanes_inches = 0.05 * font * lanes + 0.16 * font  # each lane, plus title and x axis
    legend_inches = (1.3 * legend_entries + 0.6) * 0.85 * font / 72  # the legend's "small" entries
    return max(2.2, lanes_inches, legend_inches)


#: A wait bar's height, in lanes.
WAIT_BAR = 0.56


def _rects(rows: np.ndarray, height: float) -> np.ndarray:
    """Rectangles (n, 4, 2) for bars ``(lane, x0, x1)`` centred on their lane."""
    lane, x0, x1 = rows[:, 0], rows[:, 1], rows[:, 2]
    top, bottom = lane - height / 2, lane + height / 2
    return np.stack(
        [
            np.column_stack([x0, top]),
            np.column_stack([x1, top]),
            np.column_stack([x1, bottom]),
            np.column_stack([x0, bottom]),
        ],
        axis=1,
    )


def plot_timeline(
    trace: Trace,
    ax: Axes | None = None,
    *,
    by: str = "time",
    threads: str | list[str] | None = None,
    kinds: str | list[str] | None = None,
    window: tuple[float | None, float | None] | None = None,
    labels: bool = True,
    legend: bool = True,
    internals: bool = False,
    cut_idle: bool = True,
) -> Axes:
    """Draw ``trace`` as a timeline: one lane per thread, waits, state changes, meetings.

    ``by="time"`` puts events at their time (ms); ``by="order"`` spaces them
    evenly.  ``threads`` keeps some lanes (a component keeps its child
    threads); ``kinds`` keeps some layers (``"waits"``, ``"calls"``,
    ``"states"``, ``"outputs"``, ``"wakes"``, ``"meetings"``, or event kinds
    such as ``"state"`` or ``"meet"``); ``window=(start, end)`` zooms (ms for
    time, event positions for order).  ``internals=True`` also shows the
    simulator's own bookkeeping: threads waiting for the network's internal
    lock.  ``cut_idle`` (``by="time"``) narrows each long stretch where no
    thread records anything to a grey band labelled with the time it stands
    for, so the picture shows what happened, not the waiting; ``window`` is
    still in real ms.  Returns the Axes.
    """
    geometry = timeline_geometry(
        trace, by=by, threads=threads, kinds=kinds, internals=internals, cut_idle=cut_idle
    )
    ax = new_axes(
        ax,
        height=figure_height(len(geometry.lanes), legend_entries=11 if legend else 0)
        if ax is None
        else None,
    )
    draw_timeline(ax, geometry, window=window, labels=labels, legend=legend)
    ax.set_title(timeline_title(trace), loc="left")
    return ax


def timeline_title(trace: Trace) -> str:
    """ "143 events, weldr semantics, Seeded(7)": what a timeline's title says of its trace."""
    semantics = trace.meta.get("semantics")
    title = f"{len(trace):,} events" + (f", {semantics} semantics" if semantics else "")
    schedule = trace.meta.get("schedule") or {}
    if schedule.get("policy") == "seeded":
        title += f", Seeded({schedule.get('seed')})"
    elif schedule.get("policy") == "scripted":
        title += ", Scripted"
    elif schedule.get("policy") == "pct":
        title += f", PCT({schedule.get('seed')}, depth={schedule.get('depth')})"
    return title


def draw_timeline(
    ax: Axes,
    geometry: TimelineGeometry,
    *,
    window: tuple[float | None, float | None] | None = None,
    labels: bool = True,
    legend: bool = True,
) -> None:
    """Paint ``geometry`` on ``ax`` (the part of plot_timeline that the replay widget reuses)."""
    from matplotlib.collections import LineCollection, PolyCollection

    lo, hi = geometry.span
    if geometry.alarms:  # after a deadlock or a timeout come the weld's own clean-up events:
        hi = min(hi, min(x for x, _ in geometry.alarms))  # the story ends at the alarm
    pad = (hi - lo) * 0.02 or 0.5
    if window is not None and geometry.cuts is not None:  # the window is in real ms
        window = tuple(None if w is None else float(geometry.cuts.to_x(w)) for w in window)  # type: ignore[assignment]
    x0 = lo - pad if window is None or window[0] is None else window[0]
    x1 = hi + pad if window is None or window[1] is None else window[1]
    pixels = max(int(ax.get_window_extent().width), 100)
    geo = aggregate(geometry, (x0, x1), pixels)
    per_pixel = (x1 - x0) / pixels
    n_lanes = len(geo.lanes)
    layers = geo.layers

    ax.add_collection(
        LineCollection(
            [[(x0, lane), (x1, lane)] for lane in range(n_lanes)],
            colors="#CCCCCC",
            linewidths=0.6,
            zorder=0,
            gid="sockviz-lanes",
        )
    )
    if "calls" in layers and len(geo.calls):
        ax.add_collection(
            PolyCollection(
                list(_rects(geo.calls, 0.22)),
                facecolors=CALL_COLOUR,
                edgecolors="none",
                zorder=1,
                gid="sockviz-calls",
            )
        )
    if "waits" in layers and len(geo.waits):
        _paint_waits(ax, geo, (x0, x1), per_pixel, labels=labels)
    _paint_marks(ax, geo, per_pixel, labels=labels)
    if labels and len(geo.meetings):  # labels keep clear of the meeting arrowheads
        label_layer(ax).avoid(geo.meetings[:, 2:4], 11.0)  # (a head over "INBOUND" hides it)
    if "wakes" in layers and len(geo.wakes):
        _arrows(ax, geo.wakes, WAKE_COLOUR, width=0.9, head=7.0, gid="sockviz-wakes", zorder=5)
    if "meetings" in layers and len(geo.meetings):
        _arrows(
            ax, geo.meetings, MEETING_COLOUR, width=2.6, head=11.0, gid="sockviz-meetings", zorder=6
        )
    _paint_alarms(ax, geo)
    _paint_axes(ax, geo, (x0, x1))
    if legend:
        _legend(ax, geo)


def _paint_waits(
    ax: Axes, geo: TimelineGeometry, window: tuple[float, float], per_pixel: float, *, labels: bool
) -> None:
    """The wait bars, coloured by what they wait for, labelled where the label fits (the widest
    first)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgba_array

    x0, x1 = window
    colours = [colour_of_wait(w) for w in geo.wait_what]
    faces = to_rgba_array(colours)
    # half-tone: blocked part of the time
    faces[:, 3] = 0.9 if geo.wait_coverage is None else 0.2 + 0.7 * geo.wait_coverage
    bars = PolyCollection(
        list(_rects(geo.waits, WAIT_BAR)),
        facecolors=faces,
        edgecolors="none",
        zorder=2,
        gid="sockviz-waits",
    )
    ax.add_collection(bars)
    if not labels:
        return
    layer = label_layer(ax)
    lanes, starts, ends = geo.waits.T  # (a quoted line goes above a bar, not over its end)
    half = WAIT_BAR / 2
    layer.keep_off(np.column_stack([starts, lanes - half, ends, lanes + half]))
    char_px = _char_pixels(ax, "x-small")
    widths = (np.minimum(geo.waits[:, 2], x1) - np.maximum(geo.waits[:, 1], x0)) / per_pixel
    fits = widths >= np.array([len(w) * char_px + 6 for w in geo.wait_what])
    wide = np.flatnonzero(fits)
    wide = wide[np.argsort(-widths[wide])][:MAX_LABELS]
    for i in wide:
        lane, a, b = geo.waits[i]
        a, b = max(a, x0), min(b, x1)
        layer.add(
            ((a + b) / 2, lane), geo.wait_what[i], candidates=INSIDE, within=(a, b),
            fontsize="x-small", color=TEXT_ON.get(colours[i]) or text_colour_on(colours[i]),
            gid="sockviz-wait-label",
        )  # fmt: skip


def _paint_alarms(ax: Axes, geo: TimelineGeometry) -> None:
    """A deadlock, a stuck run, a timeout or a block outside ends the run: marked across every
    lane, named at the top (the axis ends there: what follows is the weld's clean-up)."""
    layer = label_layer(ax)
    for x, what in geo.alarms:
        said = "blocked outside" if what == "outside" else what
        ax.axvline(
            x, color=MEETING_COLOUR, linestyle="--", linewidth=1.5, zorder=7, gid="sockviz-alarm"
        )
        layer.add(
            (x, 1.0), said.upper(), xycoords=("data", "axes fraction"),
            candidates=((-3.0, -1, "right"), (3.0, -1, "left")), color=MEETING_COLOUR,
            fontsize="small", fontweight="bold", gid="sockviz-alarm-label", priority=True,
        )  # fmt: skip


def _paint_axes(ax: Axes, geo: TimelineGeometry, x_range: tuple[float, float]) -> None:
    """The window, a tick per lane named after its thread, and what the x axis measures."""
    n_lanes = len(geo.lanes)
    ax.set_xlim(*x_range)
    ax.set_ylim(n_lanes - 0.5, -0.6)
    ax.set_yticks(range(n_lanes), geo.lanes)
    ax.tick_params(axis="y", length=0)
    paler = " — aggregated per pixel: paler bars, blocked part of the time"
    ax.set_xlabel(geo.x_label + (paler if geo.aggregated else ""))
    if geo.cuts is not None:
        paint_cuts(ax, geo.cuts)


def paint_cuts(ax: Axes, cuts: TimeCuts) -> None:
    """Each cut as a grey band (over the bars that cross it, which show through) labelled at the
    top with the time it stands for, a break mark on the axis, and tick labels that read real
    milliseconds."""
    from matplotlib.ticker import FuncFormatter

    layer = label_layer(ax)
    for x0, x1, ms in cuts.bands:
        ax.axvspan(
            x0, x1, facecolor="#E6E6E6", alpha=0.75, zorder=2.5, linewidth=0, gid="sockviz-cut"
        )
        for x in (x0, x1):  # the broken axis' "//"
            ax.plot(
                [x - (x1 - x0) * 0.12, x + (x1 - x0) * 0.12], [-0.012, 0.012], color="black",
                linewidth=0.9, transform=ax.get_xaxis_transform(), clip_on=False, zorder=8,
            )  # fmt: skip
        layer.add(
            ((x0 + x1) / 2, 1.0), f"{ms_words(ms)}\nskipped", xycoords=("data", "axes fraction"),
            candidates=((0.0, -1, "center"),), fontsize="xx-small", color="#444444",
            gid="sockviz-cut-label", priority=True,
        )  # fmt: skip
    ax.xaxis.set_major_locator(_CutLocator(cuts))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{float(cuts.to_ms(x)):.6g}"))


def _CutLocator(cuts: TimeCuts) -> Any:  # noqa: N802 -- a class made lazily, named as one
    from matplotlib.ticker import Locator, MaxNLocator

    class CutLocator(Locator):
        def __call__(self) -> Any:
            lo, hi = self.axis.get_view_interval()  # type: ignore[union-attr]
            return self.tick_values(lo, hi)

        def tick_values(self, vmin: float, vmax: float) -> Any:
            width = max(vmax - vmin, 1e-12)
            edges = [x for band in cuts.bands for x in band[:2]]
            candidates: list[float] = []
            for a, b in cuts.segments():
                a, b = max(a, vmin), min(b, vmax)
                if b <= a:
                    continue
                bins = max(1, round(8 * (b - a) / width))
                ms = MaxNLocator(nbins=bins).tick_values(*map(float, cuts.to_ms([a, b])))
                xs = [float(x) for x in cuts.to_x(ms) if a <= x <= b]
                # a tick label hard by a band would run into the next stretch's
                candidates += [x for x in xs if all(abs(x - e) > 0.035 * width for e in edges)]
            ticks: list[float] = []
            for x in sorted(candidates):  # tick labels with room between them
                if not ticks or x - ticks[-1] >= self._room(width):
                    ticks.append(x)
            return np.array(ticks)

        def _room(self, width: float) -> float:
            """The x distance two tick labels need: a tenth of the axis, or eight characters of
            the tick font with some air, whichever is more."""
            import matplotlib as mpl

            axis: Any = self.axis
            pixels = max(float(axis.axes.bbox.width), 1.0) if axis is not None else 800.0
            size = mpl.font_manager.FontProperties(size=mpl.rcParams["xtick.labelsize"])
            dpi = float(axis.axes.figure.dpi) if axis is not None else 100.0
            label = 8 * 0.6 * size.get_size_in_points() * dpi / 72
            return max(0.1 * width, label * width / pixels)

    return CutLocator()


def _paint_marks(ax: Axes, geo: TimelineGeometry, per_pixel: float, *, labels: bool) -> None:
    """Diamonds for mode changes (labelled with the new mode), circles for printed lines (with the
    line)."""
    if "states" in geo.layers and len(geo.states):
        ax.scatter(
            geo.states[:, 1],
            geo.states[:, 0],
            marker="D",
            s=22,
            color="black",
            zorder=4,
            gid="sockviz-states",
            linewidths=0,
        )
        if labels:
            layer = label_layer(ax)
            layer.avoid(geo.states[:, ::-1], 5.5)
            width = _char_pixels(ax, "xx-small") * per_pixel  # one character, in data units
            sockets, modes = zip(*(m.rpartition(":")[::2] for m in geo.state_mode), strict=True)
            for lane, x, told, at in _chained(geo.states, list(modes), width):
                # before the wait bars' labels, which can slide along their bar out of the way
                layer.add(
                    (x, lane), _modes_in_order(told, [sockets[i] for i in at]),
                    candidates=CENTRED, fontsize="xx-small", gid="sockviz-state-label",
                    bbox=_PAPER, priority=True,
                )  # fmt: skip
    if "outputs" in geo.layers and len(geo.outputs):
        ax.scatter(
            geo.outputs[:, 1],
            geo.outputs[:, 0],
            marker="o",
            s=30,
            facecolors="white",
            edgecolors="black",
            zorder=4,
            gid="sockviz-outputs",
        )
        if labels:
            layer = label_layer(ax)
            layer.avoid(geo.outputs[:, ::-1], 6.0)
            width = _char_pixels(ax, "xx-small") * per_pixel
            quoted = [f"“{t if len(t) <= 56 else t[:55] + '…'}”" for t in geo.output_text]
            # lines printed close together: one label, in the order they were printed
            for lane, x, texts, _ in _chained(geo.outputs, quoted, width, sep="  "):
                layer.add(
                    (x, lane), "  ".join(texts), candidates=ABOVE_THEN_BESIDE, fontsize="xx-small",
                    style="italic", gid="sockviz-output-label", bbox=_PAPER, off_bars=True,
                )  # fmt: skip


def _char_pixels(ax: Axes, size: str) -> float:
    """About how wide one character of font size ``size`` is on ``ax``, in pixels."""
    from matplotlib.font_manager import FontProperties

    points = FontProperties(size=size).get_size_in_points()
    return points * 0.6 * ax.figure.dpi / 72


def _modes_in_order(modes: list[str], sockets: list[str]) -> str:
    """One label for a run of mode changes: " → " between two of the same socket, " · " between
    two sockets ("LISTEN · INBOUND": the listener is not what became INBOUND)."""
    told = modes[0]
    for k in range(1, len(modes)):
        told += (" → " if sockets[k] == sockets[k - 1] else " · ") + modes[k]
    return told


def _chained(
    points: np.ndarray, texts: list[str], char: float, sep: str = " → "
) -> list[tuple[float, float, list[str], list[int]]]:
    """One label per run of marks on a lane whose labels, centred under them, would touch: the run's
    modes are told in order, centred under the run ("NOT_INIT → CONNECTING → OUTBOUND"), so no
    label ever sits under a diamond that is not its own.  ``char`` is one character's width in
    data units.  Each run comes with the indices of its marks.  At most MAX_LABELS labels."""
    air = 3 * char
    # lane -> (first x, last x, texts, indices)
    open_runs: dict[float, tuple[float, float, list[str], list[int]]] = {}
    runs: list[tuple[float, float, list[str], list[int]]] = []

    def half(first: float, last: float, told: list[str]) -> tuple[float, float]:
        """The run's label, centred under it: (its middle, its half width)."""
        return (first + last) / 2, len(sep.join(told)) * char / 2

    for index, ((lane, x), text) in enumerate(zip(points, texts, strict=True)):
        run = open_runs.get(lane)
        if run is not None:
            middle, reach = half(*run[:3])
            if x - len(text) * char / 2 - air < middle + reach:
                open_runs[lane] = (run[0], x, [*run[2], text], [*run[3], index])
                continue
            runs.append((lane, middle, run[2], run[3]))
        open_runs[lane] = (x, x, [text], [index])
    runs += [(lane, half(*run[:3])[0], run[2], run[3]) for lane, run in open_runs.items()]
    runs.sort(key=lambda run: run[1])
    return runs[:MAX_LABELS]


def _arrows(
    ax: Axes, rows: np.ndarray, colour: str, *, width: float, head: float, gid: str, zorder: int
) -> Any:
    """Arrows ``(x0, lane0) -> (x1, lane1)`` as one Quiver (one artist, however many arrows), with
    heads ``head`` pixels wide whatever the shaft's width: visible at every zoom."""
    quiver = ax.quiver(
        rows[:, 0], rows[:, 1], rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1],
        angles="xy", scale_units="xy", scale=1, color=colour, width=width, units="dots",
        headwidth=head / width, headlength=head * 1.2 / width, headaxislength=head * 1.1 / width,
        zorder=zorder, gid=gid,
    )  # fmt: skip
    return quiver


def _legend(ax: Axes, geo: TimelineGeometry) -> None:
    handles = legend_handles(geo)
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize="small",
            borderaxespad=0,
        )


def legend_handles(geo: TimelineGeometry) -> list[Any]:
    """The legend entries for what ``geo`` draws."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    if "waits" in geo.layers and len(geo.waits):
        calls: dict[str, dict[str, None]] = {}  # category -> the calls it stands for here
        for what in geo.wait_what:
            calls.setdefault(wait_category(what), {})[what.split()[0]] = None
        for category, names in calls.items():
            label = WAIT_LEGEND.get(
                category, "waits in " + " / ".join(f"{name}()" for name in names)
            )
            handles.append(Patch(color=WAIT_COLOURS[category], label=label))
    if "calls" in geo.layers and len(geo.calls):
        handles.append(Patch(color=CALL_COLOUR, label="in a socket call"))
    if "states" in geo.layers and len(geo.states):
        handles.append(
            Line2D(
                [],
                [],
                marker="D",
                color="black",
                linestyle="none",
                markersize=5,
                label="socket changes mode",
            )
        )
    if "outputs" in geo.layers and len(geo.outputs):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                markerfacecolor="white",
                color="black",
                linestyle="none",
                label="prints a line",
            )
        )
    if "wakes" in geo.layers and len(geo.wakes):
        handles.append(Line2D([], [], color=WAKE_COLOUR, linewidth=1, label="wakes a thread"))
    if "meetings" in geo.layers and len(geo.meetings):
        handles.append(
            Line2D(
                [],
                [],
                color=MEETING_COLOUR,
                linewidth=2.6,
                label="connect() → the accept()\nthat takes its connection",
            )
        )
    return handles
