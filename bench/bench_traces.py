"""Trace benchmark: saving and loading a 1,000,000-event trace, and scrubbing with state_at.

Run: ``.venv/bin/python bench/bench_traces.py`` (or ``make bench``).  The
trace is a real one: a welded 1-byte ping-pong, run until it has recorded a
million events.  Each figure is printed in seconds and as a ratio against
the standard library's ``json`` doing the same job in the same process (the
baseline), with the issue's targets:

* save <= 1 s, load <= 1 s (msgspec when installed, as sockviz uses it);
* ``state_at(i)`` <= 1 ms for any ``i`` at 100,000 events, after one pass of
  preparation (timed separately).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Callable

import sockviz
from sockviz._trace import _json

TARGET_EVENTS = 1_000_000


def ping_pong_parts(rounds: int) -> dict[str, Callable[[], None]]:
    """A welded 1-byte ping-pong of ``rounds`` round trips (18 events each)."""

    def server() -> None:
        with socket.create_server(("127.0.0.1", 8080)) as listener:
            conn, _ = listener.accept()
            with conn:
                for _ in range(rounds):
                    conn.sendall(conn.recv(1))

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            for _ in range(rounds):
                sock.sendall(b"?")
                sock.recv(1)

    return {"server": server, "client": client}


def ping_pong_trace(events: int) -> sockviz.Trace:
    """A real welded trace with exactly ``events`` events."""
    trace = sockviz.weld(ping_pong_parts(events // 18 + 100), timeout=600)
    return sockviz.Trace(trace.events[:events], trace.meta)


def timed(job: Callable[[], object], repeats: int) -> float:
    """The best of ``repeats`` wall-clock timings of ``job()``, in seconds.

    What ``job`` returns is let go only after the clock is read: freeing a loaded million-event
    trace takes about 0.2 s, which is not part of loading it.
    """
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        result = job()
        best = min(best, time.perf_counter() - started)
        del result
    return best


def with_stdlib(job: Callable[[], object]) -> Callable[[], object]:
    """``job`` run with the standard library's json (the baseline)."""

    def run() -> object:
        names = ("encode", "encode_lines", "encode_events", "encode_recorded", "decode_events")
        saved = [getattr(_json, name) for name in names]
        for name in names:
            setattr(_json, name, getattr(_json, f"_stdlib_{name}"))
        try:
            return job()
        finally:
            for name, function in zip(names, saved, strict=True):
                setattr(_json, name, function)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="100,000 events instead of a million (a smoke run)"
    )
    args = parser.parse_args()
    n = TARGET_EVENTS // 10 if args.quick else TARGET_EVENTS
    repeats = 3

    started = time.perf_counter()
    trace = ping_pong_trace(n)
    trace.events  # noqa: B018 - build the Event objects before timing
    recorded = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.jsonl")
        save = timed(lambda: trace.save(path), repeats)
        size = os.path.getsize(path)
        load = timed(lambda: sockviz.load(path), repeats)
        std_save = timed(with_stdlib(lambda: trace.save(path)), 1)
        std_load = timed(with_stdlib(lambda: sockviz.load(path)), 1)
        gz = os.path.join(folder, "big.jsonl.gz")
        gz_save = timed(lambda: trace.save(gz), 1)
        gz_load = timed(lambda: sockviz.load(gz), 1)
        assert sockviz.load(path).events == trace.events

    scrub = sockviz.Trace(trace.events[:100_000], trace.meta)
    prepare = timed(lambda: sockviz.Trace(scrub.events, scrub.meta).state_at(0), 1)
    scrub.state_at(0)
    rng = random.Random(7)
    picks = [rng.randrange(len(scrub)) for _ in range(2000)]
    costs = []
    for i in picks:
        t0 = time.perf_counter()
        scrub.state_at(i)
        costs.append(time.perf_counter() - t0)

    def row(label: str, seconds: float, baseline: float | None, target: str) -> None:
        ratio = f"{seconds / baseline:9.2f}x" if baseline else " " * 10
        print(f"{label:46} {seconds:10.3f} s {ratio}  {target}")

    print(
        f"sockviz trace benchmark: {n:,} events ({size / 1e6:.0f} MB), recorded in {recorded:.1f} "
        f"s; JSON backend: {_json.BACKEND}"
    )
    print(f"{'measure':46} {'time':>12} {'vs stdlib':>10}  target")
    row("save .jsonl", save, std_save, "<= 1 s at 1,000,000 events")
    row("load .jsonl", load, std_load, "<= 1 s at 1,000,000 events")
    row("  save with the standard library's json", std_save, None, "(baseline)")
    row("  load with the standard library's json", std_load, None, "(baseline)")
    row("save .jsonl.gz", gz_save, None, "")
    row("load .jsonl.gz", gz_load, None, "")
    print(f"{'state_at: preparation at 100,000 events':46} {prepare:10.3f} s")
    print(
        f"{'state_at(i), random i, 100,000 events':46} {statistics.median(costs) * 1e3:10.3f} ms "
        f"median, {max(costs) * 1e3:.3f} ms worst of {len(costs)}  (<= 1 ms)"
    )


if __name__ == "__main__":
    main()
