"""Speed and scale: every row of the speed issue's table, measured in one run, each against its
baseline in the same process.

Run: ``.venv/bin/python bench/bench_scale.py`` (or ``make bench``; ``--quick`` for a smoke run).

* sockets (strict semantics, recording on, default settings) against real loopback sockets
  running the same code: connect+accept+close cycles, a 1-byte round trip, 64 KiB bulk; each in
  the interactive ``fake_network()`` and inside ``weld()``;
* a freshly recorded 1M-event trace saved (building its events included) and loaded, against
  the standard library's json;
* the first ``plot_timeline`` of a freshly loaded 1M-event trace, to PNG, against matplotlib
  drawing a plain line of as many points;
* memory per recorded event (tracemalloc), against the event's own fields as a tuple;
* ``import sockviz`` (``-X importtime``, best of 5), against ``import socket``;
* ``explore`` runs per second on 2 worker processes, against 1 (the serial loop).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable

import bench_core as core
import bench_traces as traces
import sockviz
from sockviz import scenarios


def row(measure: str, real: float, fake: float, unit: str, ratio: float, target: str) -> None:
    print(f"{measure:54} {real:>12,.2f} {fake:>12,.2f} {unit:>6} {ratio:>8.2f}x  {target}")


# -- sockets ---------------------------------------------------------------------------------


def in_fake_network(body: Callable[[], float]) -> float:
    with sockviz.fake_network("strict"):
        return body()


def in_weld(body: Callable[[], float]) -> float:
    timing: list[float] = []
    sockviz.weld({"bench": lambda: timing.append(body())}, semantics="strict")
    return timing[0]


def threads_timing(
    parts: Callable[[int, list[float]], tuple[Callable[[], None], Callable[[], None]]],
) -> Callable[[], float]:
    """Run parts' server and client as two threads, with whatever socket module is live."""

    def run() -> float:
        timing: list[float] = []
        core.run_threads(*parts(8080 if _faked() else core._free_port(), timing))
        return timing[0]

    return run


def _faked() -> bool:
    return type(socket.socket).__module__.startswith("sockviz") or "sockviz" in repr(socket.socket)


def welded_pair(
    parts: Callable[[int, list[float]], tuple[Callable[[], None], Callable[[], None]]],
) -> float:
    timing: list[float] = []
    server, client = parts(8080, timing)
    sockviz.weld({"server": server, "client": client}, semantics="strict")
    return timing[0]


def sockets(scale: float, repeats: int) -> None:
    n_cycles, n_rounds = int(3000 * scale), int(5000 * scale)
    n_bulk = max(16, int(256 * scale)) * core.CHUNK

    def rtt(port: int, timing: list[float]) -> tuple[Callable[[], None], Callable[[], None]]:
        return core.ping_pong_parts(n_rounds, port, timing)

    def bulk(port: int, timing: list[float]) -> tuple[Callable[[], None], Callable[[], None]]:
        return core.bulk_parts(n_bulk, port, timing)

    core.fake_round_trip(n_rounds)  # warm up
    real = lambda: core.cycles(n_cycles)  # noqa: E731
    for where, fake in (
        ("fake_network()", lambda: in_fake_network(lambda: core.cycles(n_cycles))),
        ("weld()", lambda: in_weld(lambda: core.cycles(n_cycles))),
    ):
        r, f = core.alternate(repeats, real, fake)
        row(f"connect+accept+close cycles/s, {where}", 1 / r, 1 / f, "/s", r / f, ">= 1.0x")
    real_rtt = threads_timing(rtt)
    for where, fake in (
        ("fake_network()", lambda: in_fake_network(threads_timing(rtt))),
        ("weld()", lambda: welded_pair(rtt)),
    ):
        r, f = core.alternate(repeats, real_rtt, fake)
        row(f"1-byte round trip, {where}", r * 1e6, f * 1e6, "µs", f / r, "<= 0.5x")
    real_bulk = threads_timing(bulk)
    for where, fake in (
        ("fake_network()", lambda: in_fake_network(threads_timing(bulk))),
        ("weld()", lambda: welded_pair(bulk)),
    ):
        r, f = core.alternate(repeats, real_bulk, fake, best=max)
        row(f"64 KiB bulk throughput, {where}", r / 1e6, f / 1e6, "MB/s", f / r, ">= 1.0x")


# -- traces ------------------------------------------------------------------------------------


