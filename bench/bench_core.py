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
import socket
import statistics
import threading
import time
from collections.abc import Callable

import sockviz
from sockviz._trace._recorder import Recorder


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


def ping_pong_parts(rounds: int, port: int, timing: list[float]) -> tuple[Callable[[], None], Callable[[], None]]:
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


def run_threads(*bodies: Callable[[], None]) -> None:
    threads = [threading.Thread(target=body) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def real_round_trip(rounds: int) -> float:
    timing: list[float] = []
    run_threads(*ping_pong_parts(rounds, 0 or _free_port(), timing))
    return timing[0]


def fake_round_trip(rounds: int) -> tuple[float, int]:
    timing: list[float] = []
    server, client = ping_pong_parts(rounds, 8080, timing)
    trace = sockviz.weld({"server": server, "client": client}, semantics="strict")
    return timing[0], len(trace)


# -- bulk ----------------------------------------------------------------------

CHUNK = 64 * 1024


def bulk_parts(total: int, port: int, timing: list[float]) -> tuple[Callable[[], None], Callable[[], None]]:
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


def real_bulk(total: int) -> float:
    timing: list[float] = []
    run_threads(*bulk_parts(total, _free_port(), timing))
    return timing[0]


def fake_bulk(total: int) -> float:
    timing: list[float] = []
    server, client = bulk_parts(total, 8080, timing)
    sockviz.weld({"server": server, "client": client}, semantics="strict")
    return timing[0]


# -- recording -------------------------------------------------------------------


def recording_ns(n: int) -> float:
    """Nanoseconds per Recorder.emit of a typical event, over a call that records nothing."""
    rec = Recorder()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    repeats = 2 if args.quick else 5
    n_cycles = int(3000 * scale)
    n_rounds = int(5000 * scale)
    n_bulk = int(256 * CHUNK * scale) // CHUNK * CHUNK

    real_cycle = best_of(repeats, lambda: cycles(n_cycles))
    fake_cycle_runs = [fake_cycles(n_cycles) for _ in range(repeats)]
    fake_cycle = min(t for t, _ in fake_cycle_runs)
    events_per_cycle = fake_cycle_runs[0][1] / n_cycles

    real_rtt = best_of(repeats, lambda: real_round_trip(n_rounds))
    fake_rtt_runs = [fake_round_trip(n_rounds) for _ in range(repeats)]
    fake_rtt = min(t for t, _ in fake_rtt_runs)
    events_per_round = fake_rtt_runs[0][1] / n_rounds

    real_throughput = max(real_bulk(n_bulk) for _ in range(repeats))
    fake_throughput = max(fake_bulk(n_bulk) for _ in range(repeats))

    emit_ns = statistics.median(recording_ns(200_000) for _ in range(repeats))

    print(f"sockviz core benchmark (best of {repeats}; fake = recording on)")
    print(f"{'measure':38} {'real loopback':>14} {'fake':>14} {'fake/real':>10}  target")
    print(
        f"{'connect+accept+close cycles/s':38} {1 / real_cycle:14,.0f} {1 / fake_cycle:14,.0f} "
        f"{real_cycle / fake_cycle:9.2f}x  >= 5x   ({events_per_cycle:.0f} events/cycle)"
    )
    print(
        f"{'1-byte round trip (µs)':38} {real_rtt * 1e6:14.1f} {fake_rtt * 1e6:14.1f} "
        f"{fake_rtt / real_rtt:9.2f}x  <= 0.9x ({events_per_round:.0f} events/round trip)"
    )
    print(
        f"{'bulk 64 KiB sends (MB/s)':38} {real_throughput / 1e6:14,.0f} {fake_throughput / 1e6:14,.0f} "
        f"{fake_throughput / real_throughput:9.2f}x  >= 1.5x"
    )
    print(f"{'recording (ns per event)':38} {'':14} {emit_ns:14.0f} {'':10}  <= 300 ns")


if __name__ == "__main__":
    main()
