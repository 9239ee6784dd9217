"""``plot_waits``: where each thread's time went -- one bar per thread, split by what it did.

A thread's life, from its first event to its last, is cut into:

* **waiting**, for each thing it waited for (a client in ``accept()``, data in
  ``recv()``, room in ``send()``, ``connect()``...), in the timeline's colours;
* **in a socket call, not waiting**: the fake network's own work (and, unless
  ``internals=True``, its bookkeeping: waiting for the network's internal lock);
* **its own code**: everything outside socket calls -- computing, printing,
  sleeping, Python itself.

So a lecturer can ask "where did the server's time go?" and the bar answers:
mostly waiting in ``accept()`` for a client; the handlers mostly waiting for
data.  Percentages are written inside the segments wide enough to hold them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._trace._analysis import is_internal
from ._labels import INSIDE, label_layer
from ._style import CALL_COLOUR, TEXT_ON, WAIT_COLOURS, WAIT_LEGEND, text_colour_on, wait_category
from ._timeline import figure_height, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._trace._trace import Trace

__all__ = ["plot_waits", "time_budget"]

#: What each share is called in the legend, and its colour, in the order the bar shows them.
OWN_CODE, IN_CALL = "its own code", "in a socket call, not waiting"
NET_LOCK = "waits for the network's lock"
_SHARE_COLOURS = {IN_CALL: "#BDBDBD", OWN_CODE: CALL_COLOUR, NET_LOCK: WAIT_COLOURS["lock"]}


def _share_name(category: str) -> str:
    if category == "select":  # whichever of them the program's selector waits in
        return "waits in select() / poll() / epoll_wait()"
    return WAIT_LEGEND.get(category, f"waits in {category}()")


def time_budget(trace: Trace, *, internals: bool = False) -> dict[str, dict[str, float]]:
    """thread -> {share -> ms}: where each thread's time went, the shares summing to its life
    (first event to last).  Share names are the legend's (``waits in recv()``...)."""
    events = trace.events
    end_ns = events[-1].t_ns if events else 0
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    depth: dict[str, int] = {}
    call_start: dict[str, int] = {}
    in_calls: dict[str, int] = {}
    for e in events:
        first.setdefault(e.thread, e.t_ns)
        last[e.thread] = e.t_ns
        if e.kind == "call":
            depth[e.thread] = depth.get(e.thread, 0) + 1
            if depth[e.thread] == 1:
                call_start[e.thread] = e.t_ns
        elif e.kind == "return" and depth.get(e.thread, 0) > 0:
            depth[e.thread] -= 1
            if depth[e.thread] == 0:
                in_calls[e.thread] = in_calls.get(e.thread, 0) + e.t_ns - call_start[e.thread]
    for thread, d in depth.items():  # a call still open when the trace ends
        if d > 0:
            in_calls[thread] = in_calls.get(thread, 0) + last[thread] - call_start[thread]
    waiting: dict[str, dict[str, float]] = {}
    for w in trace.waits(internals=True):
        if is_internal(w) and not internals:
            continue  # the network's bookkeeping: part of "in a socket call"
        stop = w.end_ns if w.end_ns is not None else max(last.get(w.thread, end_ns), w.start_ns)
        last[w.thread] = max(last.get(w.thread, stop), stop)
        share = NET_LOCK if is_internal(w) else _share_name(wait_category(w.what))
        mine = waiting.setdefault(w.thread, {})
        mine[share] = mine.get(share, 0.0) + (stop - w.start_ns) / 1e6
    budget = {}
    for thread in trace.threads:
        if thread not in first:
            continue
        life = (last[thread] - first[thread]) / 1e6
        waits = waiting.get(thread, {})
        waited = sum(waits.values())
        calls = max(in_calls.get(thread, 0) / 1e6 - waited, 0.0)
        budget[thread] = {
            **waits,
            IN_CALL: calls,
            OWN_CODE: max(life - waited - calls, 0.0),
        }
    return budget


def plot_waits(trace: Trace, ax: Axes | None = None, *, internals: bool = False) -> Axes:
    """Where each thread's time went: a bar per thread, split into the waits (by what it waited
    for), the rest of its socket calls, and its own code; each share's percentage written where
    it fits.  ``internals=True`` shows waits for the network's internal lock on their own."""
    from matplotlib.patches import Patch

    budget = time_budget(trace, internals=internals)
    threads = list(budget)
    order = [_share_name(c) for c in WAIT_COLOURS] + [NET_LOCK, IN_CALL, OWN_CODE]
    colours = {_share_name(c): colour for c, colour in WAIT_COLOURS.items()} | _SHARE_COLOURS
    used = [s for s in order if any(b.get(s, 0.0) > 0 for b in budget.values())]
    ax = new_axes(
        ax, height=figure_height(len(threads), legend_entries=len(used)) if ax is None else None
    )
    layer = label_layer(ax)
    longest = max((sum(b.values()) for b in budget.values()), default=0.0) or 1.0
    for row, thread in enumerate(threads):
        left, life = 0.0, sum(budget[thread].values())
        for share in used:
            ms = budget[thread].get(share, 0.0)
            if ms <= 0:
                continue
            ax.barh(
                row, ms, left=left, height=0.6, color=colours[share], gid="sockviz-time-share",
                label=share, linewidth=0,
            )  # fmt: skip
            if life > 0 and ms / life >= 0.05:
                layer.add(
                    (left + ms / 2, row), f"{100 * ms / life:.0f} %", candidates=INSIDE,
                    within=(left, left + ms), fontsize="x-small",
                    color=TEXT_ON.get(colours[share]) or text_colour_on(colours[share]),
                    gid="sockviz-share-label",
                )  # fmt: skip
            left += ms
        layer.add(
            (left, row), f"{life:.3g} ms", candidates=((4.0, 0, "left"),), fontsize="x-small",
            gid="sockviz-life-label",
        )  # fmt: skip
    ax.set_xlim(0, longest * 1.12)
    ax.set_yticks(range(len(threads)), threads)
    ax.set_ylim(len(threads) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    logical = (trace.meta.get("schedule") or {}).get("clock") == "logical"
    ax.set_xlabel(("logical " if logical else "") + "time from the thread's first event (ms)")
    ax.set_title("where each thread's time went", loc="left")
    handles: list[Any] = [Patch(color=colours[s], label=s) for s in used]
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax
