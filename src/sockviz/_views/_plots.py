"""The other static plots: a sequence (ladder) diagram, socket states, wait durations, buffers.

Each takes ``ax=`` (a new figure otherwise) and returns the Axes; each draws
with collections, so big traces stay fast.  Colours come from :mod:`._style`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._cuts import idle_cuts
from ._labels import ALONG, INSIDE, label_layer
from ._style import MEETING_COLOUR, MODE_COLOURS, OKABE_ITO, text_colour_on
from ._timeline import figure_height, new_axes, paint_cuts

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._core._events import Event
    from .._trace._trace import Trace

__all__ = ["plot_buffers", "plot_sequence", "plot_states", "sequence_messages"]

#: Most messages a sequence diagram labels; beyond that it draws them unlabelled.
MAX_SEQUENCE_LABELS = 80


def _component(thread: str) -> str:
    return thread.split("/", 1)[0]


def sequence_messages(trace: Trace) -> list[tuple[str, str, int, int, str, str]]:
    """The ladder's arrows: ``(from, to, from_index, to_index, kind, label)``.

    ``kind`` is ``"connect"`` (the handshake, connect() to the meeting),
    ``"data"`` (bytes of one write landing in one read: a send read in three
    recv()s is three arrows, each labelled with its share) or ``"eof"`` (a
    shutdown or close, landing where the reader gets ``b''``).
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
    # buffer -> [(start offset, end offset, index, thread)] of its writes, and of its reads
    writes: dict[str, list[tuple[int, int, int, str]]] = {}
    reads: dict[str, list[tuple[int, int, int, str]]] = {}
    eofs: dict[str, tuple[int, str]] = {}
    ends: dict[tuple[str, str], int] = {}
    for i, e in enumerate(events):
        if (e.kind == "buf.write" and not e.fields.get("dropped")) or e.kind == "buf.read":
            side, name = ("w" if e.kind == "buf.write" else "r"), str(e.obj)
            begin = ends.get((side, name), 0)
            ends[side, name] = begin + int(e.fields.get("n", 0))
            rows = writes if side == "w" else reads
            rows.setdefault(name, []).append((begin, ends[side, name], i, e.thread))
        elif e.kind == "buf.eof":
            eofs[str(e.obj)] = (i, e.thread)
    for name, sent in writes.items():
        messages += _deliveries(sent, reads.get(name, []))
    for name, (i, thread) in eofs.items():
        landing = _eof_landing(events, i, {row[3] for row in reads.get(name, [])})
        if landing is not None:
            messages.append(
                (_component(thread), _component(events[landing].thread), i, landing, "eof", "EOF")
            )
    messages.sort(key=lambda message: message[2])
    return messages


def _deliveries(
    writes: list[tuple[int, int, int, str]], reads: list[tuple[int, int, int, str]]
) -> list[tuple[str, str, int, int, str, str]]:
    """One arrow per (write, read) pair that share bytes, labelled with how many: a send read by
    five recv()s is five arrows, five small sends read by one recv() are five arrows into it."""
    arrows = []
    w = r = 0
    while w < len(writes) and r < len(reads):
        w_start, w_end, w_at, writer = writes[w]
        r_start, r_end, r_at, reader = reads[r]
        shared = min(w_end, r_end) - max(w_start, r_start)
        if shared > 0:
            arrows.append(
                (_component(writer), _component(reader), w_at, r_at, "data", f"{shared:,} B")
            )
        if w_end <= r_end:
            w += 1
        else:
            r += 1
    return arrows


def _eof_landing(events: list[Event], eof: int, readers: set[str]) -> int | None:
    """Where a buffer's reader sees end of file: its first recv() returning 0 after the eof."""
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
    import matplotlib as mpl

    scale = float(mpl.rcParams["font.size"]) / 11  # a bigger font needs more room per arrow
    ax = new_axes(
        ax,
        height=max(4.0, min(14.0, (2.5 + 0.3 * len(messages)) * scale)) if ax is None else None,
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
                "connect": "connect() → the accept() that takes it",
                "data": "bytes sent → read",
                "eof": "shutdown / close → EOF",
            }[kind]
        )
        if len(messages) <= MAX_SEQUENCE_LABELS:
            layer = label_layer(ax)
            for a, b, ya, yb, message in zip(x0, x1, y0, y1, rows, strict=True):
                # near the landing end: reads of one send fan out there
                layer.add(
                    ((a + 3 * b) / 4, (ya + 3 * yb) / 4), message[5], candidates=ALONG,
                    anchors=[
                        (a + f * (b - a), ya + f * (yb - ya)) for f in (0.5, 0.88, 0.62, 0.35)
                    ],
                    fontsize="x-small", color=colour, gid="sockviz-sequence-label",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6},
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


