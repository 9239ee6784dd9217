"""Cutting idle time out of a time axis, so the default picture shows the story.

A real trace is lopsided: a server can sit in ``accept()`` for 200 ms while
everything else happens in half a millisecond, and on a linear axis the
meeting the lesson is about is a smear at one end.  :func:`idle_cuts` finds
the stretches where *no* thread records anything and which would take a
large share of the axis, and narrows each to a band a few percent wide.  The
timeline draws the band (labelled with the time it stands for) and its tick
labels keep reading real milliseconds; bars crossing a band still run
through it, so a wait is never broken, only shortened.

Pure numpy: the mapping is piecewise linear, real milliseconds <-> x, kept as
two arrays of knots for ``np.interp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TimeCuts", "idle_cuts", "ms_words"]

#: A gap is cut when it alone would fill this share of what remains of the axis ...
SHARE = 0.3
#: ... and each cut becomes a band this share of the remaining (uncut) span wide.
BAND = 0.05
#: At most this many cuts: more, and the axis no longer reads as time.
MOST = 6


@dataclass(frozen=True)
class TimeCuts:
    """The piecewise-linear map between real time (ms) and the cut axis' x."""

    real: np.ndarray  #: knots, ms
    shown: np.ndarray  #: the same knots on the axis
    bands: tuple[tuple[float, float, float], ...]  #: (x0, x1, ms the band stands for)

    def to_x(self, ms: Any) -> Any:
        """Real ms (a number or an array) -> x on the cut axis."""
        return np.interp(ms, self.real, self.shown)

    def to_ms(self, x: Any) -> Any:
        """x on the cut axis -> real ms."""
        return np.interp(x, self.shown, self.real)

    def segments(self) -> list[tuple[float, float]]:
        """The uncut stretches of the axis, as (x0, x1): a tick's time is linear within each."""
        edges = [self.shown[0]] + [b for band in self.bands for b in band[:2]] + [self.shown[-1]]
        return [(edges[i], edges[i + 1]) for i in range(0, len(edges) - 1, 2)]


def idle_cuts(times_ms: np.ndarray) -> TimeCuts | None:
    """The cuts for events at ``times_ms`` (sorted), or None when no gap deserves one."""
    if len(times_ms) < 3:
        return None
    gaps = np.diff(times_ms)
    if (gaps < 0).any():  # threads' clocks can record a hair out of order
        times_ms = np.sort(times_ms)
        gaps = np.diff(times_ms)
    span = float(times_ms[-1] - times_ms[0])
    chosen: list[int] = []
    removed = 0.0
    for i in _widest(gaps, MOST):
        if gaps[i] <= 0 or gaps[i] < SHARE * (span - removed):
            break
        chosen.append(int(i))
        removed += float(gaps[i])
    if not chosen:
        return None
    band = BAND * (span - removed)
    real, shown, bands = [float(times_ms[0])], [float(times_ms[0])], []
    shift = 0.0
    for i in sorted(chosen):
        a, b = float(times_ms[i]), float(times_ms[i + 1])
        real += [a, b]
        shown += [a - shift, a - shift + band]
        bands.append((a - shift, a - shift + band, b - a))
        shift += (b - a) - band
    real.append(float(times_ms[-1]))
    shown.append(float(times_ms[-1]) - shift)
    far = 10 * (span + 1.0)  # slope 1 beyond the ends, for the axis' padding (not 1e12: precision)
    real = [real[0] - far, *real, real[-1] + far]
    shown = [shown[0] - far, *shown, shown[-1] + far]
    return TimeCuts(np.array(real), np.array(shown), tuple(bands))


def _widest(gaps: np.ndarray, most: int) -> list[int]:
    """The indexes of the ``most`` widest gaps, widest first (a partition, then a sort of those
    few: a million gaps in 10 ms rather than 70)."""
    if len(gaps) > most:
        top = np.argpartition(gaps, len(gaps) - most)[len(gaps) - most :]
    else:
        top = np.arange(len(gaps))
    return [int(i) for i in top[np.lexsort((top, -gaps[top]))]]


def ms_words(ms: float) -> str:
    """``198 ms``, ``1.6 ms``, ``0.35 ms``, ``12 µs``: a duration as a band's label says it."""
    if ms >= 10:
        return f"{ms:,.0f} ms"
    if ms >= 0.1:
        return f"{ms:.2g} ms"
    return f"{ms * 1000:.2g} µs"
