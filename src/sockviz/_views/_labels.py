"""Labels that never overlap and never leave their axes: placed when the figure is drawn.

Where a label can go depends on the final size of the axes, which matplotlib
only knows when it draws (``layout="constrained"`` moves the axes to make room
for the legend and the tick labels; the replay widget zooms).  So the labels
are ordinary ``Annotation`` artists, hidden until a :class:`LabelLayer` --
drawn just before them -- measures each one with the renderer and tries its
candidate places in turn: just below its mark, a line lower, just above, a
line higher, and each of those centred on the mark, starting at it or ending
at it.  The first place whose box
overlaps no label placed before and lies inside the axes wins; a label with no
such place stays hidden and is counted in :attr:`LabelLayer.hidden`.

The order of the labels is their priority: the timeline places the cut bands'
and the alarm's labels and the mode changes first, then the wait bars' labels
(they only ever go inside their bar, and slide along it out of the way), then
the printed lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.transforms import Bbox

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.text import Annotation

__all__ = ["ABOVE_FIRST", "BELOW_FIRST", "INSIDE", "LabelLayer"]

#: A candidate place: (dx in points, row, ha).  Row 0 is centred on the mark; row 1 starts just
#: above it, row -1 just below, and each further row is one line of the label's font further.
Candidate = tuple[float, int, str]
_ALIGNS = (("center", 0.0), ("left", -3.0), ("right", 3.0))

BELOW_FIRST: tuple[Candidate, ...] = tuple(
    (dx, row, ha) for row in (-1, -2, 1, 2) for ha, dx in _ALIGNS
)
ABOVE_FIRST: tuple[Candidate, ...] = tuple(
    (dx, row, ha)
    for row in (1, 2, -1, -2)
    for ha, dx in (("left", 1.0), ("right", 3.0), ("center", 0.0))
)
INSIDE: tuple[Candidate, ...] = ((0.0, 0, "center"),)
#: centred on the mark only, below then above: the label is never mistaken for a neighbour's
CENTRED: tuple[Candidate, ...] = tuple((0.0, row, "center") for row in (-1, -2, 1, 2))
ABOVE_CENTRED: tuple[Candidate, ...] = tuple((0.0, row, "center") for row in (1, 2, -1, -2))
#: centred above or below, else above, starting or ending at the mark (a long quoted line beside a
#: label already placed)
ABOVE_THEN_BESIDE: tuple[Candidate, ...] = ABOVE_CENTRED + tuple(
    (0.0, row, ha) for row in (1, 2) for ha in ("left", "right")
)
#: on a line (an arrow): on it, then just above or below it, then beside
ALONG: tuple[Candidate, ...] = (
    (0.0, 0, "center"),
    (0.0, 1, "center"),
    (0.0, -1, "center"),
    (4.0, 0, "left"),
    (-4.0, 0, "right"),
)
#: Most marks a layer keeps clear of (beyond, the thinned marks of a big trace: no labels near)
MOST_MARKS = 5000
#: the gap between a mark and the first row, in points (clear of a diamond or a circle)
_CLEAR = 3.5


@dataclass
class _Label:
    annotation: Annotation
    candidates: tuple[Candidate, ...]
    #: for a label inside a bar: the bar's x span (data), which the label must not leave
    within: tuple[float, float] | None = None
    #: the points it may label, in order of preference
    anchors: list[Any] | None = None
    #: above a bar (see LabelLayer.keep_off) rather than over it, where there is room
    off_bars: bool = False


class LabelLayer(Artist):
    """The labels of one axes, placed without overlap each time the figure is drawn."""

    def __init__(self, ax: Axes) -> None:
        super().__init__()
        self.axes = ax
        self.set_figure(ax.figure)
        self.set_zorder(3.9)  # before every label (zorder 4), after the bars
        self.set_gid("sockviz-label-layer")
        self._labels: list[_Label] = []
        self._priority = 0
        self._marks: list[tuple[np.ndarray, float]] = []
        self._bars: list[np.ndarray] = []
        #: how many labels found no free place at the last draw
        self.hidden = 0
        ax.add_artist(self)

    def add(
        self,
        xy: tuple[float, float],
        text: str,
        *,
        candidates: tuple[Candidate, ...] = BELOW_FIRST,
        within: tuple[float, float] | None = None,
        priority: bool = False,
        anchors: list[tuple[float, float]] | None = None,
        off_bars: bool = False,
        **style: Any,
    ) -> Annotation:
        """A label for the point ``xy`` (data), tried at each of ``candidates`` in turn (then at
        each of ``anchors``, other points it may label: along an arrow); ``priority`` places it
        before every label without.  ``off_bars``: a place above the mark that would cover one
        of the bars given to :meth:`keep_off` is first tried lifted just clear of it (a quoted
        line over the end of a wait bar hides where the wait ended), and only then over it."""
        ax: Any = self.axes
        style.setdefault("zorder", 4)
        annotation: Annotation = ax.annotate(
            text, xy, xytext=(0, 0), textcoords="offset points", annotation_clip=False, **style
        )
        annotation.set_visible(False)
        label = _Label(annotation, candidates, within, [xy, *(anchors or [])], off_bars)
        if priority:
            self._labels.insert(self._priority, label)
            self._priority += 1
        else:
            self._labels.append(label)
        return annotation

    @property
    def labels(self) -> list[Annotation]:
        return [label.annotation for label in self._labels]

    def avoid(self, points: np.ndarray, size: float) -> None:
        """Keep every label off the marks at ``points`` ((n, 2), data), each ``size`` points
        across: a diamond under a label's letters reads as a letter."""
        if len(points):
            self._marks.append((np.asarray(points, dtype=np.float64)[:MOST_MARKS], size))

    def keep_off(self, bars: np.ndarray) -> None:
        """Bars ((n, 4) data: x0, y0, x1, y1) that labels added with ``off_bars`` keep off."""
        if len(bars):
            self._bars.append(np.asarray(bars, dtype=np.float64)[:MOST_MARKS])

    def draw(self, renderer: RendererBase) -> None:
        """Place every label (the layer itself paints nothing)."""
        assert self.axes is not None
        frame = self.axes.bbox
        placed: list[Bbox] = []
        marks = self._mark_boxes(renderer)
        bars = np.concatenate([np.zeros((0, 4)), *map(self._display_boxes, self._bars)])
        self.hidden = 0
        for label in self._labels:
            box = None
            if label.off_bars and len(bars):  # clear of the bars, lifted if need be
                box = self._place(
                    label, renderer, frame, placed, np.concatenate([marks, bars]), bars
                )
            if box is None:
                box = self._place(label, renderer, frame, placed, marks)
            if box is None:
                self.hidden += 1
            else:
                placed.append(box)
        self.stale = False

    def _mark_boxes(self, renderer: RendererBase) -> np.ndarray:
        """The marks to keep clear of, as display boxes (n, 4): x0, y0, x1, y1."""
        boxes = [np.zeros((0, 4))]
        transform = self.axes.transData  # type: ignore[union-attr]
        for points, size in self._marks:
            half = float(renderer.points_to_pixels(size)) / 2  # type: ignore[arg-type]
            centres = transform.transform(points)
            boxes.append(np.column_stack([centres - half, centres + half]))
        return np.concatenate(boxes)

    def _display_boxes(self, rects: np.ndarray) -> np.ndarray:
        """Data rectangles (x0, y0, x1, y1) as display boxes, low corner first."""
        transform = self.axes.transData  # type: ignore[union-attr]
        low, high = transform.transform(rects[:, :2]), transform.transform(rects[:, 2:])
        return np.column_stack([np.minimum(low, high), np.maximum(low, high)])

    def _place(
        self,
        label: _Label,
        renderer: RendererBase,
        frame: Bbox,
        placed: list[Bbox],
        marks: np.ndarray,
        bars: np.ndarray | None = None,
    ) -> Bbox | None:
        for anchor in label.anchors or [label.annotation.xy]:
            label.annotation.xy = anchor
            box = self._place_at(label, renderer, frame, placed, marks, bars)
            if box is not None:
                return box
        return None

    def _place_at(
        self,
        label: _Label,
        renderer: RendererBase,
        frame: Bbox,
        placed: list[Bbox],
        marks: np.ndarray,
        bars: np.ndarray | None = None,
    ) -> Bbox | None:
        annotation = label.annotation
        x, _y = self.axes.transData.transform(annotation.xy)  # type: ignore[union-attr]
        if not frame.x0 - 0.5 <= x <= frame.x1 + 0.5:
            annotation.set_visible(False)
            return None
        left, right = frame.x0, frame.x1
        if label.within is not None:
            a, b = label.within
            transform = self.axes.transData  # type: ignore[union-attr]
            left = max(left, transform.transform((a, 0))[0])
            right = min(right, transform.transform((b, 0))[0])
        line = float(annotation.get_fontsize()) * 1.15
        to_points = 72 / float(renderer.points_to_pixels(72))  # type: ignore[arg-type]
        for dx, row, ha in label.candidates:
            dy = 0.0 if row == 0 else (_CLEAR + (abs(row) - 1) * line) * (1 if row > 0 else -1)
            va = "center" if row == 0 else "bottom" if row > 0 else "top"
            annotation.xyann = (dx, dy)
            annotation.set_horizontalalignment(ha)  # type: ignore[arg-type]
            annotation.set_verticalalignment(va)  # type: ignore[arg-type]
            annotation.set_visible(True)
            box = annotation.get_window_extent(renderer)
            shifts = [0.0]
            if label.within is not None:  # inside a bar: slide to either end if the middle is taken
                shifts += [left + 2 - box.x0, right - 2 - box.x1]
            elif box.x0 < left or box.x1 > right:  # at an edge: slide in, still under its mark
                slide = left + 1 - box.x0 if box.x0 < left else right - 1 - box.x1
                if box.x0 + slide <= x <= box.x1 + slide:
                    shifts.append(slide)
            for shift in shifts:
                moved = Bbox.from_extents(box.x0 + shift, box.y0, box.x1 + shift, box.y1)
                lift = (
                    0.0
                    if bars is None or row <= 0
                    else _lift_over(moved, bars, 2 * line / to_points)
                )
                moved = Bbox.from_extents(moved.x0, moved.y0 + lift, moved.x1, moved.y1 + lift)
                if self._free(moved, left, right, frame, placed, marks):
                    annotation.xyann = (dx + shift * to_points, dy + lift * to_points)
                    # keep a little air around it for the next label
                    return Bbox.from_extents(moved.x0 - 4, moved.y0 - 1, moved.x1 + 4, moved.y1 + 1)
        annotation.set_visible(False)
        return None

    @staticmethod
    def _free(
        box: Bbox, left: float, right: float, frame: Bbox, placed: list[Bbox], marks: np.ndarray
    ) -> bool:
        """Inside the axes (and its bar), clear of every label placed and of every mark."""
        inside = (
            box.x0 >= left - 0.5
            and box.x1 <= right + 0.5
            and box.y0 >= frame.y0 - 0.5
            and box.y1 <= frame.y1 + 0.5
        )
        if not inside or any(box.overlaps(other) for other in placed):
            return False
        hit = (
            (marks[:, 0] < box.x1) & (marks[:, 2] > box.x0)
            & (marks[:, 1] < box.y1) & (marks[:, 3] > box.y0)
        )  # fmt: skip
        return not hit.any()


def _lift_over(box: Bbox, bars: np.ndarray, most: float) -> float:
    """How far up (pixels) ``box`` must go to clear the bars it covers (0: it covers none, or
    more than ``most`` would be needed)."""
    hit = (
        (bars[:, 0] < box.x1)
        & (bars[:, 2] > box.x0)
        & (bars[:, 1] < box.y1)
        & (bars[:, 3] > box.y0)
    )
    if not hit.any():
        return 0.0
    lift = float(bars[hit, 3].max()) + 1.5 - box.y0
    return lift if lift <= most else 0.0


def label_layer(ax: Axes) -> LabelLayer:
    """The axes' :class:`LabelLayer` (made on first use)."""
    for artist in ax.artists:
        if isinstance(artist, LabelLayer):
            return artist
    return LabelLayer(ax)
