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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--round-trips", type=int, default=5000)
    args = parser.parse_args()
    scenarios(args.repeat)
    round_trips(args.round_trips, args.repeat)


if __name__ == "__main__":
    main()
