"""Every figure a student sees, checked as a student would read it: every plot of every demo
scenario, in the notebook and the lecture style.

* every label lies inside its axes and every other text inside the figure -- nothing cut off;
* no two labels overlap, nor two tick labels;
* in a small trace, every mode change of the timeline carries its label;
* the simulator's own lock is not in the legend unless ``internals=True``;
* every arrowhead is at least 6 px long and wide.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.quiver import Quiver
from matplotlib.transforms import Bbox

import sockviz

from .scenarios import scenario_trace

#: The scenarios drawn, with the options that make each one small enough to read.
RUNS = {
    "echo": ("echo", "strict", {}),
    "echo-weldr": ("echo", "weldr", {}),
    "race-weldr": ("race", "weldr", {}),
    "backlog": ("backlog", "strict", {}),
    "backpressure": ("backpressure", "strict", {"buffer_size": 16 * 1024}),
    "deadlock": ("deadlock", "strict", {}),
    # (seeded: its many close-together mode changes are labelled the same way every run)
    "http": ("http", "strict", {"schedule": sockviz.Seeded(0)}),
}

PLOTS: dict[str, Callable[[sockviz.Trace], Any]] = {
    "timeline": lambda t: sockviz.plot_timeline(t),
    "timeline-order": lambda t: sockviz.plot_timeline(t, by="order"),
    "sequence": lambda t: sockviz.plot_sequence(t),
    "states": lambda t: sockviz.plot_states(t),
    "waits": lambda t: sockviz.plot_waits(t),
    "buffers": lambda t: sockviz.plot_buffers(t),
}

#: A trace this small must have every mode change labelled on its timeline.
SMALL = 300


@pytest.fixture(scope="module")
def traces() -> dict[str, sockviz.Trace]:
    return {
        name: scenario_trace(scenario, semantics, echo=False, **options)
        for name, (scenario, semantics, options) in RUNS.items()
    }


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _box(text: Any, renderer: Any) -> Bbox:
    return text.get_window_extent(renderer)


def _shrunk(box: Bbox, by: float = 0.5) -> Bbox:
    return Bbox.from_extents(box.x0 + by, box.y0 + by, box.x1 - by, box.y1 - by)


def _inside(box: Bbox, frame: Bbox, slack: float = 1.0) -> bool:
    return (
        box.x0 >= frame.x0 - slack
        and box.x1 <= frame.x1 + slack
        and box.y0 >= frame.y0 - slack
        and box.y1 <= frame.y1 + slack
    )


def _overlaps(boxes: list[tuple[str, Bbox]]) -> list[tuple[str, str]]:
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
        if _shrunk(box_a).overlaps(_shrunk(box_b))
    ]


def check_readable(figure: Any) -> None:
    """The figure's text and arrows as a student needs them (see the module docstring)."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    frame = figure.bbox
    for ax in figure.axes:
        labels = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
        boxes = [(t.get_text(), _box(t, renderer)) for t in labels]
        cut = [text for text, box in boxes if not _inside(box, ax.bbox)]
        assert not cut, f"labels leaving their axes: {cut}"
        assert not _overlaps(boxes), f"labels overlapping: {_overlaps(boxes)}"
        lo, hi = sorted(ax.get_xlim())
        drawn = [  # matplotlib draws only the ticks within the view
            t for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi
        ]
        ticks = [(t.get_text(), _box(t, renderer)) for t in drawn]
        assert not _overlaps(ticks), f"tick labels overlapping: {_overlaps(ticks)}"
        y_lo, y_hi = sorted(ax.get_ylim())
        others = [ax.title, ax.xaxis.label, ax.yaxis.label, *drawn]
        others += [t for t in ax.get_yticklabels() if y_lo <= t.get_position()[1] <= y_hi]
        legend = ax.get_legend()
        if legend is not None:
            others += legend.get_texts()
        outside = [
            t.get_text()
            for t in others
            if t.get_visible() and t.get_text() and not _inside(_box(t, renderer), frame)
        ]
        assert not outside, f"text cut off by the figure's edge: {outside}"
        for quiver in (c for c in ax.collections if isinstance(c, Quiver)):
            assert quiver.units == "dots"
            assert quiver.width * quiver.headwidth >= 6, quiver.get_gid()
            assert quiver.width * quiver.headlength >= 6, quiver.get_gid()
    for legend in figure.legends:
        texts = [t.get_text() for t in legend.get_texts() if not _inside(_box(t, renderer), frame)]
        assert not texts, f"legend cut off: {texts}"


@pytest.mark.parametrize("style", ["notebook", "lecture"])
@pytest.mark.parametrize("plot", list(PLOTS))
def test_every_plot_of_every_scenario_is_readable(
    traces: dict[str, sockviz.Trace], plot: str, style: str
) -> None:
    """Nothing cut off, nothing overlapping, arrowheads that show, for every scenario."""
    with sockviz.style(style):
        for name, trace in traces.items():
            ax = PLOTS[plot](trace)
            try:
                check_readable(ax.figure)
            except AssertionError as exc:
                raise AssertionError(f"{plot} of {name} ({style}): {exc}") from None
            plt.close(ax.figure)


@pytest.mark.parametrize("style", ["notebook", "lecture"])
def test_every_mode_change_of_a_small_trace_is_labelled(
    traces: dict[str, sockviz.Trace], style: str
) -> None:
    """Each diamond of a small timeline (time or order) carries the mode it changes to -- or, a
    few pixels from the one before, shares its label ("NOT_INIT → CONNECTING")."""
    with sockviz.style(style):
        for (name, trace), by in itertools.product(traces.items(), ("time", "order")):
            if len(trace) > SMALL:
                continue
            ax = sockviz.plot_timeline(trace, by=by)
            ax.figure.canvas.draw()
            (states,) = [c for c in ax.collections if c.get_gid() == "sockviz-states"]
            lo, hi = ax.get_xlim()  # (a run that deadlocked is drawn up to the alarm)
            shown = [x for x, _ in states.get_offsets() if lo <= x <= hi]
            labels = [
                t for t in ax.texts if t.get_gid() == "sockviz-state-label" and t.get_visible()
            ]
            # marks a few pixels apart share one label telling their modes in order
            told = [m for label in labels for m in re.split(" → | · ", label.get_text())]
            assert len(told) == len(shown), (
                f"{name} by {by} ({style}): {len(told)} modes labelled of {len(shown)} mode changes"
            )
            plt.close(ax.figure)


def test_the_simulators_lock_is_shown_only_when_asked(traces: dict[str, sockviz.Trace]) -> None:
    """A wait for the network's own lock is bookkeeping: hidden by default, in the legend and
    the bars with ``internals=True``."""
    trace = next(t for t in traces.values() if t.waits(internals=True) != t.waits())
    assert all(w.until != "lock" for w in trace.waits())

    def legend_of(ax: Any) -> set[str]:
        return {t.get_text() for t in ax.get_legend().get_texts()}

    ax = sockviz.plot_timeline(trace)
    assert not any("lock" in entry for entry in legend_of(ax))
    ax = sockviz.plot_timeline(trace, internals=True)
    assert "waits for a lock" in legend_of(ax)
    assert not any("lock" in entry for entry in legend_of(sockviz.plot_waits(trace)))
    assert "waits for the network's lock" in legend_of(sockviz.plot_waits(trace, internals=True))


@pytest.mark.parametrize("style", ["notebook", "lecture"])
def test_compared_runs_share_lanes_axis_and_legend(
    traces: dict[str, sockviz.Trace], style: str
) -> None:
    """plot_compare: one panel per run, the same lanes in the same order, one shared x axis, one
    legend for the figure, each panel titled."""
    runs = [traces["echo-weldr"], traces["echo"]]
    with sockviz.style(style):
        axes = sockviz.plot_compare(runs, titles=["weldr's model", "Linux"])
        check_readable(axes[0].figure)
    lanes = [[t.get_text() for t in ax.get_yticklabels()] for ax in axes]
    assert lanes[0] == lanes[1] and set(lanes[0]) == set(runs[0].threads) | set(runs[1].threads)
    assert axes[0].get_shared_x_axes().joined(axes[0], axes[1])
    assert axes[0].get_xlim() == axes[1].get_xlim()
    assert [ax.get_title(loc="left") for ax in axes] == ["weldr's model", "Linux"]
    assert all(ax.get_legend() is None for ax in axes)
    (legend,) = axes[0].figure.legends
    assert "waits in recv()" in {t.get_text() for t in legend.get_texts()}
    with pytest.raises(ValueError, match="1 titles for 2 traces"):
        sockviz.plot_compare(runs, titles=["one"])
    with pytest.raises(ValueError, match="at least one trace"):
        sockviz.plot_compare([])
