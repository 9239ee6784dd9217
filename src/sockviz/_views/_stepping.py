"""``st.widget()``: the classroom view of a stepper -- you choose who runs.

A button per runnable thread, labelled with what it will do if chosen ("ann:
connect() to 127.0.0.1:8080"); undo, random step and finish; the timeline so
far; the sentences of the last step; the state of every thread, socket and
buffer at the pause.  A click re-runs the weld with one more choice (see
:mod:`sockviz._weld._stepper`): a millisecond or so for the demo scenarios,
then the picture is redrawn.  A choice that cannot be made is said in the
status line; nothing a click does can raise into the notebook.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from ._geometry import timeline_geometry
from ._replay import state_panel
from ._timeline import draw_timeline

if TYPE_CHECKING:
    from .._weld._stepper import Stepper

__all__ = ["StepperView"]

#: The most sentences the narration of one step shows (its last ones: "... N earlier").
MOST_SENTENCES = 8


class StepperView(w.VBox):  # type: ignore[misc]
    """The stepper's widget (see :meth:`Stepper.widget`): an ipywidgets ``VBox``."""

    def __init__(self, stepper: Stepper, *, width: int = 880) -> None:
        super().__init__()
        self.stepper = stepper
        self.width = width
        self.threads = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.undo = w.Button(description="↶ undo", tooltip="take the last choice back")
        self.random = w.Button(description="random step", tooltip="let a random thread run")
        self.finish = w.Button(description="finish ▶▶", tooltip="let the rest run to the end")
        for button in (self.undo, self.random, self.finish):
            button.layout = w.Layout(width="auto")
        self.undo.on_click(lambda _: self._do(lambda: self.stepper.back()))
        self.random.on_click(lambda _: self._do(lambda: self.stepper.random_step()))
        self.finish.on_click(lambda _: self._do(lambda: self.stepper.finish()))
        self.status = w.HTML()
        self.picture = w.Image(format="png")
        self.narration = w.HTML(layout=w.Layout(min_height="2.4em"))
        self.panel = w.HTML()
        for name in ("threads", "status", "picture", "narration", "panel"):
            getattr(self, name).add_class(f"sockviz-step-{name}")
        self.add_class("sockviz-stepper")
        self.children = (
            self.status,
            self.threads,
            w.HBox([self.undo, self.random, self.finish]),
            self.picture,
            self.narration,
            self.panel,
        )
        self._shown = 0  # events shown before the last step
        self.refresh()

    def _do(self, action: Callable[[], Any]) -> None:
        """One click: the action, then everything redrawn; a refusal is said, never raised."""
        before = len(self.stepper.trace)
        try:
            action()
        except (ValueError, RuntimeError) as exc:
            self.refresh(problem=str(exc))
            return
        self._shown = min(before, len(self.stepper.trace))
        self.refresh()

    def choose(self, name: str) -> None:
        """What the button of thread ``name`` does."""
        self._do(lambda: self.stepper.run(name))

    def refresh(self, problem: str | None = None) -> None:
        """Draw the stepper as it stands: buttons, status, timeline, last step, state."""
        st = self.stepper
        buttons = []
        for name, what in st.next_steps().items():
            button = w.Button(
                description=f"{name}: {what}",
                tooltip=f"let {name} run",
                layout=w.Layout(width="auto"),
            )
            button.add_class("sockviz-step-thread")
            button.on_click(lambda _, name=name: self.choose(name))
            buttons.append(button)
        self.threads.children = tuple(buttons)
        self.undo.disabled = not st.steps
        self.random.disabled = self.finish.disabled = st.done
        self.status.value = _status(st, problem)
        self.picture.value = self._timeline()
        trace = st.trace
        sentences = [html.escape(trace.narrate(i)) for i in range(self._shown, len(trace))]
        if len(sentences) > MOST_SENTENCES:  # (a long step: its end is what matters)
            earlier = len(sentences) - MOST_SENTENCES
            sentences = [f"<i>... {earlier} earlier</i>", *sentences[-MOST_SENTENCES:]]
        self.narration.value = "<br>".join(sentences) or "<i>Nothing has run yet.</i>"
        self.panel.value = state_panel(trace.state_at(len(trace) - 1)) if len(trace) else ""

    def _timeline(self) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        trace = self.stepper.trace
        lanes = max(len(trace.threads), 1)
        figure = Figure(
            figsize=(self.width / 100, 0.5 * lanes + 1.3), dpi=100, layout="constrained"
        )
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        if len(trace):
            draw_timeline(ax, timeline_geometry(trace, by="order"), legend=False)
        else:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "nothing has run yet: choose a thread", ha="center", va="center",
                    transform=ax.transAxes)  # fmt: skip
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _status(st: Stepper, problem: str | None) -> str:
    """The status line: who can run, or how the run ended; a refused choice in red."""
    if st.done:
        said = f"<b>The run is over: {st.outcome}.</b>"
        if st.error is not None:
            first = str(st.error).splitlines()[0]
            said += f" {html.escape(first)}"
    else:
        said = f"<b>You choose who runs next.</b> {st.steps} choice(s) so far."
    if problem:
        said += f'<br><span style="color:#D55E00">{html.escape(problem)}</span>'
    return said