def trace_files(n: int) -> sockviz.Trace:
    """Save and load a freshly recorded trace; returns it loaded (for the plot)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.jsonl")

        def fresh() -> sockviz.Trace:  # as a weld returns it: its events not built yet
            return sockviz.weld(traces.ping_pong_parts(n // 18), echo=False, timeout=600)

        def save_fresh(save: Callable[[], object]) -> float:
            nonlocal trace
            trace = fresh()
            return traces.timed(save, 1)

        trace = fresh()
        save = save_fresh(lambda: trace.save(path))
        std_save = save_fresh(traces.with_stdlib(lambda: trace.save(path)))
        load = traces.timed(lambda: sockviz.load(path), 2)
        std_load = traces.timed(traces.with_stdlib(lambda: sockviz.load(path)), 1)
        loaded = sockviz.load(path)
    saved = f"save a fresh {len(loaded):,}-event trace (s)"
    row(saved, std_save, save, "s", save / std_save, "<= 1.0 s")
    row("load it (s)", std_load, load, "s", load / std_load, "<= 1.0 s")
    return loaded


def first_plot(trace: sockviz.Trace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # (imported before timing, as a notebook's backend has it)
    from matplotlib.figure import Figure

    xs = [e.t_ns / 1e6 for e in trace.events]
    started = time.perf_counter()
    figure = Figure(figsize=(12, 3.5), dpi=100)
    figure.add_subplot().plot(xs, [len(e.thread) % 5 for e in trace.events], linewidth=0.5)
    figure.savefig(io.BytesIO(), format="png")
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    ax = sockviz.plot_timeline(trace)
    ax.figure.savefig(io.BytesIO(), format="png")
    seconds = time.perf_counter() - started
    row(f"first plot_timeline, {len(trace):,} loaded events, PNG (s)", baseline, seconds, "s",
        seconds / baseline, "<= 0.5 s")  # fmt: skip


def memory_per_event(n: int) -> None:
    """tracemalloc's count of what a weld's trace holds, per event: as recorded, then with its
    Event objects built (as the views build them)."""
    import gc

    rounds = n // 18
    tracemalloc.start()
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    trace = sockviz.weld(traces.ping_pong_parts(rounds), echo=False, timeout=600)
    gc.collect()
    recorded = (tracemalloc.get_traced_memory()[0] - before) / len(trace)
    trace.events  # noqa: B018
    gc.collect()
    built = (tracemalloc.get_traced_memory()[0] - before) / len(trace)
    tracemalloc.stop()
    event = trace.events[len(trace) // 2]
    bare = sys.getsizeof(tuple(event)) + sys.getsizeof(event.fields)
    row(f"memory per recorded event, {len(trace):,} events (B)", bare, recorded, "B",
        recorded / bare, "<= 150 B")  # fmt: skip
    row("  with its Event objects built (B)", bare, built, "B", built / bare, "")


# -- import, explore ------------------------------------------------------------------------------


def import_ms(module: str) -> float:
    """Best of 5, with the bytecode cached as an installed package has it (this machine sets
    PYTHONDONTWRITEBYTECODE, which would compile every module on every import)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    best = float("inf")
    for _ in range(6):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        for line in done.stderr.splitlines():
            match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+(\S+)$", line)
            if match and match.group(2) == module:
                best = min(best, int(match.group(1)) / 1000)
    return best


def explore_rate(runs: int) -> None:
    def rate(workers: int) -> float:
        started = time.perf_counter()
        sockviz.explore(scenarios.race_scenario, runs=runs, workers=workers, progress=False)
        return runs / (time.perf_counter() - started)

    one, two = rate(1), rate(2)
    row(f"explore runs/s, {runs:,} runs, 2 workers (pool start included)", one, two, "/s",
        two / one, ">= 1.6x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    print(f"sockviz speed and scale, {os.cpu_count()} CPUs: baseline, sockviz, sockviz÷baseline")
    print(f"{'measure':54} {'baseline':>12} {'sockviz':>12} {'':>6} {'ratio':>9}  target")
    sockets(scale, 2 if args.quick else 5)
    n = int(1_000_000 * scale)
    loaded = trace_files(n)
    first_plot(loaded)
    del loaded
    memory_per_event(int(200_000 * scale))
    socket_ms, sockviz_ms = import_ms("socket"), import_ms("sockviz")
    row("import sockviz (-X importtime, ms; baseline: socket)", socket_ms, sockviz_ms, "ms",
        sockviz_ms / socket_ms, "<= 60 ms")  # fmt: skip
    explore_rate(int(2000 * scale))


if __name__ == "__main__":
    main()
