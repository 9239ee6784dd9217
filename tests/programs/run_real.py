"""Run the corpus on real sockets: each component its own ``python`` process, as in two terminals.

    python tests/programs/run_real.py [NAME ...] [--json OUT] [--timeout SECONDS]

Servers (the components before the client, in catalog order) start first; the next
component starts ``start_gap`` seconds later (1 s unless the entry says otherwise).
The run waits for the ``until`` components (all components when ``until`` is empty),
then kills whatever still runs (servers that serve for ever). A program passes when the
client printed every ``expect`` substring and exited 0 -- or, for ``expect_deadlock``,
when the client is still running at the timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalog  # noqa: E402


def run_program(program: dict[str, Any], timeout: float, python: str) -> dict[str, Any]:
    cwd = catalog.folder(program)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    procs: dict[str, subprocess.Popen[str]] = {}
    outs: dict[str, Any] = {}
    gap = program.get("start_gap", 1.0)
    started = time.monotonic()
    for i, spec in enumerate(program["components"]):
        if i:
            time.sleep(gap)
        name = catalog.component_name(spec)
        procs[name] = subprocess.Popen(
            [python, *catalog.real_argv(spec)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    waited_for = program["until"] or list(procs)
    deadline = started + timeout
    timed_out = []
    for name in waited_for:
        try:
            procs[name].wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out.append(name)
    for name, proc in procs.items():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        outs[name] = {"rc": proc.returncode, "stdout": out, "stderr": err}
    client = outs[program["client"]]
    text = client["stdout"] + client["stderr"]
    missing = [e for e in program["expect"] if e not in text]
    if program["expect_deadlock"]:
        ok = program["client"] in timed_out and not missing
    else:
        ok = not timed_out and client["rc"] == 0 and not missing
    return {
        "name": program["name"],
        "ok": ok,
        "seconds": round(time.monotonic() - started, 2),
        "timed_out": timed_out,
        "missing": missing,
        "outputs": outs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--json", default="/tmp/sockviz-programs-real.json")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    programs = [catalog.by_name(n) for n in args.names] if args.names else catalog.PROGRAMS
    results = []
    for program in programs:
        timeout = min(args.timeout, 12.0) if program["expect_deadlock"] else args.timeout
        result = run_program(program, timeout, args.python)
        results.append(result)
        status = "ok" if result["ok"] else "FAIL"
        extra = " (deadlocked as expected)" if program["expect_deadlock"] and result["ok"] else ""
        print(f"{status:4} {program['name']:34} {result['seconds']:6.2f} s{extra}", flush=True)
        if not result["ok"]:
            print(f"     timed out: {result['timed_out']} missing: {result['missing']}")
            for name, out in result["outputs"].items():
                print(f"     --- {name} rc={out['rc']}\n{out['stdout'][-1500:]}{out['stderr'][-1500:]}")
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
