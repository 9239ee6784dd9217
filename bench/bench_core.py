"""Core benchmark: fake sockets (recording on) against real loopback, as ratios.

Run: ``.venv/bin/python bench/bench_core.py`` (or ``make bench``).  Each
figure is measured on real loopback sockets and on the fake network in the
same process, with the same code, and printed as a ratio:

* connect+accept+close cycles per second (one thread, strict semantics,
  since weldr's connect waits for accept);
* a 1-byte ping-pong round trip between two threads;
* bulk throughput, 64 KiB sends, between two threads;
* the recorder's cost per event.

Targets from the core issue: cycles >= 5x loopback, round trip <= 0.9x
loopback, bulk >= 1.5x loopback, recording <= 300 ns per event.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import threading
import time
from collections.abc import Callable

import sockviz
from sockviz._core._recorder import Recorder


def best_of(repeats: int, measure: Callable[[], float]) -> float:
    """The best (smallest) of several timings, to keep noise out."""
    return min(measure() for _ in range(repeats))


# -- connect + accept + close ------------------------------------------------


def cycles(n: int) -> float:
    """Seconds per connect+accept+close cycle, with whatever socket module is live."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    address = listener.getsockname()
    started = time.perf_counter()
    for _ in range(n):
        client = socket.socket()
        client.connect(address)
        conn, _ = listener.accept()
        client.close()
        conn.close()
    elapsed = time.perf_counter() - started
    listener.close()
    return elapsed / n


def fake_cycles(n: int) -> tuple[float, int]:
    with sockviz.fake_network("strict") as weld:
        per_cycle = cycles(n)
        events = len(weld.trace)
    return per_cycle, events


# -- ping-pong ---------------------------------------------------------------


def ping_pong_parts(
    rounds: int, port: int, timing: list[float]
) -> tuple[Callable[[], None], Callable[[], None]]:
    ready = threading.Event()

    def server() -> None:
        with socket.create_server(("127.0.0.1", port)) as listener:
            ready.set()
            conn, _ = listener.accept()
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                recv, send = conn.recv, conn.send
                for _ in range(rounds):
                    recv(1)
                    send(b"!")

    def client() -> None:
        ready.wait()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            recv, send = sock.recv, sock.send
            started = time.perf_counter()
            for _ in range(rounds):
                send(b"?")
                recv(1)
            timing.append((time.perf_counter() - started) / rounds)

    return server, client


def pinned(body: Callable[[], None], cpu: int) -> Callable[[], None]:
    """``body`` run on one CPU (as sockviz.weld runs components by default)."""

    def run() -> None:
        os.sched_setaffinity(0, {cpu})
        body()

    return run


CPU = max(os.sched_getaffinity(0))


