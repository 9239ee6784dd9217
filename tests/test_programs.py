"""Published socket programs (tests/programs/) run under `sockviz run` exactly as they run on Linux.

Each program in the corpus was checked on real sockets, one process per component started by
hand (tests/programs/run_real.py); here each runs welded, with the default (Linux) semantics,
and the client must print what it printed on real sockets.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import subprocess
import sys
from typing import Any

import pytest

_HERE = pathlib.Path(__file__).parent / "programs"
_spec = importlib.util.spec_from_file_location("sockviz_test_programs", _HERE / "catalog.py")
assert _spec is not None and _spec.loader is not None
catalog: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalog)


_IDS = [p["name"] for p in catalog.PROGRAMS]


def _check(program: dict[str, Any], tmp_path: pathlib.Path, *flags: str) -> None:
    """Run ``program`` under ``sockviz run FLAGS``: the client prints what it prints on real
    sockets."""
    argv = [
        sys.executable,
        "-m",
        "sockviz",
        "run",
        *flags,
        "--timeout",
        "20",
        "-o",
        str(tmp_path / "t.jsonl"),
        *program["components"],
    ]
    if program["until"]:
        argv += ["--until", *program["until"]]
    done = subprocess.run(
        argv, cwd=catalog.folder(program), stdin=subprocess.DEVNULL, capture_output=True, timeout=90
    )
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    prefix = f"[{program['client']}] "
    # split on newlines only: progress lines end in "\r" and stay within their "[name]" line
    printed = "\n".join(
        line[len(prefix) :] for line in (out + "\n" + err).split("\n") if line.startswith(prefix)
    )
    assert [e for e in program["expect"] if e not in printed] == [], (out + err)[-3000:]
    if program["expect_deadlock"]:
        assert done.returncode == 1 and re.search(r"deadlock: \S+ waits for \S+", err), err[-3000:]
    elif done.returncode and "may_fail" in program:  # a bug of the published program, as on Linux
        component, error = program["may_fail"]
        assert (
            "1 component(s) failed:" in err
            and f"--- {component} ---" in err
            and f"\n{error}:" in err
        ), err[-3000:]
    else:
        assert done.returncode == 0, err[-3000:]
    assert "Exception in callback" not in err  # a stopped server unwinds quietly, even asyncio's


@pytest.mark.parametrize("program", catalog.PROGRAMS, ids=_IDS)
def test_a_published_program_runs_welded_as_on_linux(
    program: dict[str, Any], tmp_path: pathlib.Path
) -> None:
    """Linux semantics, components started in order: the client prints what it prints on real
    sockets."""
    _check(program, tmp_path)


@pytest.mark.parametrize("program", catalog.PROGRAMS, ids=_IDS)
def test_a_published_program_runs_under_a_schedule(
    program: dict[str, Any], tmp_path: pathlib.Path
) -> None:
    """One thread at a time (--seed): select(0) loops, poll objects, asyncio and socketserver all
    pass the baton.

    weldr semantics, because a seed may start a client before its server (under Linux semantics
    it is then refused, as it would be on Linux, and most of these clients do not retry).
    """
    _check(program, tmp_path, "--seed", "1", "--weldr")
