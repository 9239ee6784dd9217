"""Record the traces lesson 7 loads: ``python notebooks/traces/record.py`` (from the repository root).

Each is a demo scenario of ``sockviz.scenarios``, welded and saved as ``.jsonl.gz``.
Recording them again gives new timings and, sometimes, a different interleaving:
that is the point of lesson 7's comparisons.
"""

from __future__ import annotations

from pathlib import Path

import sockviz
from sockviz.scenarios import SCENARIOS

HERE = Path(__file__).parent
RUNS = {
    "echo-weldr": ("echo", "weldr", 65536),
    "echo-strict": ("echo", "strict", 65536),
    "backpressure": ("backpressure", "weldr", 16384),
    "deadlock": ("deadlock", "weldr", 65536),
}


def main() -> None:
    for name, (scenario, semantics, buffer_size) in RUNS.items():
        try:
            trace = sockviz.weld(SCENARIOS[scenario](), semantics=semantics, buffer_size=buffer_size)
        except sockviz.DeadlockError as error:
            assert error.trace is not None
            trace = error.trace
        trace.save(HERE / f"{name}.jsonl.gz")
        print(f"{name}: {len(trace)} events")


if __name__ == "__main__":
    main()
