"""Colours, fonts and line widths: one look for every plot, readable on a projector.

The palette is Okabe & Ito's (2008) eight colours, chosen to stay distinct
for the common kinds of colour blindness; every plot takes its colours from
here, so a wait for ``recv`` is the same blue in the timeline, the waits
plot and the replay widget.

:func:`style` returns a context manager (``with sockviz.style("lecture"):``)
and also applies itself when called bare, like ``plt.style.use``.
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = [
    "MODE_COLOURS",
    "OKABE_ITO",
    "STYLES",
    "TEXT_ON",
    "WAIT_COLOURS",
    "WAIT_LEGEND",
    "colour_of_wait",
    "style",
    "text_colour_on",
    "wait_category",
]

#: Okabe & Ito's colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

#: What a blocked interval waits for -> its colour.
WAIT_COLOURS = {
    "accept": OKABE_ITO["orange"],
    "connect": OKABE_ITO["sky"],
    "recv": OKABE_ITO["blue"],
    "send": OKABE_ITO["green"],
    "lock": OKABE_ITO["purple"],
    "condition": OKABE_ITO["yellow"],
    "select": "#332288",  # (Tol's indigo: the Okabe-Ito colours are all taken)
    "other": "#999999",
}

#: The legend's words for the wait categories that are not one socket call.
WAIT_LEGEND = {
    "other": "waits (other)",
    "lock": "waits for a lock",
    "condition": "waits on a condition",
}

#: Text on a bar of this colour: dark on the light colours, white on the dark ones.
TEXT_ON = {
    colour: "black"
    if colour in (OKABE_ITO["orange"], OKABE_ITO["sky"], OKABE_ITO["yellow"])
    else "white"
    for colour in OKABE_ITO.values()
}

#: Socket modes -> colours for the states plot.
MODE_COLOURS = {
    "NOT_INIT": "#DDDDDD",
    "BOUND": OKABE_ITO["yellow"],
    "LISTEN": OKABE_ITO["orange"],
    "CONNECTING": OKABE_ITO["purple"],
    "OUTBOUND": OKABE_ITO["blue"],
    "INBOUND": OKABE_ITO["sky"],
    "SHUT_WR": OKABE_ITO["green"],
    "SHUT_RD": "#7FCDBB",
    "SHUT_RDWR": "#2C7F6F",
    "RESET": OKABE_ITO["vermillion"],
    "REFUSED": "#8B0000",
    "CLOSED": "#555555",
}

MEETING_COLOUR = OKABE_ITO["vermillion"]
WAKE_COLOUR = "#777777"
CALL_COLOUR = "#E4E4E4"


def text_colour_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (its relative luminance)."""
    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def colour_of_wait(what: str) -> str:
    """The colour of a wait, from its ``what`` (``recv``, ``sendall``, ``bind lock (net)``...)."""
    if what.startswith(("recv", "recv_into", "recvfrom")):
        return WAIT_COLOURS["recv"]
    if what.startswith("send"):
        return WAIT_COLOURS["send"]
    if what.startswith("accept"):
        return WAIT_COLOURS["accept"]
    if what.startswith("connect"):
        return WAIT_COLOURS["connect"]
    if "lock" in what:
        return WAIT_COLOURS["lock"]
    if what.startswith(("select", "poll", "epoll", "kevent")):
        return WAIT_COLOURS["select"]
    if what.startswith(("cond", "event", "queue", "semaphore", "barrier")):  # a program's own
        return WAIT_COLOURS["condition"]
    return WAIT_COLOURS["other"]


def wait_category(what: str) -> str:
    """The legend entry a wait belongs to."""
    colour = colour_of_wait(what)
    return next(name for name, value in WAIT_COLOURS.items() if value == colour)


_COMMON: dict[str, Any] = {
    "axes.prop_cycle": None,  # filled in below (needs matplotlib's cycler)
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "legend.frameon": False,
    "savefig.bbox": "tight",
    "font.family": "sans-serif",
}

#: rcParams for each named style.
STYLES: dict[str, dict[str, Any]] = {
    # big type, thick lines: the back row of a lecture hall
    "lecture": {
        "font.size": 16,
        "axes.titlesize": 19,
        "axes.labelsize": 16,
        "lines.linewidth": 2.5,
        "figure.figsize": (13, 6.5),
        "figure.dpi": 100,
    },
    # small and fine: a column of a paper, saved as PDF/SVG
    "paper": {
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.labelsize": 8,
        "lines.linewidth": 1.0,
        "figure.figsize": (6.5, 3.2),
        "figure.dpi": 150,
    },
    # the notebook default
    "notebook": {
        "font.size": 11,
        "axes.titlesize": 13,
        "axes.labelsize": 11,
        "lines.linewidth": 1.5,
        "figure.figsize": (11, 5),
        "figure.dpi": 100,
    },
}


def _params(name: str) -> dict[str, Any]:
    from cycler import cycler

    if name not in STYLES:
        raise ValueError(f"unknown style {name!r}: choose one of {', '.join(STYLES)}")
    params = {**_COMMON, **STYLES[name]}
    params["axes.prop_cycle"] = cycler(color=[c for k, c in OKABE_ITO.items() if k != "yellow"])
    return params


def _apply(params: dict[str, Any]) -> None:
    import matplotlib as mpl

    rc: Any = mpl.rcParams  # typed with literal keys; ours are plain strings
    for key, value in params.items():
        rc[key] = value


class _Style(contextlib.AbstractContextManager["_Style"]):
    """Applied on creation; undone on leaving a ``with`` block (if used as one)."""

    def __init__(self, name: str) -> None:
        import matplotlib as mpl

        self.name = name
        rc: Any = mpl.rcParams
        self._saved = {key: rc[key] for key in _params(name)}
        _apply(_params(name))

    def __exit__(self, *exc: object) -> None:
        _apply(self._saved)

    def __repr__(self) -> str:
        return f"<sockviz style {self.name!r}>"


def style(name: str = "notebook") -> contextlib.AbstractContextManager[Any]:
    """Fonts, line widths and the colour-blind-safe palette for ``"lecture"``, ``"paper"`` or
    ``"notebook"``.

    ``sockviz.style("lecture")`` applies the style for the rest of the
    session; ``with sockviz.style("paper"):`` applies it inside the block only.
    """
    return _Style(name)
