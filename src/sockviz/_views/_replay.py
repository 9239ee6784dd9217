"""``sockviz.replay(trace)``: step through a trace in a notebook.

Theory of operation
-------------------
The timeline is drawn once, off-screen with Agg (whatever backend the
notebook uses, inline or ipympl), and sent to the browser as a PNG in an
``Image`` widget.  Over it, in the same grid cell, sits a transparent
``HTML`` widget holding three absolutely positioned boxes: the cursor, a
white veil that fades the future, and a ring around the current event.  A
step moves those boxes -- a few hundred bytes of HTML -- and rewrites the
narration and the state panel; the picture itself is re-sent only when a
filter changes which lanes or layers it shows.  That is this widget's
blitting: only what moved is redrawn, so a step costs a millisecond or two
of kernel time even at 100,000 events (``bench/bench_views.py`` measures it).

The state panel is :meth:`Trace.state_at` (checkpointed) and the sentence is
:meth:`Trace.narrate`, so the widget holds no state of its own beyond the
index: ``r.index = 120`` and ``r.step()`` / ``r.back()`` are all there is.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import numpy as np

from ._geometry import LAYERS, timeline_geometry
from ._style import MEETING_COLOUR
from ._timeline import draw_timeline

if TYPE_CHECKING:
    from .._core._events import Event
    from .._trace._trace import Trace
    from .._trace._world import World
    from .._weld._explore import Exploration

__all__ = ["Replay", "outcome_menu", "replay"]

_CELL = "1 / 1 / 2 / 2"  # both layers of the picture sit in the one grid cell


def replay(trace: Trace | Exploration, *, by: str = "order", width: int = 880) -> w.VBox:
    """A widget to replay ``trace``: play, step, scrub, jump between meetings, filter.

    ``by="order"`` (the default) spaces events evenly, so each step moves the
    cursor the same distance; ``by="time"`` uses real time.  ``width`` is the
    timeline's width in pixels.  Display the result, or return it from a cell.

    Given what ``sockviz.explore`` found, the widget gets a menu to pick the
    outcome whose run it replays.
    """
    from .._weld._explore import Exploration

    if isinstance(trace, Exploration):
        return outcome_menu(trace, by=by, width=width)
    return Replay(trace, by=by, width=width)


def outcome_menu(found: Exploration, *, by: str = "order", width: int = 880) -> w.VBox:
    """What ``explore`` found, replayed: a menu of its outcomes over the replay of the chosen one's
    run."""
    options = [
        (f"{o.name} -- {o.count} run(s), seed {o.seeds[0]}", i)
        for i, o in enumerate(found.outcomes)
    ]
    menu = w.Dropdown(
        options=options, value=0, description="outcome", layout=w.Layout(width="auto")
    )
    menu.add_class("sockviz-outcomes")
    box = _OutcomeMenu([menu, Replay(found.outcomes[0].trace, by=by, width=width)])

    def show(change: dict[str, Any]) -> None:
        box.children = (menu, Replay(found.outcomes[change["new"]].trace, by=by, width=width))

    menu.observe(show, names="value")
    return box


class _OutcomeMenu(w.VBox):  # type: ignore[misc]
    """The outcome menu's box: outside a live kernel, it shows its replay's picture."""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
        replayed = [child for child in self.children if isinstance(child, Replay)]
        if replayed:
            data.update(replayed[0].static_bundle())
        return data


class Replay(w.VBox):  # type: ignore[misc]
    """The replay widget (see :func:`replay`): an ipywidgets ``VBox``.

    Outside a live kernel -- an HTML export, GitHub's notebook view, a PDF -- a widget is only
    its display data, so a replay also puts there a picture of its timeline with the cursor at
    the current step and the step's sentence (:meth:`static_bundle`): ``jupyter nbconvert``
    shows them where a bare widget would show ``VBox(...)``.
    """

    def __init__(self, trace: Trace, *, by: str = "order", width: int = 880) -> None:
        super().__init__()
        self.trace = trace
        self.by = by
        self.width = width
        events = trace.events
        self._count = len(events)
        times = np.fromiter((e.t_ns for e in events), dtype=np.float64, count=self._count)
        self._x = times / 1e6 if by == "time" else np.arange(self._count, dtype=np.float64)
        self._thread_of = [e.thread for e in events]
        self._meeting_at = [i for i, e in enumerate(events) if e.kind == "meet"]
        self._visible_threads = set(trace.threads)
        self._make_controls(max(self._count - 1, 0), trace.threads)
        self._make_board()
        self._wire()
        self._arrange()
        self._redraw()

    def _make_controls(self, last: int, threads: list[str]) -> None:
        """Play, the event slider, the step and meeting buttons, the speed, the filters."""
        self.play = w.Play(
            value=0,
            min=0,
            max=last,
            step=1,
            interval=250,
            description="play",
            layout=w.Layout(width="auto"),
        )
        self.slider = w.IntSlider(
            value=0,
            min=0,
            max=last,
            description="event",
            continuous_update=True,
            layout=w.Layout(width="100%"),
        )
        w.link((self.play, "value"), (self.slider, "value"))
        self.back_button = w.Button(
            description="◀ step", tooltip="one event back", layout=w.Layout(width="auto")
        )
        self.step_button = w.Button(
            description="step ▶", tooltip="one event on", layout=w.Layout(width="auto")
        )
        self.previous_meeting_button = w.Button(
            description="« meeting",
            tooltip="the previous connect/accept meeting",
            layout=w.Layout(width="auto"),
        )
        self.next_meeting_button = w.Button(
            description="meeting »",
            tooltip="the next connect/accept meeting",
            layout=w.Layout(width="auto"),
        )
        self.speed = w.IntSlider(
            value=4, min=1, max=60, description="events/s", layout=w.Layout(width="260px")
        )
        self.thread_filter = w.SelectMultiple(
            options=threads,
            value=tuple(threads),
            description="threads",
            rows=min(6, max(2, len(threads))),
        )
        self.kind_filter = w.SelectMultiple(
            options=list(LAYERS),
            value=tuple(LAYERS),
            description="layers",
            rows=min(6, len(LAYERS)),
        )

    def _make_board(self) -> None:
        """The picture, with the cursor's overlay on it; the narration; the state panel."""
        self.picture = w.Image(format="png", layout=w.Layout(grid_area=_CELL))
        self.overlay = w.HTML(layout=w.Layout(grid_area=_CELL))
        self.board = w.GridBox([self.picture, self.overlay])
        self.narration = w.HTML(layout=w.Layout(min_height="2.4em"))
        self.panel = w.HTML()

    def _wire(self) -> None:
        """What each control does."""
        self.back_button.on_click(lambda _: self.back())
        self.step_button.on_click(lambda _: self.step())
        self.previous_meeting_button.on_click(lambda _: self.previous_meeting())
        self.next_meeting_button.on_click(lambda _: self.next_meeting())
        self.speed.observe(
            lambda change: setattr(self.play, "interval", max(16, 1000 // int(change["new"]))),
            names="value",
        )
        self.play.interval = 1000 // self.speed.value
        self.slider.observe(lambda change: self._show(int(change["new"])), names="value")
        self.thread_filter.observe(lambda _: self._redraw(), names="value")
        self.kind_filter.observe(lambda _: self._redraw(), names="value")

    def _arrange(self) -> None:
        """The widget's rows: controls, slider, picture, narration, filters, state panel."""
        buttons = [self.back_button, self.step_button]
        meetings = [self.previous_meeting_button, self.next_meeting_button]
        controls = w.HBox([self.play, *buttons, *meetings, self.speed])
        filters = w.HBox([self.thread_filter, self.kind_filter])
        # CSS classes: for the browser tests, and for anyone styling a lesson
        named = {"slider": self.slider, "narration": self.narration, "panel": self.panel}
        for name, widget in (named | {"board": self.board}).items():
            widget.add_class(f"sockviz-{name}")
        self.add_class("sockviz-replay")
        self.children = (controls, self.slider, self.board, self.narration, filters, self.panel)

    # -- the Python side -----------------------------------------------------------
    @property
    def index(self) -> int:
        """The current event's position in the trace (read and write)."""
        return int(self.slider.value)

    @index.setter
    def index(self, value: int) -> None:
        if not self._count:
            return
        if value < 0:
            value += self._count
        if not 0 <= value < self._count:
            raise IndexError(f"event index out of range: the trace has {self._count} events")
        self.slider.value = value

    @property
    def current_event(self) -> Event | None:
        return self.trace.events[self.index] if self._count else None

    @property
    def state(self) -> World | None:
        """The world at the cursor (what the panel shows)."""
        return self.trace.state_at(self.index) if self._count else None

    def step(self, n: int = 1) -> int:
        """Move ``n`` events on (skipping hidden threads); returns the new index."""
        return self._move(n, +1)

    def back(self, n: int = 1) -> int:
        """Move ``n`` events back (skipping hidden threads); returns the new index."""
        return self._move(n, -1)

    def next_meeting(self) -> int:
        """Jump to the next connect/accept meeting (stays put after the last)."""
        later = [i for i in self._meeting_at if i > self.index]
        if later:
            self.index = later[0]
        return self.index

    def previous_meeting(self) -> int:
        """Jump to the previous meeting (stays put before the first)."""
        earlier = [i for i in self._meeting_at if i < self.index]
        if earlier:
            self.index = earlier[-1]
        return self.index

    def _move(self, n: int, direction: int) -> int:
        i = self.index
        for _ in range(n):
            j = i + direction
            while 0 <= j < self._count and self._thread_of[j] not in self._visible_threads:
                j += direction
            if not 0 <= j < self._count:
                break
            i = j
        self.index = i
        return i

    # -- drawing -------------------------------------------------------------------
    def _redraw(self) -> None:
        """Render the timeline for the current filters (only when they change)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        threads = list(self.thread_filter.value)
        self._visible_threads = set(threads)
        lanes = max(len(threads), 1)
        figure = Figure(
            figsize=(self.width / 100, 0.5 * lanes + 1.3), dpi=100, layout="constrained"
        )
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        if self._count:
            geometry = timeline_geometry(
                self.trace,
                by=self.by,
                threads=threads,
                kinds=list(self.kind_filter.value) or ["meetings"],
            )
            draw_timeline(ax, geometry, legend=False)
            self._lane_of = {thread: n for n, thread in enumerate(geometry.lanes)}
            # with idle stretches cut short, the cursor moves on the cut axis
            cuts = geometry.cuts
            self._cursor_x = self._x if cuts is None else cuts.to_x(self._x)
        else:
            ax.text(
                0.5,
                0.5,
                "this trace has no events",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            self._lane_of = {}
            self._cursor_x = self._x
        figure.canvas.draw()
        self._figure, self._ax = figure, ax
        self._transform = ax.transData
        self._height = figure.bbox.height
        box = ax.bbox
        # left, top, right, bottom
        self._axes_px = (box.x0, self._height - box.y1, box.x1, self._height - box.y0)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        self.picture.value = buffer.getvalue()
        width, height = int(figure.bbox.width), int(self._height)
        self.picture.layout.width, self.picture.layout.height = f"{width}px", f"{height}px"
        self.board.layout.grid_template_columns, self.board.layout.grid_template_rows = (
            f"{width}px",
            f"{height}px",
        )
        self._show(self.index)

    def _show(self, i: int) -> None:
        """Move the cursor, fade the future, circle the event; rewrite the sentence and the
        panel."""
        if not self._count:
            self.narration.value = "<i>Nothing to replay: the trace has no events.</i>"
            return
        left, top, right, bottom = self._axes_px
        lane = self._lane_of.get(self._thread_of[i])
        x_px, y_px = self._transform.transform((self._cursor_x[i], lane if lane is not None else 0))
        x = min(max(x_px, left), right)
        ring = ""
        if lane is not None:
            y = self._height - y_px
            ring = (
                '<div class="sockviz-current" style="position:absolute;'
                f"left:{x - 8:.1f}px;top:{y - 8:.1f}px;width:12px;height:12px;"
                f'border:2px solid {MEETING_COLOUR};border-radius:50%"></div>'
            )
        tall = f"top:{top:.1f}px;height:{bottom - top:.1f}px"
        self.overlay.value = (
            '<div style="position:relative;pointer-events:none;'
            f'width:{right:.0f}px;height:{bottom:.0f}px">'
            '<div class="sockviz-future" '
            f'style="position:absolute;left:{x:.1f}px;width:{max(right - x, 0):.1f}px;{tall};'
            'background:rgba(255,255,255,0.6)"></div>'
            f'<div class="sockviz-cursor" style="position:absolute;left:{x - 1:.1f}px;width:2px;'
            f'{tall};background:{MEETING_COLOUR}"></div>'
            f"{ring}</div>"
        )
        event = self.trace.events[i]
        self.narration.value = (
            f'<div style="font-size:1.15em"><b>#{i}</b> <span '
            f'style="color:#777">{event.t_ns / 1e6:.3f} ms</span> '
            f"{html.escape(self.trace.narrate(i))}</div>"
        )
        self.panel.value = state_panel(self.trace.state_at(i))

    # -- outside a live kernel -----------------------------------------------------
    def snapshot(self) -> bytes:
        """The timeline as a PNG with the cursor, the faded future and the ring drawn in, as the
        widget shows them at the current step."""
        ax, figure = self._ax, self._figure
        added: list[Any] = []
        if self._count:
            i = self.index
            x = float(self._cursor_x[i])
            right = ax.get_xlim()[1]
            added.append(ax.axvspan(x, max(right, x), color="white", alpha=0.6, zorder=20))
            added.append(ax.axvline(x, color=MEETING_COLOUR, linewidth=2, zorder=21))
            lane = self._lane_of.get(self._thread_of[i])
            if lane is not None:
                added.append(
                    ax.scatter([x], [lane], s=160, facecolors="none", edgecolors=MEETING_COLOUR,
                               linewidths=2, zorder=22)
                )  # fmt: skip
        buffer = io.BytesIO()
        try:
            figure.savefig(buffer, format="png", dpi=100)
        finally:
            for artist in added:
                artist.remove()
        return buffer.getvalue()

    def static_bundle(self) -> dict[str, str]:
        """The display data a saved notebook keeps: the snapshot (``image/png``), the snapshot
        with the step's sentence (``text/html``) and the sentence alone (``text/plain``)."""
        picture = base64.b64encode(self.snapshot()).decode("ascii")
        if self._count:
            sentence = f"#{self.index} of {self._count - 1}: {self.trace.narrate(self.index)}"
        else:
            sentence = "Nothing to replay: the trace has no events."
        said = f"sockviz replay of {self._count:,} events. {sentence}"
        return {
            "image/png": picture,
            "text/plain": said,
            "text/html": (
                f'<div class="sockviz-static-replay"><img src="data:image/png;base64,{picture}" '
                f'alt="{html.escape(said)}"/><p>{html.escape(said)}</p></div>'
            ),
        }

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
        data.update(self.static_bundle())
        return data


def state_panel(world: World) -> str:
    """The state at the cursor as HTML tables: threads, sockets, locks, semaphores, conditions."""

    def table(title: str, head: list[str], rows: list[list[Any]]) -> str:
        if not rows:
            return ""
        cells = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
            + "</tr>"
            for row in rows
        )
        header = "".join(f"<th>{h}</th>" for h in head)
        return (
            f'<div style="margin-right:1.5em"><b>{title}</b><table '
            f'class="sockviz-state"><tr>{header}</tr>{cells}</table></div>'
        )

    threads = [
        [t.name, t.status, t.call and f"{t.call}()", t.waits_for] for t in world.threads.values()
    ]
    sockets = [
        [s.fd, s.owner, s.mode, s.local, s.peer, s.inbound, s.outbound]
        for s in world.sockets.values()
    ]
    locks = [[lock.name, lock.holder, ", ".join(lock.waiters)] for lock in world.locks.values()]
    semaphores = [
        [sem.name, sem.value, ", ".join(sem.waiters)] for sem in world.semaphores.values()
    ]
    conditions = [[cond.name, ", ".join(cond.waiters)] for cond in world.conditions.values()]
    style = (
        "<style>.sockviz-state{border-collapse:collapse;font-size:0.85em}.sockviz-state "
        "td,.sockviz-state th{padding:1px 6px;border-bottom:1px solid "
        "#ddd;text-align:left}</style>"
    )
    parts = [
        table("threads", ["thread", "status", "in", "waits for"], threads),
        table(
            "sockets", ["fd", "owner", "mode", "local", "peer", "bytes in", "bytes out"], sockets
        ),
        table("locks", ["lock", "holder", "waiters"], locks),
        table("semaphores", ["semaphore", "value", "waiters"], semaphores),
        table("conditions", ["condition", "waiters"], conditions),
    ]
    return style + '<div style="display:flex;flex-wrap:wrap;gap:0.5em">' + "".join(parts) + "</div>"


def _png_data_url(data: bytes) -> str:  # for tests and static exports
    return "data:image/png;base64," + base64.b64encode(data).decode()