def plot_states(trace: Trace, ax: Axes | None = None, *, cut_idle: bool = True) -> Axes:
    """Each socket's mode over time: a band per socket, a colour per mode, the mode's name written
    where it fits.  ``cut_idle`` narrows long idle stretches as the timeline does."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    lives = trace.sockets()
    modes = {mode for life in lives for mode in life.modes} - {"CLOSED"}
    ax = new_axes(
        ax, height=figure_height(len(lives), legend_entries=len(modes)) if ax is None else None
    )
    end_ms = trace.events[-1].t_ns / 1e6 if len(trace) else 1.0
    times = np.array(sorted(t / 1e6 for life in lives for _, t, _ in life.history) or [0.0])
    cuts = idle_cuts(np.append(times, end_ms)) if cut_idle else None

    def at(ms: float) -> float:
        return float(ms) if cuts is None else float(cuts.to_x(ms))

    layer = label_layer(ax)
    rects, colours = [], []
    used: dict[str, None] = {}
    for row, life in enumerate(lives):
        history = life.history
        for k, (_seq, t_ns, mode) in enumerate(history):
            if mode == "CLOSED":
                continue
            start = at(t_ns / 1e6)
            stop = at(history[k + 1][1] / 1e6 if k + 1 < len(history) else end_ms)
            rects.append(
                [(start, row - 0.35), (stop, row - 0.35), (stop, row + 0.35), (start, row + 0.35)]
            )
            colours.append(MODE_COLOURS.get(mode, "#BBBBBB"))
            used[mode] = None
            layer.add(
                ((start + stop) / 2, row), mode, candidates=INSIDE, within=(start, stop),
                fontsize="x-small", color=text_colour_on(colours[-1]),
                gid="sockviz-mode-label",
            )  # fmt: skip
    if rects:
        ax.add_collection(
            PolyCollection(
                rects, facecolors=colours, edgecolors="white", linewidths=0.5, gid="sockviz-modes"
            )
        )
    lo, hi = at(times[0]), at(end_ms)
    pad = (hi - lo) * 0.02 or 0.5
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(len(lives) - 0.5, -0.5)
    ax.set_yticks(range(len(lives)), [f"fd {life.fd} ({life.owner})" for life in lives])
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(
        "time since the trace began (ms)"
        + (" — grey: idle time, cut short" if cuts is not None else "")
    )
    if cuts is not None:
        paint_cuts(ax, cuts)
    ax.set_title("socket modes over time", loc="left")
    order = [mode for mode in MODE_COLOURS if mode in used]
    ax.legend(
        handles=[Patch(color=MODE_COLOURS[m], label=m) for m in order],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
    )
    return ax


def plot_buffers(trace: Trace, ax: Axes | None = None, *, cut_idle: bool = True) -> Axes:
    """Bytes sent but not yet read, in each direction of each connection, over time: the receive
    buffer's fill (backpressure shows as a plateau at its capacity).  The x axis runs from the
    first byte sent to the last read; ``cut_idle`` narrows long idle stretches as the timeline
    does."""
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
    times = np.sort(np.array([x for xs, _ in series.values() for x in xs] or [0.0]))
    cuts = idle_cuts(times) if cut_idle else None
    for n, (name, (xs, fills)) in enumerate(series.items()):
        flow = f"{writers[name]} → {readers.get(name, '?')}" if name in writers else "nothing sent"
        colour = palette[n % len(palette)]
        shown = xs if cuts is None else list(cuts.to_x(np.asarray(xs)))
        ax.step(
            [shown[0], *shown], [0, *fills], where="post", color=colour, label=f"{name}: {flow}",
            gid=f"sockviz-buffer-{name}",
        )  # fmt: skip
    lo, hi = (cuts.to_x(times[[0, -1]]) if cuts is not None else times[[0, -1]]).tolist()
    pad = (hi - lo) * 0.02 or 0.5
    ax.set_xlim(lo - pad, hi + pad)  # from the first byte sent to the last read: the activity
    if capacity:
        ax.axhline(
            capacity,
            color="#999999",
            linestyle=":",
            linewidth=1,
            label=f"capacity ({capacity:,} B)",
        )
    ax.set_xlabel(
        "time since the trace began (ms)"
        + (" — grey: idle time, cut short" if cuts is not None else "")
    )
    ax.set_ylabel("bytes in the receive buffer")
    ax.set_title("bytes sent but not yet read, per direction", loc="left")
    ax.set_ylim(bottom=0)
    if cuts is not None:
        paint_cuts(ax, cuts)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax
