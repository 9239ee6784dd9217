"""The time a welded thread spends waiting in select(), poll() or a selector -- asyncio's loop
included -- is a recorded wait, with the thread whose call made a descriptor ready as its
waker, in free runs and under a schedule."""

from __future__ import annotations

import asyncio
import select
import selectors
import socket
import time
from typing import Any

import matplotlib

matplotlib.use("Agg")

import pytest

import sockviz


def _selector_server(clients: int = 2) -> Any:
    def server() -> None:
        sel = selectors.DefaultSelector()
        with socket.create_server(("", 8080)) as listener:
            listener.setblocking(False)
            sel.register(listener, selectors.EVENT_READ)
            served = 0
            while served < clients:
                for key, _ in sel.select():
                    if key.fileobj is listener:
                        conn, _ = listener.accept()
                        conn.setblocking(False)
                        sel.register(conn, selectors.EVENT_READ)
                        continue
                    data = key.fileobj.recv(1024)  # type: ignore[union-attr]
                    if data:
                        key.fileobj.sendall(data.upper())  # type: ignore[union-attr]
                    else:
                        sel.unregister(key.fileobj)
                        key.fileobj.close()  # type: ignore[union-attr]
                        served += 1

    return server


def _client(name: str) -> Any:
    def client() -> None:
        while True:  # a client that comes before the server listens tries again
            try:
                sock = socket.create_connection(("server", 8080))
                break
            except ConnectionRefusedError:
                time.sleep(0.01)
        with sock:
            sock.sendall(name.encode())
            sock.recv(100)

    return client


SCENARIO = {"server": _selector_server(), "ann": _client("ann"), "bob": _client("bob")}


@pytest.mark.parametrize("schedule", [None, sockviz.Seeded(3)], ids=["free", "seeded"])
def test_a_selector_servers_waits_are_recorded_with_their_wakers(schedule: Any) -> None:
    trace = sockviz.weld(SCENARIO, schedule=schedule, echo=False)
    waits = [w for w in trace.waits() if w.thread == "server"]
    # DefaultSelector is EpollSelector on Linux: its select() waits in epoll_wait()
    assert waits and all(w.what == "epoll_wait" and w.until == "ready" for w in waits)
    for wait in waits:
        assert wait.waits_for.startswith("epoll_wait() waits for fd ")
        assert wait.waits_for.endswith(" to be ready")
        assert wait.outcome == "woken" and wait.waker in ("ann", "bob")
    # the sentences a student reads
    said = trace.narrate(waits[0].start)
    assert said.startswith("server waits in epoll_wait(): none of fd "), said
    assert "is ready yet, so it waits until " in said and "connect() wakes it" in said, said


def test_the_timeline_and_the_waits_plot_show_select() -> None:
    trace = sockviz.weld(SCENARIO, schedule=sockviz.Seeded(3), echo=False)
    ax = sockviz.plot_timeline(trace)
    assert "waits in epoll_wait()" in {t.get_text() for t in ax.get_legend().get_texts()}
    ax = sockviz.plot_waits(trace)
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert "waits in select() / poll() / epoll_wait()" in legend


def test_a_look_that_finds_a_socket_ready_records_no_wait() -> None:
    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            with conn:
                conn.recv(3)
                ready, _, _ = select.select([conn], [], [], 5)  # "two" is there already
                assert ready == [conn]
                conn.recv(3)
                conn.sendall(b"!")

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"one")
            sock.sendall(b"two")
            sock.recv(10)

    trace = sockviz.weld(server, client, schedule=sockviz.Scripted(["server", "client"]))
    assert [w.what for w in trace.waits()] == ["accept", "recv"]  # no select: it did not wait


def test_select_poll_and_timeouts_are_recorded_in_a_free_run() -> None:
    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            with conn:
                ready, _, _ = select.select([conn], [], [], 0.05)  # nothing comes: a timeout
                assert ready == []
                poller = select.poll()
                poller.register(conn, select.POLLIN)
                assert poller.poll(5000)  # the client speaks
                conn.recv(10)

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            time.sleep(0.2)
            sock.sendall(b"late")

    trace = sockviz.weld(server, client, echo=False)
    waits = [
        (w.what, w.outcome) for w in trace.waits() if w.thread == "server" and w.until == "ready"
    ]
    assert waits == [("select", "timeout"), ("poll", "woken")]


def test_asyncio_loops_waits_are_its_selectors() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write((await reader.read(100)).upper())
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "0.0.0.0", 8080)
        async with server:
            await asyncio.sleep(0.3)

    def loop() -> None:
        asyncio.run(main())

    def client() -> None:
        time.sleep(0.05)
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"hi")
            assert sock.recv(10) == b"HI"

    trace = sockviz.weld({"server": loop, "client": client}, echo=False)
    waits = [w for w in trace.waits() if w.thread == "server"]
    assert {w.what for w in waits} == {"epoll_wait"}  # asyncio's loop: an EpollSelector
    assert "client" in {w.waker for w in waits}


def test_a_selector_alone_is_stuck_and_says_so() -> None:
    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld({"server": _selector_server()}, schedule=sockviz.Seeded(0), echo=False)
    error = info.value
    assert error.cycle is None
    assert "waits in epoll_wait() for a descriptor to be ready, and no thread that could" in str(
        error
    )
