"""The other static plots: a sequence (ladder) diagram, socket states, wait durations, buffers.

Each takes ``ax=`` (a new figure otherwise) and returns the Axes; each draws
with collections, so big traces stay fast.  Colours come from :mod:`._style`.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import (
    MEETING_COLOUR,
    MODE_COLOURS,
    OKABE_ITO,
    WAIT_COLOURS,
    colour_of_wait,
    wait_category,
)
from ._timeline import figure_height, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._core._events import Event
    from .._trace._trace import Trace

__all__ = ["plot_buffers", "plot_sequence", "plot_states", "plot_waits", "sequence_messages"]

#: Most messages a sequence diagram labels; beyond that it draws them unlabelled.
MAX_SEQUENCE_LABELS = 80


def _component(thread: str) -> str:
    return thread.split("/", 1)[0]


def sequence_messages(trace: Trace) -> list[tuple[str, str, int, int, str, str]]:
    """The ladder's arrows: ``(from, to, from_index, to_index, kind, label)``.

    ``kind`` is ``"connect"`` (the handshake, connect() to the meeting),
    ``"data"`` (a write, landing where its last byte is read) or ``"eof"``
    (a shutdown or close, landing where the reader gets ``b''``).
    """
    events = trace.events
    position = {e.seq: i for i, e in enumerate(events)}
    messages: list[tuple[str, str, int, int, str, str]] = []
    for m in trace.meetings():
        if m.what != "connect/accept":
            continue
        start = position.get(
            m.connect_arrived if m.connect_arrived is not None else m.seq, position[m.seq]
        )
        messages.append(
            (
                _component(m.connect_thread),
                _component(m.accept_thread),
                start,
                position[m.seq],
                "connect",
                "connect / accept",
            )
        )
    # buffer -> (end offset, index, thread, n)
    writes: dict[str, list[tuple[int, int, str, int]]] = {}
    # buffer -> (end offsets, indexes, threads)
    reads: dict[str, tuple[list[int], list[int], list[str]]] = {}
    eofs: dict[str, tuple[int, str]] = {}
    written: dict[str, int] = {}
    read: dict[str, int] = {}
    for i, e in enumerate(events):
        if e.kind == "buf.write" and not e.fields.get("dropped"):
            name = str(e.obj)
            written[name] = written.get(name, 0) + int(e.fields.get("n", 0))
            writes.setdefault(name, []).append(
                (written[name], i, e.thread, int(e.fields.get("n", 0)))
            )
        elif e.kind == "buf.read":
            name = str(e.obj)
            read[name] = read.get(name, 0) + int(e.fields.get("n", 0))
            offsets, indexes, threads = reads.setdefault(name, ([], [], []))
            offsets.append(read[name])
            indexes.append(i)
            threads.append(e.thread)
        elif e.kind == "buf.eof":
            eofs[str(e.obj)] = (i, e.thread)
    for name, rows in writes.items():
        offsets, indexes, threads = reads.get(name, ([], [], []))
        for end, i, thread, n in rows:
            at = bisect.bisect_left(offsets, end)
            if at < len(offsets):
                messages.append(
                    (_component(thread), _component(threads[at]), i, indexes[at], "data", f"{n} B")
                )
    for name, (i, thread) in eofs.items():
        landing = _eof_landing(events, i, name, reads.get(name))
        if landing is not None:
            messages.append(
                (_component(thread), _component(events[landing].thread), i, landing, "eof", "EOF")
            )
    messages.sort(key=lambda message: message[2])
    return messages


def _eof_landing(
    events: list[Event], eof: int, name: str, reads: tuple[list[int], list[int], list[str]] | None
) -> int | None:
    """Where a buffer's reader sees end of file: its first recv() returning 0 after the eof."""
    readers = set(reads[2]) if reads else set()
    for i in range(eof + 1, len(events)):
        e = events[i]
        recv_eof = (
            e.kind == "return"
            and e.fields.get("result") == 0
            and str(e.fields.get("op", "")).startswith("recv")
        )
        if recv_eof and (not readers or e.thread in readers):
            return i
    return None


