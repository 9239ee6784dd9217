"""What a weld is asked to run: its components checked and named, its options and its
schedule's script checked, and the header its trace carries."""

from __future__ import annotations

import datetime
import platform
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._net._manager import FakeNetwork
from ._policies import Schedule, Scripted

__all__ = ["Component", "check_script", "components", "meta", "until"]

Component = Callable[[], Any]


def components(specs: tuple[Any, ...]) -> list[tuple[str, Component]]:
    named: list[tuple[str, Component]] = []
    for spec in specs:
        if isinstance(spec, Mapping):
            named.extend(spec.items())
        elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
            named.append(spec)
        elif callable(spec):
            named.append((getattr(spec, "__name__", None) or f"component{len(named) + 1}", spec))
        else:
            raise TypeError(
                "a component must be a callable, a (name, callable) pair or a mapping name -> "
                f"callable, not {spec!r}"
            )
    names = [name for name, _ in named]
    for name, body in named:
        if not isinstance(name, str) or not name:
            raise TypeError(f"component names must be non-empty strings, not {name!r}")
        if not callable(body):
            raise TypeError(f"component {name!r} is not callable: {body!r}")
        if names.count(name) > 1:
            raise ValueError(
                f"two components are named {name!r}; give them distinct names (pass a mapping)"
            )
    if not named:
        raise ValueError("weld() needs at least one component")
    return named


def until(names: str | Iterable[str] | None, components: list[str]) -> frozenset[str] | None:
    """``weld(until=...)``: the components whose end ends the weld, checked against the weld's."""
    if names is None:
        return None
    chosen = frozenset([names] if isinstance(names, str) else names)
    unknown = sorted(name for name in chosen if name not in components)
    if unknown or not chosen:
        raise ValueError(
            f"until names no component of this weld: {', '.join(unknown) or 'nothing'} "
            f"(components: {', '.join(components)})"
        )
    return chosen


def meta(net: FakeNetwork, how: str, components: list[str]) -> dict[str, Any]:
    from .. import __version__

    return {
        "recorded_by": how,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "semantics": net.semantics,
        "buffer_size": net.buffer_size,
        "components": components,
        "python": platform.python_version(),
        "sockviz": __version__,
    }


def check_script(schedule: Schedule | None, components: list[str]) -> None:
    """A Scripted list may name components and their threads ("server/Thread-1"); a typo is an error
    now."""
    if not isinstance(schedule, Scripted) or callable(schedule.order):
        return
    for name in schedule.names:
        if name not in components and name.split("/")[0] not in components:
            raise ValueError(
                f"Scripted names {name!r}, which is not a component of this weld "
                f"({', '.join(components)})"
            )


def check_options(schedule: object, max_events: object) -> None:
    """A weld's ``schedule`` and ``max_events``, checked before anything starts."""
    if schedule is not None and not isinstance(schedule, Schedule):
        why = "schedule must be sockviz.Seeded(seed) or sockviz.Scripted([...]), not"
        raise TypeError(f"{why} {schedule!r}")
    if max_events is not None and (
        isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1
    ):
        why = "max_events must be a positive number of events, or None for no limit, not"
        raise ValueError(f"{why} {max_events!r}")
