"""Published socket programs (tests/programs/) run under `sockviz run` exactly as they run on Linux.

Each program in the corpus was checked on real sockets, one process per component started by
hand (tests/programs/run_real.py); here each runs welded, with the default (Linux) semantics,
and the client must print what it printed on real sockets.
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys
from typing import Any

import pytest

_HERE = pathlib.Path(__file__).parent / "programs"
_spec = importlib.util.spec_from_file_location("sockviz_test_programs", _HERE / "catalog.py")
assert _spec is not None and _spec.loader is not None
catalog: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalog)


@pytest.mark.parametrize("program", catalog.PROGRAMS, ids=[p["name"] for p in catalog.PROGRAMS])
def test_a_published_program_runs_welded_as_on_linux(program: dict[str, Any], tmp_path: pathlib.Path) -> None:
    """The client prints what it prints on real sockets; a deadlocking program is reported as one."""
    argv = [sys.executable, "-m", "sockviz", "run", "--timeout", "20", "-o", str(tmp_path / "t.jsonl"), *program["components"]]
    if program["until"]:
        argv += ["--until", *program["until"]]
    done = subprocess.run(argv, cwd=catalog.folder(program), stdin=subprocess.DEVNULL, capture_output=True, timeout=90)
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    prefix = f"[{program['client']}] "
    # split on newlines only: progress lines end in "\r" and stay within their "[name]" line
    printed = "\n".join(line[len(prefix) :] for line in (out + "\n" + err).split("\n") if line.startswith(prefix))
    assert [e for e in program["expect"] if e not in printed] == [], (out + err)[-3000:]
    if program["expect_deadlock"]:
        assert done.returncode == 1 and "deadlock: every welded thread is blocked" in err, err[-3000:]
    else:
        assert done.returncode == 0, err[-3000:]
    assert "Exception in callback" not in err  # a stopped server unwinds quietly, even asyncio's