def plot_sequence(trace: Trace, ax: Axes | None = None, *, by: str = "order") -> Axes:
    """A ladder diagram between components: the handshake, each send landing where it is read, EOF.

    Time runs down.  ``by="order"`` (the default) spaces events evenly;
    ``by="time"`` uses milliseconds.
    """
    from matplotlib.collections import LineCollection

    events = trace.events
    components = list(dict.fromkeys(_component(t) for t in trace.threads))
    messages = sequence_messages(trace)
    ax = new_axes(
        ax, height=max(4.0, min(12.0, 2.5 + 0.25 * len(messages))) if ax is None else None
    )
    x_of = {name: i for i, name in enumerate(components)}
    ys = (
        np.array([e.t_ns / 1e6 for e in events])
        if by == "time"
        else np.arange(len(events), dtype=float)
    )
    top, bottom = (float(ys[0]), float(ys[-1])) if len(ys) else (0.0, 1.0)
    ax.add_collection(
        LineCollection(
            [[(x, top), (x, bottom)] for x in range(len(components))],
            colors="#999999",
            linewidths=1,
            gid="sockviz-lifelines",
        )
    )
    styles = {
        "connect": (MEETING_COLOUR, 2.2, "solid"),
        "data": (OKABE_ITO["blue"], 1.2, "solid"),
        "eof": (OKABE_ITO["black"], 1.2, "dashed"),
    }
    for kind, (colour, width, _line) in styles.items():
        rows = [m for m in messages if m[4] == kind]
        if not rows:
            continue
        x0 = np.array([x_of[m[0]] for m in rows], dtype=float)
        x1 = np.array([x_of[m[1]] for m in rows], dtype=float)
        y0, y1 = ys[[m[2] for m in rows]], ys[[m[3] for m in rows]]
        same = x0 == x1  # a thread talking to its own component: a small loop outwards
        x1 = np.where(same, x0 + 0.25, x1)
        quiver = ax.quiver(
            x0, y0, x1 - x0, y1 - y0, angles="xy", scale_units="xy", scale=1, color=colour,
            width=width * 1.3, units="dots", headwidth=5, headlength=6, headaxislength=5.5,
            zorder=3, gid=f"sockviz-sequence-{kind}",
        )  # fmt: skip
        quiver.set_label(
            {
                "connect": "connect meets accept",
                "data": "bytes sent → read",
                "eof": "shutdown / close → EOF",
            }[kind]
        )
        if len(messages) <= MAX_SEQUENCE_LABELS:
            for a, b, ya, yb, message in zip(x0, x1, y0, y1, rows, strict=True):
                ax.annotate(
                    message[5], ((a + b) / 2, (ya + yb) / 2), xytext=(0, 3),
                    textcoords="offset points", ha="center", fontsize="x-small", color=colour,
                    zorder=4, gid="sockviz-sequence-label",
                )  # fmt: skip
    ax.set_xlim(-0.5, len(components) - 0.5)
    pad = (bottom - top) * 0.03 if by == "time" else 1.0
    ax.set_ylim(bottom + pad, top - pad)
    ax.set_xticks(range(len(components)), components)
    ax.xaxis.tick_top()
    ax.tick_params(axis="x", length=0)
    ax.set_ylabel("time (ms)" if by == "time" else "event (in order)")
    ax.spines[["bottom", "right"]].set_visible(False)
    ax.set_title("who sends what to whom", loc="left", pad=24)
    if messages:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax


