"""Scheduled-run benchmark: how much a deterministic schedule costs against a free weld.

Run: ``.venv/bin/python bench/bench_schedule.py`` (or ``make bench``).

* **Demo scenarios**: every scenario of ``sockviz demo``, welded freely and
  under ``Seeded(seed)``, in the same process; each figure is the median of
  ``--repeat`` whole welds (seeds 0, 1, 2... for the scheduled ones), and
  the ratio is scheduled / free.  Scenarios that sleep or time out gain:
  their waits cost logical time, not real time.
* **Ping-pong**: ``--round-trips`` one-byte round trips between a client
  and a server, the worst case for a schedule (nothing but socket calls,
  every one a decision point), under ``Seeded`` and under
  ``Scripted([])`` (each thread runs until it must wait); ratios against
  the free weld and against real loopback sockets in the same process.
* **Stepper**: ``sockviz.stepper`` on a ping-pong of 100 round trips, stepped
  200 times (the client and the server in turn); then ``back()`` -- one
  re-run of the 199 choices left -- against one free weld of the same
  scenario (target: back() within 100 ms).
* **Exhaustive search**: ``explore(..., exhaustive=True)`` of the demo
  scenarios: how many schedules each has (no preemption, and one), and runs
  per second against seeded runs in the same process.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import sockviz
from sockviz.scenarios import SCENARIOS


def timed_weld(components: Any, **kwargs: Any) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        trace = sockviz.weld(components, echo=False, **kwargs)
    except sockviz.DeadlockError as exc:  # the deadlock scenario ends so on purpose
        return time.perf_counter() - started, len(exc.trace or ())
    return time.perf_counter() - started, len(trace)


def scenarios(repeat: int) -> list[float]:
    print(f"demo scenarios, median of {repeat} welds each (scheduled: seeds 0..{repeat - 1})")
    print(
        f"{'scenario':<14}{'semantics':<10}{'free':>10}{'scheduled':>12}{'ratio':>8}{'events':>9}"
    )
    ratios = []
    for semantics in ("weldr", "strict"):
        for name, make in SCENARIOS.items():
            if semantics == "strict" and name not in ("echo", "backpressure", "backlog"):
                # the others do not retry when refused: strict changes what they do, not the cost
                continue
            # free: every component at once, the OS picks (a staggered start would wait for each to
            # block)
            free = statistics.median(
                timed_weld(make(), semantics=semantics, stagger=False)[0] for _ in range(repeat)
            )
            runs = [
                timed_weld(make(), semantics=semantics, schedule=sockviz.Seeded(seed))
                for seed in range(repeat)
            ]
            scheduled = statistics.median(seconds for seconds, _ in runs)
            ratios.append(scheduled / free)
            print(
                f"{name:<14}{semantics:<10}{free * 1e3:>8.2f}ms{scheduled * 1e3:>10.2f}ms"
                f"{scheduled / free:>7.2f}x{runs[0][1]:>9}"
            )
    print(
        f"geometric mean of the ratios: {statistics.geometric_mean(ratios):.2f}x; worst "
        f"{max(ratios):.2f}x"
    )
    return ratios


def ping_pong(
    round_trips: int, host: str, port: int, timing: list[float]
) -> tuple[Callable[[], None], Callable[[], None]]:
    """A one-byte echo server and a client timing ``round_trips`` round trips (port 0: any free
    port)."""
    ready = threading.Event()
    address: list[tuple[str, int]] = []

    def server() -> None:
        with socket.create_server((host, port)) as listener:
            address.append(
                ("127.0.0.1" if host == "127.0.0.1" else "server", listener.getsockname()[1])
            )
            ready.set()
            conn, _ = listener.accept()
            with conn:
                while data := conn.recv(1):
                    conn.sendall(data)

    def client() -> None:
        ready.wait()
        with socket.create_connection(address[0]) as sock:
            started = time.perf_counter()
            for _ in range(round_trips):
                sock.sendall(b"x")
                sock.recv(1)
            timing.append(time.perf_counter() - started)

    return server, client


def real_ping_pong(round_trips: int) -> float:
    timing: list[float] = []
    threads = [
        threading.Thread(target=part) for part in ping_pong(round_trips, "127.0.0.1", 0, timing)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timing[0]


def welded_ping_pong(round_trips: int, schedule: sockviz.Schedule | None) -> float:
    timing: list[float] = []
    server, client = ping_pong(round_trips, "", 9000, timing)
    # the client's timer starts after connect, so only the round trips count
    sockviz.weld({"server": server, "client": client}, schedule=schedule, echo=False)
    return timing[0]


def round_trips(count: int, repeat: int) -> None:
    print(f"\nping-pong: {count} one-byte round trips, best of {repeat}")
    real = min(real_ping_pong(count) for _ in range(repeat))
    free = min(welded_ping_pong(count, None) for _ in range(repeat))
    rows = [("real loopback", real), ("welded, free", free)]
    rows.append(
        ("Seeded(n)", min(welded_ping_pong(count, sockviz.Seeded(n)) for n in range(repeat)))
    )
    rows.append(
        ("Scripted([])", min(welded_ping_pong(count, sockviz.Scripted([])) for _ in range(repeat)))
    )
    print(f"{'run':<16}{'per round trip':>16}{'vs free':>10}{'vs real':>10}")
    for name, seconds in rows:
        print(
            f"{name:<16}{seconds / count * 1e6:>13.1f} "
            f"µs{seconds / free:>9.2f}x{seconds / real:>9.2f}x"
        )


def busy_pair(calls: int) -> dict[str, Any]:
    """Two threads that never wait, each making ``calls`` socket calls: a choice at every one."""

    def worker() -> None:
        for _ in range(calls // 2):
            socket.socket().close()

    return {"a": worker, "b": worker}


def stepper(choices: int, repeat: int) -> None:
    print(f"\nstepper: two busy threads, {choices} choices, then back(); best of {repeat}")
    free = min(timed_weld(busy_pair(choices))[0] for _ in range(repeat))
    st = sockviz.stepper(busy_pair(choices))
    started = time.perf_counter()
    while st.steps < choices and not st.done:
        st.run(st.runnable[st.steps % len(st.runnable)])
    stepping = (time.perf_counter() - started) / max(st.steps, 1)
    backs = []
    for _ in range(repeat):
        started = time.perf_counter()
        st.back()
        backs.append(time.perf_counter() - started)
        st.run(st.runnable[0])
    back = min(backs)
    print(f"{'one free weld':<28}{free * 1e3:>9.1f} ms")
    print(f"{'a step, on average':<28}{stepping * 1e3:>9.1f} ms")
    label = f"back() at {st.steps} choices"
    print(f"{label:<28}{back * 1e3:>9.1f} ms{back / free:>9.2f}x free")


def _rate(runs: Callable[[], int], repeat: int) -> float:
    """Runs per second, best of ``repeat``."""
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        count = runs()
        best = max(best, count / (time.perf_counter() - started))
    return best


def search(repeat: int) -> None:
    print(f"\nexhaustive search of the demo scenarios (best of {repeat} for the rates)")
    head = ("scenario", "schedules", "+1 preempt.", "runs/s", "seeded/s", "ratio")
    print(f"{head[0]:<14}{head[1]:>10}{head[2]:>12}{head[3]:>9}{head[4]:>10}{head[5]:>7}")
    for name in ("echo", "race", "backlog", "deadlock", "backpressure"):
        made = SCENARIOS[name]
        found = sockviz.explore(made, exhaustive=True, max_runs=5000)
        one = sockviz.explore(made, exhaustive=True, preemptions=1, max_runs=5000)
        searched = _rate(
            lambda made=made: len(sockviz.explore(made, exhaustive=True, max_runs=300).runs),
            repeat,
        )
        seeded = _rate(lambda made=made: len(sockviz.explore(made, runs=50).runs), repeat)
        schedules = f"{len(found.runs)}{'' if found.complete else '+'}"
        more = f"{len(one.runs)}{'' if one.complete else '+'}"
        print(
            f"{name:<14}{schedules:>10}{more:>12}{searched:>9.0f}{seeded:>10.0f}"
            f"{searched / seeded:>7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--round-trips", type=int, default=5000)
    args = parser.parse_args()
    scenarios(args.repeat)
    round_trips(args.round_trips, args.repeat)
    stepper(200, args.repeat)
    search(min(args.repeat, 3))


if __name__ == "__main__":
    main()
