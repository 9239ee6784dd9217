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
* **meetings** -- one bold arrow per connect/accept rendezvous, always from the
  client's ``connect()`` to the server's ``accept()`` that took the connection
  (the direction of TCP's handshake; who waited for whom is the wakes' story).

The simulator's own bookkeeping -- a thread waiting for the network's
internal lock, the original's "bind lock" -- is left out unless
``internals=True``: it is how the model works, not what the program does.

Everything is numpy arrays, so drawing is a handful of collections, never
an artist per event.  :func:`aggregate` thins the arrays to what the screen
can show: bars closer than a pixel merge, markers and arrows keep one per
pixel column and lane.  That is what keeps a million-event trace fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from .._trace._analysis import is_internal
from .._trace._deadlock import deadlock_or_stuck
from .._trace._sentences import socket_owners
from ._cuts import TimeCuts, idle_cuts

if TYPE_CHECKING:
    from .._trace._trace import Trace

__all__ = ["LAYERS", "TimelineGeometry", "timeline_geometry"]

#: The timeline's layers, and the event kinds (or families) each one shows.
LAYERS = {
    "calls": ("call", "return"),
    "waits": ("cond", "sem", "lock"),
    "states": ("state", "refused"),
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
    states: np.ndarray  # (n, 2): lane, x
    state_mode: list[str]  # each mark's socket and new mode: "63:LISTEN"
    outputs: np.ndarray  # (n, 2): lane, x
    output_text: list[str]
    wakes: np.ndarray  # (n, 4): x0, lane0, x1, lane1
    meetings: np.ndarray  # (n, 4): x0, lane0, x1, lane1
    #: (x, "deadlock" | "stuck" | "timeout" | "outside"): what ended the run, and where
    alarms: list[tuple[float, str]] = field(default_factory=list)
    # after aggregation: the share of each bar really spent waiting
    wait_coverage: np.ndarray | None = None
    aggregated: bool = False
    layers: frozenset[str] = field(default_factory=lambda: frozenset(LAYERS))
    #: the trace ran on a schedule's logical clock (one tick of 1 µs per event)
    logical: bool = False
    #: idle stretches cut out of a time axis (see :mod:`._cuts`); None: x is plain time or order
    cuts: TimeCuts | None = None

    @property
    def x_label(self) -> str:
        if self.by != "time":
            return "event (in order)"
        if self.logical:
            cut = "; grey: idle time, cut short" if self.cuts is not None else ""
            return f"logical time (ms; one event = one tick of 1 µs, sleeps and timeouts jump{cut})"
        if self.cuts is not None:
            return "time since the trace began (ms) — grey: idle time, cut short"
        return "time since the trace began (ms)"


def _layers(kinds: str | list[str] | tuple[str, ...] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(LAYERS)
    wanted = {kinds} if isinstance(kinds, str) else set(kinds)
    unknown = wanted - set(LAYERS) - {k for ks in LAYERS.values() for k in ks}
    if unknown:
        raise ValueError(
            f"unknown kinds {sorted(unknown)}: use layers {sorted(LAYERS)} or event kinds such as "
            "'state', 'meet', 'cond'"
        )
    chosen = set()
    for layer, members in LAYERS.items():
        if layer in wanted or any(k in wanted or k.split(".")[0] in wanted for k in members):
            chosen.add(layer)
    return frozenset(chosen)


@dataclass
class _Axis:
    """Where each event of a trace sits on the timeline: its x, its lane, and seq -> position
    lookups."""

    xs: np.ndarray  # the x of every event (ms, or its position)
    seqs: np.ndarray
    lane_of: dict[str, int]  # visible thread -> lane number
    lanes: np.ndarray  # the lane of every event (-1: hidden)
    columns: dict[str, Any]
    span: tuple[float, float]

    @property
    def n(self) -> int:
        return len(self.seqs)

    @property
    def end_x(self) -> float:
        return self.span[1]

    def _identity(self) -> bool:
        n = self.n
        # seq == index, the usual case
        return bool(n) and self.seqs[0] == 0 and self.seqs[-1] == n - 1

    def index_of(self, seq: int | None) -> int | None:
        """The position of event ``seq`` (None if it is not in the trace)."""
        n = self.n
        if seq is None:
            return None
        if self._identity():
            return seq if 0 <= seq < n else None
        at = int(np.searchsorted(self.seqs, seq))
        return at if at < n and self.seqs[at] == seq else None

    def indexes(self, values: np.ndarray) -> np.ndarray:
        """Positions of seqs (-1 stays -1, and so does a seq that is not in the trace)."""
        n, seqs = self.n, self.seqs
        if self._identity():
            return np.where((values >= 0) & (values < n), values, -1)
        at = np.clip(np.searchsorted(seqs, values), 0, max(n - 1, 0))
        return np.where((values >= 0) & (seqs[at] == values), at, -1) if n else values

    def marks(self, kind: str, *, any_lane: bool = False) -> np.ndarray:
        """Positions of the visible events of ``kind`` (``any_lane``: recorded on hidden lanes
        too)."""
        codes = self.columns["kind"]
        found = codes == self.columns["kind_code"].get(kind, -1)
        return np.flatnonzero(found if any_lane else found & (self.lanes >= 0))


def _axis(trace: Trace, by: str, lanes: list[str], cut_idle: bool) -> tuple[_Axis, TimeCuts | None]:
    columns = _columns(trace)
    n = len(trace.events)
    xs = columns["t_ns"] / 1e6 if by == "time" else np.arange(n, dtype=np.float64)
    cuts = idle_cuts(xs) if by == "time" and cut_idle else None
    if cuts is not None:
        xs = cuts.to_x(xs)
    lane_of = {thread: number for number, thread in enumerate(lanes)}
    # the lane of every event: thread code -> lane (or -1 when the lane is hidden)
    lane_by_code = np.array(
        [lane_of.get(t, -1) for t in columns["threads"]] or [-1], dtype=np.int64
    )
    lane_arr = lane_by_code[columns["thread"]] if n else np.zeros(0, dtype=np.int64)
    span = (float(xs[0]) if n else 0.0, float(xs[-1]) if n else 0.0)
    return _Axis(xs, columns["seq"], lane_of, lane_arr, columns, span), cuts


def timeline_geometry(
    trace: Trace,
    *,
    by: str = "time",
    threads: str | list[str] | tuple[str, ...] | None = None,
    kinds: str | list[str] | tuple[str, ...] | None = None,
    internals: bool = False,
    lanes: list[str] | None = None,
    cut_idle: bool = True,
) -> TimelineGeometry:
    """The geometry of ``trace``'s timeline (see the module docstring).

    ``lanes`` fixes the lanes and their order (a thread the trace lacks gets an empty lane), so
    that traces drawn one above the other line up.  ``cut_idle`` (time only) narrows the long
    stretches where no thread records anything (see :mod:`._cuts`).
    """
    if by not in ("time", "order"):
        raise ValueError(f"by must be 'time' or 'order', not {by!r}")
    if lanes is None:
        lanes = trace.threads
    if threads is not None:
        wanted = {threads} if isinstance(threads, str) else set(threads)
        lanes = [t for t in lanes if t in wanted or t.split("/", 1)[0] in wanted]
    axis, cuts = _axis(trace, by, lanes, cut_idle)
    waits, what, wakes = _wait_bars(trace, axis, internals=internals)
    states, modes, outputs, texts, alarms = _marks(trace, axis)
    return TimelineGeometry(
        lanes=lanes,
        by=by,
        span=axis.span,
        calls=_call_bars(axis),
        waits=waits.reshape(-1, 3),
        wait_what=what,
        states=states.reshape(-1, 2),
        state_mode=modes,
        outputs=outputs.reshape(-1, 2),
        output_text=texts,
        wakes=wakes.reshape(-1, 4),
        meetings=np.asarray(_meeting_arrows(trace, axis), dtype=np.float64).reshape(-1, 4),
        alarms=alarms,
        layers=_layers(kinds),
        logical=(trace.meta.get("schedule") or {}).get("clock") == "logical",
        cuts=cuts,
    )


def _call_bars(axis: _Axis) -> np.ndarray:
    """(lane, x0, x1) of the outermost call ... return of each visible thread (depth via a running
    sum)."""
    columns, xs = axis.columns, axis.xs
    kind_codes, thread_codes, kind_code = columns["kind"], columns["thread"], columns["kind_code"]
    is_call = kind_codes == kind_code.get("call", -1)
    is_return = kind_codes == kind_code.get("return", -1)
    calls = []
    for thread, lane in axis.lane_of.items():
        code = columns["thread_code"].get(thread)
        if code is None:
            continue
        idx = np.flatnonzero((thread_codes == code) & (is_call | is_return))
        if not len(idx):
            continue
        delta = np.where(is_call[idx], 1, -1)
        first_call = int(np.argmax(delta > 0)) if (delta > 0).any() else len(delta)
        idx, delta = idx[first_call:], delta[first_call:]  # a window may begin inside a call
        depth = np.cumsum(delta)
        starts = idx[(delta > 0) & (depth == 1)]
        ends = idx[(delta < 0) & (depth == 0)]
        stops = np.full(len(starts), axis.end_x)
        stops[: len(ends)] = xs[ends[: len(starts)]]
        calls.append(
            np.column_stack([np.full(len(starts), lane, dtype=np.float64), xs[starts], stops])
        )
    return np.concatenate(calls) if calls else np.zeros((0, 3))


def _wait_bars(
    trace: Trace, axis: _Axis, *, internals: bool
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(lane, x0, x1) of every visible wait, what each waited for, and (x, lane, x, lane) of its
    wake-up.  A wait for the network's own lock is shown only with ``internals``."""
    all_waits = trace.waits(internals=True)
    if not internals:
        all_waits = [w for w in all_waits if not is_internal(w)]
    if not all_waits:
        return np.zeros((0, 3)), [], np.zeros((0, 4))
    xs, count = axis.xs, len(all_waits)
    wait_lane = np.fromiter(
        (axis.lane_of.get(w.thread, -1) for w in all_waits), dtype=np.int64, count=count
    )
    begun = axis.indexes(np.fromiter((w.start for w in all_waits), dtype=np.int64, count=count))
    ended = axis.indexes(
        np.fromiter(
            (-1 if w.end is None else w.end for w in all_waits), dtype=np.int64, count=count
        )
    )
    cause = axis.indexes(
        np.fromiter(
            (w.woken_by if isinstance(w.woken_by, int) else -1 for w in all_waits),
            dtype=np.int64,
            count=count,
        )
    )
    waker_lane = np.fromiter(
        (axis.lane_of.get(w.waker, -1) if w.waker else -1 for w in all_waits),
        dtype=np.int64,
        count=count,
    )
    shown = np.flatnonzero(wait_lane >= 0)
    x0 = np.where(begun[shown] >= 0, xs[begun[shown]], axis.span[0])
    x1 = np.where(ended[shown] >= 0, xs[ended[shown]], axis.end_x)
    waits = np.column_stack([wait_lane[shown].astype(np.float64), x0, x1])
    what = [all_waits[i].what for i in shown]
    woke = shown[(cause[shown] >= 0) & (ended[shown] >= 0) & (waker_lane[shown] >= 0)]
    wakes = np.column_stack(
        [xs[cause[woke]], waker_lane[woke], xs[ended[woke]], wait_lane[woke]]
    ).astype(np.float64)
    return waits, what, wakes


def _marks(
    trace: Trace, axis: _Axis
) -> tuple[np.ndarray, list[str], np.ndarray, list[str], list[tuple[float, str]]]:
    """State changes (and refusals) with their modes, printed lines with their text, and the
    alarms."""
    events, xs, lanes = trace.events, axis.xs, axis.lanes
    # a refused connect() changes no mode but matters as much: it is marked like a state change
    state_at = np.sort(np.concatenate([axis.marks("state", any_lane=True), axis.marks("refused")]))
    output_at = axis.marks("output")
    # a mode change recorded by another component is drawn on the lane of the socket's owner
    # (weldr: the server's accepting thread records the client's OUTBOUND); within a component
    # it stays with the thread that made it (a handler closing the socket its server accepted)
    owners = socket_owners(trace)
    state_lanes = np.array(
        [_state_lane(events[i], owners, axis.lane_of, lanes[i]) for i in state_at],
        dtype=np.float64,
    )
    shown = state_lanes >= 0
    state_at, state_lanes = state_at[shown], state_lanes[shown]
    states = np.column_stack([state_lanes, xs[state_at]]).astype(np.float64)
    modes = [
        f"{events[i][4]}:"
        + ("refused" if events[i][3] == "refused" else str(events[i][5].get("to")))
        for i in state_at
    ]
    outputs = np.column_stack([lanes[output_at], xs[output_at]]).astype(np.float64)
    texts = [str(events[i][5].get("line", "")) for i in output_at]
    kind_codes, kind_code = axis.columns["kind"], axis.columns["kind_code"]
    alarms = [
        (float(xs[i]), _alarm(trace, events[i]))
        for kind in ("deadlock", "timeout", "outside")
        for i in np.flatnonzero(kind_codes == kind_code.get(kind, -1))
    ]
    return states, modes, outputs, texts, alarms


def _alarm(trace: Trace, event: Any) -> str:
    """What ended the run: "deadlock" (a circle of waits), "stuck", "timeout" or "outside"."""
    if event[3] != "deadlock":
        return str(event[3])
    cycle, _ = deadlock_or_stuck(event[5].get("waits") or {}, trace)
    return "deadlock" if cycle else "stuck"


def _state_lane(
    event: Any, owners: dict[int, str | None], lane_of: dict[str, int], lane: int
) -> int:
    """The lane a ``state`` (or ``refused``) event is drawn on (see :func:`_marks`)."""
    owner = owners.get(event[0]) if event[3] == "state" else None
    if not owner or owner.split("/", 1)[0] == str(event[2]).split("/", 1)[0]:
        return int(lane)
    return lane_of.get(owner, -1)


def _meeting_arrows(trace: Trace, axis: _Axis) -> list[tuple[float, float, float, float]]:
    """An arrow for every connect/accept meeting whose two threads are shown.

    Always in one direction, the direction of TCP's handshake: from the moment the client
    called ``connect()`` to the moment the server's ``accept()`` took the connection (the
    ``meet`` event).  Who waited for whom is the wake arrows' story, not this one's.
    """
    arrows = []
    for m in trace.meetings():
        connect_lane = axis.lane_of.get(m.connect_thread)
        accept_lane = axis.lane_of.get(m.accept_thread)
        meet = axis.index_of(m.seq)
        if connect_lane is None or accept_lane is None or meet is None:
            continue
        arrived = axis.index_of(m.connect_arrived)
        start = meet if arrived is None else arrived
        arrows.append(
            (float(axis.xs[start]), float(connect_lane), float(axis.xs[meet]), float(accept_lane))
        )
    return arrows


def _columns(trace: Trace) -> dict[str, Any]:
    """The trace as numpy columns (seq, t_ns, thread and kind codes), computed once per trace."""
    cache = trace._cache
    if "columns" not in cache:
        events = trace.events
        n = len(events)
        threads = trace.threads
        thread_code = {thread: code for code, thread in enumerate(threads)}
        kinds = list(dict.fromkeys(map(itemgetter(3), events)))
        kind_code = {kind: code for code, kind in enumerate(kinds)}
        cache["columns"] = {
            "seq": np.fromiter(map(itemgetter(0), events), dtype=np.int64, count=n),
            "t_ns": np.fromiter(map(itemgetter(1), events), dtype=np.float64, count=n),
            "thread": np.fromiter(
                map(thread_code.__getitem__, map(itemgetter(2), events)), dtype=np.int32, count=n
            ),
            "kind": np.fromiter(
                map(kind_code.__getitem__, map(itemgetter(3), events)), dtype=np.int32, count=n
            ),
            "threads": threads,
            "thread_code": thread_code,
            "kind_code": kind_code,
        }
    return dict(cache["columns"])
