"""Running the demo scenarios in tests: the trace, whether or not the weld deadlocked."""

from __future__ import annotations

from typing import Any

import sockviz
from sockviz.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "scenario_trace"]


def scenario_trace(name: str, semantics: str = "strict", **kwargs: Any) -> sockviz.Trace:
    """Weld scenario ``name``; a deadlocking one (on purpose) gives the trace its error carries."""
    try:
        return sockviz.weld(SCENARIOS[name](), semantics=semantics, **kwargs)  # type: ignore[arg-type]
    except sockviz.DeadlockError as exc:
        if exc.trace is None:
            raise
        return exc.trace
