"""Timeline geometry: where every bar, marker and arrow goes, computed without drawing.

Theory of operation
-------------------
A timeline has one *lane* per thread.  Its x axis is time in milliseconds
(``by="time"``) or the event's position in the trace (``by="order"``, which
spaces events evenly so that fast steps are readable).  On the lanes:

* **calls** -- thin light bars while a thread is inside a socket call;
* **waits** -- thick bars while it is blocked, coloured and labelled by what
  it waits for (``accept``, ``recv``, ``bind lock``...);
* **states** -- a marker where a socket changes mode, labelled with the new mode;
* **outputs** -- a marker where a component printed a line;
* **wakes** -- arrows from the event that woke a thread to the woken thread;
* **meetings** -- one bold arrow per connect/accept rendezvous: from the side
  that arrived last (and so woke the other) to the side it woke.

Everything is numpy arrays, so drawing is a handful of collections, never
an artist per event.  :func:`aggregate` thins the arrays to what the screen
can show: bars closer than a pixel merge, markers and arrows keep one per
pixel column and lane.  That is what keeps a million-event trace fast.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .._trace._trace import Trace

__all__ = ["LAYERS", "TimelineGeometry", "aggregate", "timeline_geometry"]

#: The timeline's layers, and the event kinds (or families) each one shows.
LAYERS = {
    "calls": ("call", "return"),
    "waits": ("cond", "sem", "lock"),
    "states": ("state",),
    "outputs": ("output",),
    "wakes": ("cond.wake", "sem.acquire", "lock.acquire"),
    "meetings": ("meet",),
}


@dataclass
class TimelineGeometry:
    """What a timeline draws, in data coordinates (x: ms or event position; y: lane)."""

    lanes: list[str]
    by: str
    span: tuple[float, float]
    calls: np.ndarray  # (n, 3): lane, x0, x1
    waits: np.ndarray  # (n, 3): lane, x0, x1
    wait_what: list[str]  # what each wait waits for
    wait_outcome: list[str]
    states: np.ndarray  # (n, 2): lane, x
    state_mode: list[str]
    outputs: np.ndarray  # (n, 2): lane, x
    output_text: list[str]
    wakes: np.ndarray  # (n, 4): x0, lane0, x1, lane1
    meetings: np.ndarray  # (n, 4): x0, lane0, x1, lane1
    meeting_text: list[str]
    event_x: np.ndarray  # x of every event of the trace (NaN when its thread is hidden)
    event_lane: np.ndarray  # lane of every event (-1 when hidden)
    alarms: list[tuple[float, str]] = field(default_factory=list)  # (x, "deadlock" | "timeout")
    aggregated: bool = False
    layers: frozenset[str] = field(default_factory=lambda: frozenset(LAYERS))

    @property
    def x_label(self) -> str:
        return "time since the trace began (ms)" if self.by == "time" else "event (in order)"


def _layers(kinds: str | list[str] | tuple[str, ...] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(LAYERS)
    wanted = {kinds} if isinstance(kinds, str) else set(kinds)
    unknown = wanted - set(LAYERS) - {k for ks in LAYERS.values() for k in ks}
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}: use layers {sorted(LAYERS)} or event kinds such as 'state', 'meet', 'cond'")
    chosen = set()
    for layer, members in LAYERS.items():
        if layer in wanted or any(k in wanted or k.split(".")[0] in wanted for k in members):
            chosen.add(layer)
    return frozenset(chosen)


def timeline_geometry(
    trace: Trace,
    *,
    by: str = "time",
    threads: str | list[str] | tuple[str, ...] | None = None,
    kinds: str | list[str] | tuple[str, ...] | None = None,
) -> TimelineGeometry:
    """The geometry of ``trace``'s timeline (see the module docstring)."""
    if by not in ("time", "order"):
        raise ValueError(f"by must be 'time' or 'order', not {by!r}")
    events = trace.events
    all_threads = trace.threads
    if threads is None:
        lanes = all_threads
    else:
        wanted = {threads} if isinstance(threads, str) else set(threads)
        lanes = [t for t in all_threads if t in wanted or t.split("/", 1)[0] in wanted]
    lane_of = {thread: number for number, thread in enumerate(lanes)}
    n = len(events)
    times = np.fromiter((e[1] for e in events), dtype=np.float64, count=n)
    xs = times / 1e6 if by == "time" else np.arange(n, dtype=np.float64)
    lane_arr = np.fromiter((lane_of.get(e[2], -1) for e in events), dtype=np.int64, count=n)
    position = {e.seq: i for i, e in enumerate(events)} if any(e.seq != i for i, e in enumerate(events[:1000])) else None

    def index_of(seq: int | None) -> int | None:
        if seq is None:
            return None
        if position is None:
            return seq if 0 <= seq < n else None
        return position.get(seq)

    end_x = float(xs[-1]) if n else 0.0
    span = (float(xs[0]) if n else 0.0, end_x)

    # calls: from each call to its return, per thread (calls nest; a stack per thread)
    calls = []
    stacks: dict[str, list[int]] = {}
    for i, e in enumerate(events):
        if e[3] == "call":
            stacks.setdefault(e[2], []).append(i)
        elif e[3] == "return" and stacks.get(e[2]):
            start = stacks[e[2]].pop()
            if not stacks[e[2]] and e[2] in lane_of:  # outermost calls only
                calls.append((lane_of[e[2]], xs[start], xs[i]))
    for thread, stack in stacks.items():
        if stack and thread in lane_of:
            calls.append((lane_of[thread], xs[stack[0]], end_x))

    waits, what, outcome, wakes = [], [], [], []
    all_waits = trace.waits()
    for wait in all_waits:
        lane = lane_of.get(wait.thread)
        if lane is None:
            continue
        begun = index_of(wait.start)
        end = index_of(wait.end)
        x1 = end_x if end is None else xs[end]
        waits.append((lane, xs[begun] if begun is not None else span[0], x1))
        what.append(wait.what)
        outcome.append(wait.outcome)
        cause = index_of(wait.woken_by)
        if cause is not None and end is not None and wait.waker in lane_of:
            wakes.append((xs[cause], lane_of[wait.waker], xs[end], lane))

    states, modes, outputs, texts = [], [], [], []
    alarms = [(float(xs[i]), e[3]) for i, e in enumerate(events) if e[3] in ("deadlock", "timeout")]
    for i, e in enumerate(events):
        lane = lane_arr[i]
        if lane < 0:
            continue
        if e[3] == "state":
            states.append((lane, xs[i]))
            modes.append(str(e[5].get("to")))
        elif e[3] == "output":
            outputs.append((lane, xs[i]))
            texts.append(str(e[5].get("line", "")))

    meetings, meeting_text = [], []
    woken_waits: dict[str, list[Any]] = {}
    for wait in all_waits:
        if wait.woken_by is not None:
            woken_waits.setdefault(wait.thread, []).append(wait)
    starts = {thread: [w.start for w in ws] for thread, ws in woken_waits.items()}
    for m in trace.meetings():
        thread = m.connect_thread
        arrow = _meeting_arrow(woken_waits.get(thread, []), starts.get(thread, []), m, xs, lane_of, index_of)
        if arrow is not None:
            meetings.append(arrow)
            meeting_text.append(f"{m.connect_thread} + {m.accept_thread}")

    def arr(rows: list[Any], width: int) -> np.ndarray:
        return np.asarray(rows, dtype=np.float64).reshape(-1, width)

    return TimelineGeometry(
        lanes=lanes,
        by=by,
        span=span,
        calls=arr(calls, 3),
        waits=arr(waits, 3),
        wait_what=what,
        wait_outcome=outcome,
        states=arr(states, 2),
        state_mode=modes,
        outputs=arr(outputs, 2),
        output_text=texts,
        wakes=arr(wakes, 4),
        meetings=arr(meetings, 4),
        meeting_text=meeting_text,
        event_x=np.where(lane_arr >= 0, xs, np.nan),
        event_lane=lane_arr,
        alarms=alarms,
        layers=_layers(kinds),
    )