def run_threads(*bodies: Callable[[], None], pin: bool = False) -> None:
    threads = [threading.Thread(target=pinned(body, CPU) if pin else body) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def real_round_trip(rounds: int, pin: bool = False) -> float:
    timing: list[float] = []
    run_threads(*ping_pong_parts(rounds, _free_port(), timing), pin=pin)
    return timing[0]


def fake_round_trip(rounds: int, single_cpu: bool = True) -> tuple[float, int]:
    timing: list[float] = []
    server, client = ping_pong_parts(rounds, 8080, timing)
    trace = sockviz.weld(
        {"server": server, "client": client}, semantics="strict", single_cpu=single_cpu
    )
    return timing[0], len(trace)


# -- bulk ----------------------------------------------------------------------

CHUNK = 64 * 1024


def bulk_parts(
    total: int, port: int, timing: list[float]
) -> tuple[Callable[[], None], Callable[[], None]]:
    ready = threading.Event()
    payload = b"\x5a" * CHUNK

    def server() -> None:
        with socket.create_server(("127.0.0.1", port)) as listener:
            ready.set()
            conn, _ = listener.accept()
            with conn:
                received = 0
                started = time.perf_counter()
                while chunk := conn.recv(CHUNK):
                    received += len(chunk)
                timing.append(received / (time.perf_counter() - started))

    def client() -> None:
        ready.wait()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for _ in range(total // CHUNK):
                sock.sendall(payload)

    return server, client


def real_bulk(total: int, pin: bool = False) -> float:
    timing: list[float] = []
    run_threads(*bulk_parts(total, _free_port(), timing), pin=pin)
    return timing[0]


def fake_bulk(total: int, buffer_size: int = 65536) -> float:
    timing: list[float] = []
    server, client = bulk_parts(total, 8080, timing)
    sockviz.weld({"server": server, "client": client}, semantics="strict", buffer_size=buffer_size)
    return timing[0]


def bare_lock_round_trip(rounds: int, pin: bool = False) -> float:
    """The floor for any thread-to-thread handoff here: two bare locks, no sockets.

    A round trip between two Python threads cannot cost less than this, however
    little a model does in between: it is two wake-ups through the OS and the GIL.
    """
    ping, pong = threading.Lock(), threading.Lock()
    ping.acquire()
    pong.acquire()
    timing: list[float] = []

    def other() -> None:
        for _ in range(rounds):
            ping.acquire()
            pong.release()

    def this() -> None:
        started = time.perf_counter()
        for _ in range(rounds):
            ping.release()
            pong.acquire()
        timing.append((time.perf_counter() - started) / rounds)

    run_threads(this, other, pin=pin)
    return timing[0]


# -- recording -------------------------------------------------------------------


def recording_ns(n: int) -> float:
    """Nanoseconds per Recorder.emit of a typical event, over a call that records nothing."""
    rec = Recorder()
    rec.name_thread(threading.get_ident(), "bench")  # as a weld registers each welded thread
    emit = rec.emit
    started = time.perf_counter_ns()
    for _ in range(n):
        emit("lock.acquire", "conn1", "waited_ns", 0, "cause", None)
    with_emit = time.perf_counter_ns() - started

    def nothing(kind: str, obj: str, *fields: object) -> None:
        return None

    started = time.perf_counter_ns()
    for _ in range(n):
        nothing("lock.acquire", "conn1", "waited_ns", 0, "cause", None)
    baseline = time.perf_counter_ns() - started
    return (with_emit - baseline) / n


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alternate(
    repeats: int,
    real: Callable[[], float],
    fake: Callable[[], float],
    best: Callable[..., float] = min,
) -> tuple[float, float]:
    """Run real and fake in turns (the host's power state drifts), keep the best of each."""
    reals, fakes = [], []
    for _ in range(repeats):
        reals.append(real())
        fakes.append(fake())
    return best(reals), best(fakes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    repeats = 2 if args.quick else 5
    n_cycles = int(3000 * scale)
    n_rounds = int(5000 * scale)
    n_bulk = int(256 * CHUNK * scale) // CHUNK * CHUNK

    # Warm up: the first hand-offs of a run pay for idle CPUs waking up.
    bare_lock_round_trip(n_rounds)
    fake_round_trip(n_rounds)

    real_cycle, fake_cycle = alternate(
        repeats, lambda: cycles(n_cycles), lambda: fake_cycles(n_cycles)[0]
    )
    events_per_cycle = fake_cycles(n_cycles)[1] / n_cycles

    real_rtt, fake_rtt = alternate(
        repeats, lambda: real_round_trip(n_rounds), lambda: fake_round_trip(n_rounds)[0]
    )
    pinned_rtt, _ = alternate(repeats, lambda: real_round_trip(n_rounds, pin=True), lambda: 0.0)
    _, free_rtt = alternate(
        repeats, lambda: 0.0, lambda: fake_round_trip(n_rounds, single_cpu=False)[0]
    )
    floor_rtt = best_of(repeats, lambda: bare_lock_round_trip(n_rounds))
    pinned_floor_rtt = best_of(repeats, lambda: bare_lock_round_trip(n_rounds, pin=True))
    events_per_round = fake_round_trip(n_rounds)[1] / n_rounds

    real_mbs, fake_mbs = alternate(
        repeats, lambda: real_bulk(n_bulk), lambda: fake_bulk(n_bulk), best=max
    )
    pinned_mbs, wide_mbs = alternate(
        repeats, lambda: real_bulk(n_bulk, pin=True), lambda: fake_bulk(n_bulk, 4 << 20), best=max
    )

    emit_ns = statistics.median(recording_ns(200_000) for _ in range(repeats))

    def row(
        label: str, real: float, fake: float, ratio: float, note: str, fmt: str = ",.0f"
    ) -> None:
        print(f"{label:42} {real:14{fmt}} {fake:14{fmt}} {ratio:9.2f}x  {note}")

    print(
        f"sockviz core benchmark: best of {repeats}, real and fake alternating; fake = recording "
        "on, strict semantics"
    )
    print(f"{'measure':42} {'real loopback':>14} {'fake':>14} {'fake/real':>10}  target / note")
    row(
        "connect+accept+close cycles/s (1 thread)",
        1 / real_cycle,
        1 / fake_cycle,
        real_cycle / fake_cycle,
        f">= 5x  ({events_per_cycle:.0f} events a cycle)",
    )
    row(
        "1-byte round trip, µs (2 threads)",
        real_rtt * 1e6,
        fake_rtt * 1e6,
        fake_rtt / real_rtt,
        f"<= 0.9x ({events_per_round:.0f} events a round trip)",
        ".1f",
    )
    row(
        "  real threads pinned to one CPU too",
        pinned_rtt * 1e6,
        fake_rtt * 1e6,
        fake_rtt / pinned_rtt,
        "like for like with weld's single_cpu",
        ".1f",
    )
    row(
        "  fake with single_cpu=False",
        real_rtt * 1e6,
        free_rtt * 1e6,
        free_rtt / real_rtt,
        "threads free to roam",
        ".1f",
    )
    row(
        "  floor: bare-lock round trip, no sockets",
        real_rtt * 1e6,
        floor_rtt * 1e6,
        floor_rtt / real_rtt,
        "(unpinned)",
        ".1f",
    )
    row(
        "  floor, both pinned to one CPU",
        pinned_rtt * 1e6,
        pinned_floor_rtt * 1e6,
        pinned_floor_rtt / pinned_rtt,
        "no Python-thread model can go below",
        ".1f",
    )
    row(
        "bulk 64 KiB sends, MB/s (2 threads)",
        real_mbs / 1e6,
        fake_mbs / 1e6,
        fake_mbs / real_mbs,
        ">= 1.5x  (fake buffer 64 KiB)",
    )
    row(
        "  real threads pinned to one CPU too",
        pinned_mbs / 1e6,
        fake_mbs / 1e6,
        fake_mbs / pinned_mbs,
        "like for like with weld's single_cpu",
    )
    row(
        "  fake buffer_size=4 MiB",
        real_mbs / 1e6,
        wide_mbs / 1e6,
        wide_mbs / real_mbs,
        "Linux's loopback window grows to MBs",
    )
    print(f"{'recording, ns per event':42} {'':14} {emit_ns:14.0f} {'':10}  <= 300 ns")


if __name__ == "__main__":
    main()
