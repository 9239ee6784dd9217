"""Thinning a timeline's geometry to the pixels that show it: a million events, a few thousand
shapes.

Bars of one lane closer than a pixel merge into one (its *coverage* says how
much of its span they really fill: a thread blocked half the time shows
half-tone); points keep one per lane and pixel column.  Pure numpy, like the
rest of the geometry: what matplotlib draws is decided here, not there.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ._geometry import TimelineGeometry

__all__ = ["aggregate"]


def aggregate(
    geometry: TimelineGeometry, x_range: tuple[float, float], pixels: int
) -> TimelineGeometry:
    """Thin the geometry to ``pixels`` columns over ``x_range`` (a no-op for small traces)."""
    x0, x1 = x_range
    width = max(x1 - x0, 1e-12) / max(pixels, 1)
    layers = (
        (geometry.waits, 1, 2),
        (geometry.calls, 1, 2),
        (geometry.states, 1, 1),
        (geometry.wakes, 0, 2),
    )
    if sum(int(_visible(rows, lo, hi, x0, x1).sum()) for rows, lo, hi in layers) <= 2 * pixels:
        return geometry  # what the window shows fits the screen as it is
    calls_mask = _visible(geometry.calls, 1, 2, x0, x1)
    calls, _, _ = _merge(geometry.calls[calls_mask], None, x0, x1, width)
    waits_mask = _visible(geometry.waits, 1, 2, x0, x1)
    what = [w for w, keep in zip(geometry.wait_what, waits_mask, strict=True) if keep]
    waits, what_merged, coverage = _merge(geometry.waits[waits_mask], what, x0, x1, width)
    states, modes = _thin(geometry.states, 1, 0, geometry.state_mode, x0, width)
    outputs, texts = _thin(geometry.outputs, 1, 0, geometry.output_text, x0, width)
    wakes, _ = _thin(geometry.wakes, 2, 3, None, x0, width)
    if len(wakes) > pixels // 8:  # an arrow every few pixels is a grey smear, not information
        wakes = wakes[:0]
    return replace(
        geometry,
        calls=calls,
        waits=waits,
        wait_what=what_merged or [],
        wait_coverage=coverage,
        states=states,
        state_mode=modes or [],
        outputs=outputs,
        output_text=texts or [],
        wakes=wakes,
        aggregated=True,
    )


def _visible(rows: np.ndarray, lo: int, hi: int, x0: float, x1: float) -> np.ndarray:
    return (rows[:, hi] >= x0) & (rows[:, lo] <= x1) if len(rows) else np.zeros(0, dtype=bool)


def _merge(
    bars: np.ndarray, keys: list[str] | None, x0: float, x1: float, width: float
) -> tuple[np.ndarray, list[str] | None, np.ndarray]:
    """Merge bars of one lane (and one key) whose gap is under a pixel.

    Also returns each merged bar's *coverage*: the share of its span that
    its bars really cover (a thread blocked half the time shows half-tone).
    """
    if len(bars) == 0:
        return bars, keys, np.zeros(0)
    codes = (
        np.zeros(len(bars))
        if keys is None
        else np.unique(np.asarray(keys), return_inverse=True)[1].astype(float)
    )
    order = np.lexsort((bars[:, 1], codes, bars[:, 0]))
    bars, codes = bars[order], codes[order]
    ordered_keys = None if keys is None else [keys[i] for i in order]
    segment_starts = np.ones(len(bars), dtype=bool)
    segment_starts[1:] = (bars[1:, 0] != bars[:-1, 0]) | (codes[1:] != codes[:-1])
    # shift each (lane, key) segment far to the right of the one before, so that the
    # running maximum of bar ends never carries over from one segment to the next
    shift = np.cumsum(segment_starts) * (
        abs(x1) + abs(x0) + np.nanmax(np.abs(bars[:, 1:])) + 10 * width + 1.0
    )
    reach = np.maximum.accumulate(bars[:, 2] + shift)
    new_group = segment_starts.copy()
    new_group[1:] |= (bars[1:, 1] + shift[1:]) - reach[:-1] > width
    starts = np.flatnonzero(new_group)
    lo, hi = np.minimum.reduceat(bars[:, 1], starts), np.maximum.reduceat(bars[:, 2], starts)
    covered = np.add.reduceat(bars[:, 2] - bars[:, 1], starts)
    coverage = np.clip(covered / np.maximum(hi - lo, 1e-12), 0.0, 1.0)
    merged = np.column_stack([bars[starts, 0], lo, hi])
    return merged, None if ordered_keys is None else [ordered_keys[i] for i in starts], coverage


def _thin(
    points: np.ndarray,
    x_col: int,
    lane_col: int,
    labels: list[str] | None,
    x0: float,
    width: float,
) -> tuple[np.ndarray, list[str] | None]:
    """One point per (lane, pixel column)."""
    if len(points) == 0:
        return points, labels
    columns = np.floor((points[:, x_col] - x0) / width)
    _, keep = np.unique(np.column_stack([points[:, lane_col], columns]), axis=0, return_index=True)
    keep.sort()
    return points[keep], None if labels is None else [labels[i] for i in keep]
