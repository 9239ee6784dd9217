"""Fixtures shared by the test modules: the demo's echo run, recorded once per session."""

from __future__ import annotations

import pytest

import sockviz

from .scenarios import scenario_trace


@pytest.fixture(scope="session")
def echo() -> sockviz.Trace:
    """The demo's echo run (two clients, one server) in the original's semantics: connect() waits
    for accept()."""
    return scenario_trace("echo", "weldr")


@pytest.fixture(scope="session")
def echo_strict() -> sockviz.Trace:
    """The same echo run with Linux semantics (the default)."""
    return scenario_trace("echo", "strict")