def _meeting_arrow(
    woken: list[Any], starts: list[int], m: Any, xs: np.ndarray, lane_of: dict[str, int], index_of: Any
) -> tuple[float, ...] | None:
    """One arrow per meeting: from the side that came last (the waker) to the side it woke."""
    connect_lane, accept_lane = lane_of.get(m.connect_thread), lane_of.get(m.accept_thread)
    meet = index_of(m.seq)
    if connect_lane is None or accept_lane is None or meet is None:
        return None
    arrived = index_of(m.connect_arrived)
    if m.first == "accept" or arrived is None:  # accept() waited; the client's connect() woke it
        start = arrived if arrived is not None else meet
        return (xs[start], connect_lane, xs[meet], accept_lane)
    # connect() came first: accept() takes it; if connect() was waiting, the arrow ends where it wakes
    # the connecting thread's wait (if any) that the meeting ended: the last to begin before it
    at = bisect.bisect_left(starts, m.seq) - 1
    wait = woken[at] if at >= 0 and (woken[at].end or -1) >= m.seq else None
    end = index_of(wait.end) if wait is not None else None
    if end is None:
        return (xs[arrived], connect_lane, xs[meet], accept_lane)
    return (xs[meet], accept_lane, xs[end], connect_lane)


def aggregate(geometry: TimelineGeometry, x_range: tuple[float, float], pixels: int) -> TimelineGeometry:
    """Thin the geometry to ``pixels`` columns over ``x_range`` (a no-op for small traces)."""
    x0, x1 = x_range
    width = max(x1 - x0, 1e-12) / max(pixels, 1)
    total = len(geometry.waits) + len(geometry.calls) + len(geometry.states) + len(geometry.wakes)
    if total <= 2 * pixels:
        return geometry

    def visible(rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
        return (rows[:, hi] >= x0) & (rows[:, lo] <= x1) if len(rows) else np.zeros(0, dtype=bool)

    def merge(bars: np.ndarray, keys: list[str] | None = None) -> tuple[np.ndarray, list[str] | None]:
        """Merge bars of one lane (and one key) whose gap is under a pixel."""
        if len(bars) == 0:
            return bars, keys
        codes = np.zeros(len(bars)) if keys is None else np.unique(np.asarray(keys), return_inverse=True)[1].astype(float)
        order = np.lexsort((bars[:, 1], codes, bars[:, 0]))
        bars, codes = bars[order], codes[order]
        ordered_keys = None if keys is None else [keys[i] for i in order]
        new_group = np.ones(len(bars), dtype=bool)
        new_group[1:] = (
            (bars[1:, 0] != bars[:-1, 0]) | (codes[1:] != codes[:-1]) | (bars[1:, 1] - np.maximum.accumulate(bars[:, 2])[:-1] > width)
        )
        starts = np.flatnonzero(new_group)
        merged = np.column_stack([bars[starts, 0], np.minimum.reduceat(bars[:, 1], starts), np.maximum.reduceat(bars[:, 2], starts)])
        return merged, None if ordered_keys is None else [ordered_keys[i] for i in starts]

    def thin(points: np.ndarray, x_col: int, lane_col: int, labels: list[str] | None) -> tuple[np.ndarray, list[str] | None]:
        """One point per (lane, pixel column)."""
        if len(points) == 0:
            return points, labels
        columns = np.floor((points[:, x_col] - x0) / width)
        _, keep = np.unique(np.column_stack([points[:, lane_col], columns]), axis=0, return_index=True)
        keep.sort()
        return points[keep], None if labels is None else [labels[i] for i in keep]

    calls_mask = visible(geometry.calls, 1, 2)
    calls, _ = merge(geometry.calls[calls_mask])
    waits_mask = visible(geometry.waits, 1, 2)
    waits, what = merge(geometry.waits[waits_mask], [w for w, keep in zip(geometry.wait_what, waits_mask, strict=True) if keep])
    states, modes = thin(geometry.states, 1, 0, geometry.state_mode)
    outputs, texts = thin(geometry.outputs, 1, 0, geometry.output_text)
    wakes, _ = thin(geometry.wakes, 2, 3, None)
    return replace(
        geometry,
        calls=calls,
        waits=waits,
        wait_what=what or [],
        wait_outcome=["merged"] * len(waits),
        states=states,
        state_mode=modes or [],
        outputs=outputs,
        output_text=texts or [],
        wakes=wakes,
        aggregated=True,
    )
