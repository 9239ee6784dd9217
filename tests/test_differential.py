"""The fake network in strict semantics behaves like Linux loopback, call for call."""

from __future__ import annotations

import gc

import pytest

import sockviz

from .differential import SCENARIOS, Env


def _run_real(name: str) -> list:
    outcome = SCENARIOS[name](Env(real=True))
    gc.collect()  # close the scenario's real sockets now
    return outcome


def _run_fake(name: str) -> list:
    with sockviz.fake_network("strict"):
        outcome = SCENARIOS[name](Env(real=False))
        gc.collect()
    return outcome


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_strict_fake_matches_real_loopback(name: str) -> None:
    """The same scenario gives the same values, exceptions and errnos on real and fake sockets."""
    real = _run_real(name)
    fake = _run_fake(name)
    assert fake == real