def plot_states(trace: Trace, ax: Axes | None = None) -> Axes:
    """Each socket's mode over time: a band per socket, a colour per mode."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    lives = trace.sockets()
    modes = {mode for life in lives for mode in life.modes} - {"CLOSED"}
    ax = new_axes(
        ax, height=figure_height(len(lives), legend_entries=len(modes)) if ax is None else None
    )
    end_ms = trace.events[-1].t_ns / 1e6 if len(trace) else 1.0
    rects, colours = [], []
    used: dict[str, None] = {}
    for row, life in enumerate(lives):
        history = life.history
        for k, (_seq, t_ns, mode) in enumerate(history):
            start = t_ns / 1e6
            stop = (
                history[k + 1][1] / 1e6
                if k + 1 < len(history)
                else (start if mode == "CLOSED" else end_ms)
            )
            if mode == "CLOSED":
                continue
            rects.append(
                [(start, row - 0.35), (stop, row - 0.35), (stop, row + 0.35), (start, row + 0.35)]
            )
            colours.append(MODE_COLOURS.get(mode, "#BBBBBB"))
            used[mode] = None
    if rects:
        ax.add_collection(
            PolyCollection(
                rects, facecolors=colours, edgecolors="white", linewidths=0.5, gid="sockviz-modes"
            )
        )
    ax.set_xlim(0, end_ms * 1.02 or 1)
    ax.set_ylim(len(lives) - 0.5, -0.5)
    ax.set_yticks(range(len(lives)), [f"fd {life.fd} ({life.owner})" for life in lives])
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("time since the trace began (ms)")
    ax.set_title("socket modes over time", loc="left")
    order = [mode for mode in MODE_COLOURS if mode in used]
    ax.legend(
        handles=[Patch(color=MODE_COLOURS[m], label=m) for m in order],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
    )
    return ax


def plot_waits(trace: Trace, ax: Axes | None = None) -> Axes:
    """How long each wait took, per thread and kind: one dot per wait, the median as a bar."""
    from matplotlib.lines import Line2D

    waits = [w for w in trace.waits() if w.duration_ns is not None]
    threads = list(dict.fromkeys(w.thread for w in waits)) or trace.threads
    ax = new_axes(
        ax,
        height=figure_height(len(threads), legend_entries=len(WAIT_COLOURS) + 1)
        if ax is None
        else None,
    )
    row_of = {t: i for i, t in enumerate(threads)}
    rng = np.random.default_rng(0)  # the same jitter every time
    xs = np.array([max(w.duration_ns or 0, 1) / 1e3 for w in waits])
    ys = np.array([row_of[w.thread] for w in waits], dtype=float) + rng.uniform(
        -0.22, 0.22, len(waits)
    )
    colours = [colour_of_wait(w.what) for w in waits]
    ax.scatter(xs, ys, c=colours, s=18, alpha=0.8, linewidths=0, gid="sockviz-wait-dots")
    medians = []
    for thread, row in row_of.items():
        for category in WAIT_COLOURS:
            durations = [
                x
                for x, w in zip(xs, waits, strict=True)
                if w.thread == thread and wait_category(w.what) == category
            ]
            if durations:
                medians.append(
                    (
                        (float(np.median(durations)), row - 0.32),
                        (float(np.median(durations)), row + 0.32),
                        WAIT_COLOURS[category],
                    )
                )
    if medians:
        from matplotlib.collections import LineCollection

        ax.add_collection(
            LineCollection(
                [[a, b] for a, b, _ in medians],
                colors=[c for _, _, c in medians],
                linewidths=2.5,
                gid="sockviz-medians",
            )
        )
    ax.set_xscale("log")
    ax.set_yticks(range(len(threads)), threads)
    ax.set_ylim(len(threads) - 0.5, -0.5)
    ax.set_xlabel("how long each wait took (µs, log scale)")
    ax.set_title("time spent waiting", loc="left")
    present = dict.fromkeys(wait_category(w.what) for w in waits)
    handles: list[Any] = [
        Line2D([], [], marker="o", linestyle="none", color=WAIT_COLOURS[c], label=f"waits in {c}")
        for c in present
    ]
    handles.append(Line2D([], [], color="black", linewidth=2.5, label="median"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax


def plot_buffers(trace: Trace, ax: Axes | None = None) -> Axes:
    """Bytes waiting in each direction of each connection over time (backpressure shows as a
    plateau)."""
    ax = new_axes(ax, height=4.0 if ax is None else None)
    series: dict[str, tuple[list[float], list[int]]] = {}
    writers: dict[str, str] = {}  # buffer -> the thread that first wrote into it
    readers: dict[str, str] = {}
    capacity = None
    for e in trace.events:
        if e.kind in ("buf.write", "buf.read", "buf.eof") and not e.fields.get("dropped"):
            xs, fills = series.setdefault(str(e.obj), ([], []))
            xs.append(e.t_ns / 1e6)
            fills.append(int(e.fields.get("fill", 0)))
            capacity = e.fields.get("cap", capacity)
            if e.kind == "buf.write":
                writers.setdefault(str(e.obj), e.thread)
            elif e.kind == "buf.read":
                readers.setdefault(str(e.obj), e.thread)
    palette = [c for k, c in OKABE_ITO.items() if k not in ("yellow", "black")]
    for n, (name, (xs, fills)) in enumerate(series.items()):
        flow = f"{writers[name]} → {readers.get(name, '?')}" if name in writers else "nothing sent"
        colour = palette[n % len(palette)]
        ax.step(
            [0.0, *xs],
            [0, *fills],
            where="post",
            color=colour,
            label=f"{name}: {flow}",
            gid=f"sockviz-buffer-{name}",
        )
    if capacity:
        ax.axhline(
            capacity,
            color="#999999",
            linestyle=":",
            linewidth=1,
            label=f"capacity ({capacity:,} B)",
        )
    ax.set_xlabel("time since the trace began (ms)")
    ax.set_ylabel("bytes waiting to be read")
    ax.set_title("bytes in flight", loc="left")
    ax.set_ylim(bottom=0)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax
