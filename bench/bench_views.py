"""Views benchmark: drawing the timeline of big traces, and stepping the replay widget.

Run: ``.venv/bin/python bench/bench_views.py`` (or ``make bench``).  Traces
are real welded ping-pongs of 100,000 and 1,000,000 events.  For the
timeline it prints

* the one-time preparation (the trace's analysis: waits, meetings, geometry),
* the draw (``plot_timeline`` on an Agg canvas with that analysis cached,
  rendered to pixels), the figure the issue's budget is about, and
* a baseline in the same process: Agg drawing one plain ``ax.plot`` line
  through every event (the least any picture of N events can cost), as a ratio.

For the replay widget: the mean and worst kernel time of a step at 100,000
events (``Replay.step()``, which moves the overlay and rewrites the
narration and the state panel).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import sockviz
from sockviz._views._geometry import timeline_geometry
from sockviz._views._timeline import draw_timeline

sys.path.insert(0, str(Path(__file__).parent))
from bench_traces import ping_pong_trace


def canvas() -> tuple[Figure, object]:
    figure = Figure(figsize=(12, 3.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def draw_seconds(trace: sockviz.Trace, geometry: object) -> float:
    started = time.perf_counter()
    figure, ax = canvas()
    draw_timeline(ax, geometry)  # type: ignore[arg-type]
    figure.canvas.draw()
    return time.perf_counter() - started


def baseline_seconds(trace: sockviz.Trace) -> float:
    xs = [e.t_ns / 1e6 for e in trace.events]
    ys = [hash(e.thread) % 5 for e in trace.events]
    started = time.perf_counter()
    figure, ax = canvas()
    ax.plot(xs, ys, linewidth=0.5)  # type: ignore[attr-defined]
    figure.canvas.draw()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events only")
    args = parser.parse_args()
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    print("sockviz views benchmark (Agg, 1200x350 px timeline)")
    print(
        f"{'events':>10} {'prepare':>10} {'draw':>10} {'baseline':>10} {'draw/baseline':>14}  "
        "budget"
    )
    for size in sizes:
        trace = ping_pong_trace(size)
        trace.events  # noqa: B018
        started = time.perf_counter()
        geometry = timeline_geometry(trace)
        prepare = time.perf_counter() - started
        draw = min(draw_seconds(trace, geometry) for _ in range(3))
        baseline = min(baseline_seconds(trace) for _ in range(3))
        budget = "<= 0.3 s" if size <= 100_000 else "<= 0.5 s"
        print(
            f"{size:>10,} {prepare:>9.3f}s {draw:>9.3f}s {baseline:>9.3f}s "
            f"{draw / baseline:>13.2f}x  draw {budget}"
        )

    trace = ping_pong_trace(100_000)
    replay = sockviz.replay(trace)
    steps = []
    for _ in range(500):
        started = time.perf_counter()
        replay.step()
        steps.append(time.perf_counter() - started)
    jumps = []
    for index in range(0, 100_000, 997):
        started = time.perf_counter()
        replay.index = index
        jumps.append(time.perf_counter() - started)
    print(
        f"replay at 100,000 events: step {statistics.mean(steps) * 1e3:.2f} ms mean, "
        f"{max(steps) * 1e3:.2f} ms worst; jump anywhere {statistics.mean(jumps) * 1e3:.2f} ms "
        f"mean, {max(jumps) * 1e3:.2f} ms worst  (budget <= 5 ms)"
    )


if __name__ == "__main__":
    main()
