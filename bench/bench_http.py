"""HTTP benchmark: requests per second of http.server + http.client, welded against real loopback.

Run: ``.venv/bin/python bench/bench_http.py`` (or ``make bench``).  The same
server (``http.server.ThreadingHTTPServer`` with a handler answering a small
body, HTTP/1.1 keep-alive) and the same client (``http.client`` sending GETs
on one connection, then one connection per request) run on real loopback
sockets and welded, in the same process, best of 3, and the welded figure is
printed as a ratio of the real one.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import threading
import time
from collections.abc import Callable

import sockviz

BODY = b"x" * 256


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else real keep-alive waits 40 ms a request for a delayed ACK

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


def parts(
    host: str, port: int, requests: int, keep_alive: bool, timing: list[float]
) -> tuple[Callable[[], None], Callable[[], None]]:
    ready, done = threading.Event(), threading.Event()

    def server() -> None:
        with http.server.ThreadingHTTPServer(
            ("127.0.0.1" if host == "127.0.0.1" else "", port), Handler
        ) as httpd:
            serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
            serving.start()
            ready.set()
            done.wait()
            httpd.shutdown()
            serving.join()

    def client() -> None:
        ready.wait()
        try:
            started = time.perf_counter()
            connection = http.client.HTTPConnection(host, port, timeout=10)
            for _ in range(requests):
                if not keep_alive:
                    connection = http.client.HTTPConnection(host, port, timeout=10)
                connection.request("GET", "/")
                assert connection.getresponse().read() == BODY
                if not keep_alive:
                    connection.close()
            connection.close()
            timing.append(requests / (time.perf_counter() - started))
        finally:
            done.set()

    return server, client


def real_rate(requests: int, keep_alive: bool, port: int) -> float:
    timing: list[float] = []
    server, client = parts("127.0.0.1", port, requests, keep_alive, timing)
    threads = [threading.Thread(target=server), threading.Thread(target=client)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timing[0]


def fake_rate(requests: int, keep_alive: bool) -> float:
    timing: list[float] = []
    server, client = parts("server", 8080, requests, keep_alive, timing)
    sockviz.weld({"server": server, "client": client}, timeout=120)
    return timing[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    requests = 200 if args.quick else 1000
    print(
        f"sockviz HTTP benchmark: http.server + http.client, {requests} GETs, best of 3, real and "
        "welded alternating"
    )
    print(f"{'':28} {'real loopback':>14} {'welded':>10} {'welded/real':>12}")
    port = 18080
    for keep_alive in (True, False):
        reals, fakes = [], []
        for _ in range(3):
            port += 1
            reals.append(real_rate(requests, keep_alive, port))
            fakes.append(fake_rate(requests, keep_alive))
        real, fake = max(reals), max(fakes)
        label = "requests/s, keep-alive" if keep_alive else "requests/s, a connection each"
        print(f"{label:28} {real:14,.0f} {fake:10,.0f} {fake / real:11.2f}x")


if __name__ == "__main__":
    main()
