"""Run the corpus through ``sockviz run``: with ``--strict``, with no flag, with ``--weldr``.

    python tests/programs/run_sockviz.py [NAME ...] [--modes strict default weldr] [--json OUT] [--timeout 20]

Each program runs from its folder as
``python -m sockviz run [--strict|--weldr] --timeout T -o TRACE SPEC... [--until NAME...]``
(since commit 45abef7 no flag means strict too; ``--weldr`` is the original's model);
the client's lines (``[client] ...``, stdout and stderr) are checked for the catalog's
``expect`` substrings. A program that should deadlock passes when the run does not
end with status 0 (a DeadlockError, or the weld's timeout).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalog  # noqa: E402

TRACES = "/tmp/sockviz-programs"


MODES = {"strict": ["--strict"], "default": [], "weldr": ["--weldr"]}


def command(program: dict[str, Any], mode: str, timeout: float, trace: str, python: str, seed: int | None = None) -> list[str]:
    argv = [python, "-m", "sockviz", "run", *MODES[mode]]
    if seed is not None:
        argv += ["--seed", str(seed)]
    argv += ["--timeout", str(timeout), "-o", trace, *program["components"]]
    if program["until"]:
        argv += ["--until", *program["until"]]
    return argv


def run_program(
    program: dict[str, Any], mode: str, timeout: float, python: str, src: str | None = None, seed: int | None = None
) -> dict[str, Any]:
    trace = os.path.join(TRACES, f"{program['name']}-{mode}{'' if seed is None else f'-seed{seed}'}.jsonl")
    argv = command(program, mode, timeout, trace, python, seed)
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    if src:  # another sockviz checkout (e.g. an older commit unpacked with git archive)
        env["PYTHONPATH"] = src
    started = time.monotonic()
    try:
        # bytes, not text=True: that would turn the "\r" progress lines into "\n"
        done = subprocess.run(
            argv, cwd=catalog.folder(program), env=env, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=timeout + 60,
        )
        rc, out, err = done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as exc:
        rc = "hung"
        out = (exc.stdout or b"").decode(errors="replace")
        err = (exc.stderr or b"").decode(errors="replace")
    seconds = round(time.monotonic() - started, 2)
    prefix = f"[{program['client']}] "
    client_lines = [line[len(prefix):] for line in (out + "\n" + err).split("\n") if line.startswith(prefix)]
    text = "\n".join(client_lines)
    missing = [e for e in program["expect"] if e not in text]
    if program["expect_deadlock"]:
        ok = rc != 0 and not missing
    else:
        ok = rc == 0 and not missing
    return {
        "name": program["name"],
        "mode": mode,
        "ok": ok,
        "rc": rc,
        "seconds": seconds,
        "missing": missing,
        "cmd": "cd tests/programs/%s && %s" % (program["folder"], " ".join(_quote(a) for a in argv)),
        "stdout": out,
        "stderr": err,
    }


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--modes", nargs="+", default=["strict", "default", "weldr"], choices=list(MODES))
    parser.add_argument("--json", default="/tmp/sockviz-programs-sockviz.json")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--sockviz-src", metavar="DIR", help="run this sockviz (a src/ folder) instead of the installed one")
    parser.add_argument("--seed", type=int, help="pass --seed N: one thread at a time, logical time")
    args = parser.parse_args()
    os.makedirs(TRACES, exist_ok=True)
    programs = [catalog.by_name(n) for n in args.names] if args.names else catalog.PROGRAMS
    results = []
    for program in programs:
        for mode in args.modes:
            result = run_program(program, mode, args.timeout, args.python, args.sockviz_src, args.seed)
            results.append(result)
            status = "ok" if result["ok"] else "FAIL"
            print(f"{status:4} {mode:6} {program['name']:34} rc={result['rc']!s:4} {result['seconds']:6.2f} s", flush=True)
            if not result["ok"]:
                print(f"     missing: {result['missing']}")
                tail = [line for line in result["stderr"].splitlines() if line.strip()][-12:]
                print("     " + "\n     ".join(tail))
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
