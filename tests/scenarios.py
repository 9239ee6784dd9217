"""Running the demo scenarios in tests: the trace, whether or not the weld deadlocked."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import sockviz
from sockviz.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "left_alone", "scenario_trace"]


def scenario_trace(name: str, semantics: str = "strict", **kwargs: Any) -> sockviz.Trace:
    """Weld scenario ``name``; a deadlocking one (on purpose) gives the trace its error carries."""
    try:
        return sockviz.weld(SCENARIOS[name](), semantics=semantics, **kwargs)  # type: ignore[arg-type]
    except sockviz.DeadlockError as exc:
        if exc.trace is None:
            raise
        return exc.trace


def left_alone() -> dict[str, Callable[[], None]]:
    """A server that accepts twice and a client that connects once and goes: the server is left
    alone in accept() -- stuck, not deadlocked."""

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            listener.accept()
            listener.accept()

    def client() -> None:
        socket.create_connection(("server", 8080)).close()

    return {"server": server, "client": client}
