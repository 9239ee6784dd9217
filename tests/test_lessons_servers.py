"""Lesson 10's checkers accept every correct form of an answer, refuse wrong ones with a hint, and
never raise; the answers that depend on a run are read from that run; and the lesson's runs show
what its answers say (one thread serves every client, a silent client holds up nobody, asyncio's
recv() never waits, a blocking call in a handler serialises the clients)."""

from __future__ import annotations

import asyncio
import functools
import selectors
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import pytest

import sockviz
from sockviz import lessons
from sockviz._answers import as_seconds as _seconds
from sockviz.lessons._servers import _yes_no

PORT = 8080


def _client(name: str, listening: threading.Event, thinks: float = 0.0) -> Callable[[], None]:
    def client() -> None:
        listening.wait(2)
        with socket.create_connection(("server", PORT), timeout=2) as sock:
            time.sleep(thinks)
            sock.sendall(f"{name}: hello".encode())
            print(sock.recv(1024).decode())

    return client


def _weld(
    server: Callable[[threading.Event], None], thinks: float = 0.0, *, stagger: bool = False
) -> sockviz.Trace:
    """The lesson's three clients (ann thinks before she speaks) against ``server(listening)``,
    started at once (``stagger``: ann first, each of the others once the one before waits)."""
    listening = threading.Event()
    clients = {
        "ann": _client("ann", listening, thinks),
        "bob": _client("bob", listening),
        "cat": _client("cat", listening),
    }
    return sockviz.weld(
        {"server": lambda: server(listening), **clients}, stagger=stagger, echo=False
    )


def _selectors_server(listening: threading.Event, clients: int = 3) -> None:
    sel = selectors.DefaultSelector()
    with socket.create_server(("", PORT), backlog=clients) as listener:
        listener.setblocking(False)
        sel.register(listener, selectors.EVENT_READ)
        listening.set()
        served = 0
        while served < clients:
            for key, _ in sel.select():
                sock: Any = key.fileobj
                if sock is listener:
                    conn, _ = listener.accept()
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ)
                elif data := sock.recv(1024):
                    sock.sendall(data.upper())
                else:
                    sel.unregister(sock)
                    sock.close()
                    served += 1
    sel.close()


def _one_at_a_time(listening: threading.Event, clients: int = 3) -> None:
    with socket.create_server(("", PORT), backlog=clients) as listener:
        listening.set()
        for _ in range(clients):
            conn, _ = listener.accept()
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(data.upper())


def _asyncio_server(
    listening: threading.Event, work: Callable[[], Awaitable[None]] | None = None, clients: int = 3
) -> None:
    async def main() -> None:
        served, all_served = 0, asyncio.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal served
            while data := await reader.read(1024):
                if work is not None:
                    await work()
                writer.write(data.upper())
                await writer.drain()
            writer.close()
            await writer.wait_closed()
            served += 1
            if served == clients:
                all_served.set()

        server = await asyncio.start_server(handle, "0.0.0.0", PORT, backlog=clients)
        listening.set()
        async with server:
            await all_served.wait()

    asyncio.run(main())


async def _blocking_work() -> None:
    time.sleep(0.1)


async def _awaiting_work() -> None:
    await asyncio.sleep(0.1)


class Runs(NamedTuple):
    one_thread: sockviz.Trace  # selectors, ann silent for a while
    one_at_a_time: sockviz.Trace  # ann connects first: bob waits behind her
    with_asyncio: sockviz.Trace
    blocked: sockviz.Trace  # time.sleep(0.1) in each handler
    awaited: sockviz.Trace  # await asyncio.sleep(0.1)


@functools.cache
def runs() -> Runs:
    """The lesson's runs, welded once (test_lessons reuses them)."""
    return Runs(
        _weld(_selectors_server, thinks=0.05),
        _weld(_one_at_a_time, thinks=0.2, stagger=True),
        _weld(_asyncio_server, thinks=0.05),
        _weld(lambda listening: _asyncio_server(listening, _blocking_work)),
        _weld(lambda listening: _asyncio_server(listening, _awaiting_work)),
    )


def _ok(name: str, answer: object, **context: Any) -> bool:
    return lessons.check(name, answer, **context).ok


def _refused_with_a_hint(name: str, answer: object, **context: Any) -> str:
    said = lessons.check(name, answer, **context)
    assert not said.ok and len(said.message) > 20, (answer, said)
    return said.message


# -- readable at EOF ----------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [True, "yes", "Yes", " 'y' ", "True", "readable", "yes!"])
def test_eof_readable_accepts_every_yes(answer: object) -> None:
    assert _ok("10.eof-readable", answer)


@pytest.mark.parametrize("answer", [False, "no", "not readable", "False"])
def test_eof_readable_refuses_no_with_a_hint_about_recv(answer: object) -> None:
    assert "recv()" in _refused_with_a_hint("10.eof-readable", answer)


@pytest.mark.parametrize("answer", [..., None, 1, "maybe", b""])
def test_eof_readable_asks_for_a_yes_or_no_without_raising(answer: object) -> None:
    assert "True or False" in _refused_with_a_hint("10.eof-readable", answer)


def test_a_closed_peer_makes_a_socket_readable_and_recv_returns_at_once() -> None:
    """The fact behind 10.eof-readable, on fake sockets (tested against Linux in
    test_readiness)."""
    import select

    with sockviz.fake_network(), socket.create_server(("", PORT)) as listener:
        client = socket.create_connection(("127.0.0.1", PORT))
        conn, _ = listener.accept()
        assert select.select([conn], [], [], 0)[0] == []
        client.close()
        assert select.select([conn], [], [], 0)[0] == [conn]
        assert conn.recv(10) == b""
        conn.close()


# -- the selectors run --------------------------------------------------------------------------


def test_the_selectors_server_is_one_thread_and_its_trace_shows_four() -> None:
    trace = runs().one_thread
    assert trace.threads == ["server", "ann", "bob", "cat"]
    for answer in (4, "4", " 4 "):
        assert _ok("10.threads", answer, trace=trace)
    assert "lesson 3" in _refused_with_a_hint("10.threads", 7, trace=trace)
    assert "clients" in _refused_with_a_hint("10.threads", 1, trace=trace)
    assert "number" in _refused_with_a_hint("10.threads", "four", trace=trace)
    assert "number" in _refused_with_a_hint("10.threads", ..., trace=trace)
    _refused_with_a_hint("10.threads", 3, trace=trace)
    with pytest.raises(TypeError, match="pass trace=trace"):
        lessons.check("10.threads", 4)


def test_bob_gets_his_answer_before_ann_speaks_and_the_checker_reads_it_from_the_run() -> None:
    trace = runs().one_thread
    answered = next(e.seq for e in trace.of_kind("output") if e.thread == "bob")
    spoke = next(
        e.seq
        for e in trace.of_kind("call")
        if e.thread == "ann" and e.fields.get("op") in ("send", "sendall")
    )
    assert answered < spoke
    for answer in (True, "yes", "Yes", "y"):
        assert _ok("10.bob-first", answer, trace=trace)
    assert "one-at-a-time" in _refused_with_a_hint("10.bob-first", False, trace=trace)
    assert "True or False" in _refused_with_a_hint("10.bob-first", ..., trace=trace)


def test_behind_a_one_at_a_time_server_the_right_answer_is_no() -> None:
    """The answer is read from the run: a server that serves ann first keeps bob waiting."""
    trace = runs().one_at_a_time
    assert trace.meetings()[0].connect_thread == "ann"  # (staggered: ann connects first)
    assert _ok("10.bob-first", False, trace=trace)
    assert not _ok("10.bob-first", True, trace=trace)


def test_bob_first_wants_the_one_thread_run() -> None:
    lonely = sockviz.weld({"server": lambda: None}, echo=False)
    assert "trace=one_thread" in _refused_with_a_hint("10.bob-first", True, trace=lonely)


# -- asyncio: where the one thread waits --------------------------------------------------------


def test_asyncio_s_recv_and_accept_never_wait_on_its_one_thread() -> None:
    trace = runs().with_asyncio
    assert trace.threads == ["server", "ann", "bob", "cat"]
    assert not [w for w in trace.waits() if w.thread == "server" and w.what in ("recv", "accept")]
    ops = {e.fields["op"] for e in trace.of_kind("return") if e.thread == "server"}
    assert {"accept", "recv", "send"} <= ops


@pytest.mark.parametrize(
    "answer",
    ["select", "select()", "sel.select()", "epoll", "epoll_wait", "poll", "'epoll.poll'",
     "EpollSelector.select", "selector.select()", "the selector", "SELECT"],
)  # fmt: skip
def test_waits_in_accepts_the_selector_call_in_every_spelling(answer: str) -> None:
    assert _ok("10.waits-in", answer, trace=runs().with_asyncio)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [("recv", "recv()"), ("reader.read()", "recv()"), ("accept", "accept()"),
     ("await", "await"), ("writer.drain", "await"), (..., "name a call"), (42, "name a call"),
     ("connect", "name a call")],
)  # fmt: skip
def test_waits_in_refuses_the_handler_s_calls_with_a_hint(answer: object, hint: str) -> None:
    assert hint in _refused_with_a_hint("10.waits-in", answer, trace=runs().with_asyncio)


class _Recorded(NamedTuple):
    thread: str
    what: str
    duration_ns: int


class _SelectTrace:
    """A trace whose server thread recorded its selector's waits (as sockviz may)."""

    def waits(self) -> list[_Recorded]:
        return [_Recorded("server", "select", 150_000_000), _Recorded("ann", "recv", 1_000)]


def test_waits_in_names_the_recorded_selector_waits_when_the_trace_has_them() -> None:
    said = lessons.check("10.waits-in", "epoll", trace=_SelectTrace())
    assert said.ok and "1 wait in select, 150 ms" in said.message
    assert _ok("10.waits-in", "Select", trace=_SelectTrace())


# -- a blocking call in the loop ----------------------------------------------------------------


def _last_answer_after_first_ask(trace: sockviz.Trace) -> float:
    asked = min(
        e.t_ns
        for e in trace.of_kind("call")
        if e.thread in ("ann", "bob", "cat") and e.fields.get("op") in ("send", "sendall")
    )
    answered = max(e.t_ns for e in trace.of_kind("output"))
    return (answered - asked) / 1e9


def test_a_blocking_sleep_serialises_the_clients_and_an_awaited_one_does_not() -> None:
    assert 0.29 <= _last_answer_after_first_ask(runs().blocked) < 0.5
    assert 0.09 <= _last_answer_after_first_ask(runs().awaited) < 0.2


@pytest.mark.parametrize("answer", [0.3, "0.3", "0.3 s", "300 ms", " about 0.3s ", 0.32])
def test_blocking_accepts_the_measured_time_in_every_form(answer: object) -> None:
    assert _ok("10.blocking", answer, trace=runs().blocked)


def test_blocking_refuses_the_awaited_time_with_a_hint_and_reads_the_run() -> None:
    assert "asyncio.sleep" in _refused_with_a_hint("10.blocking", 0.1, trace=runs().blocked)
    assert "seconds" in _refused_with_a_hint("10.blocking", "slow", trace=runs().blocked)
    assert "seconds" in _refused_with_a_hint("10.blocking", ..., trace=runs().blocked)
    assert "seconds" in _refused_with_a_hint("10.blocking", True, trace=runs().blocked)
    _refused_with_a_hint("10.blocking", 1.0, trace=runs().blocked)
    assert _ok("10.blocking", 0.1, trace=runs().awaited)  # what the given run shows


def test_answers_are_read_as_yes_no_and_seconds() -> None:
    assert _yes_no(" Yes ") is True and _yes_no("no.") is False and _yes_no("perhaps") is None
    assert _seconds("250 ms") == 0.25 and _seconds(".5") == 0.5 and _seconds(2) == 2.0
    assert _seconds("0.3 seconds") == 0.3 and _seconds(False) is None and _seconds("1e3") is None


# -- the catalogue ------------------------------------------------------------------------------


def test_lesson_10_lists_its_predictions_and_the_two_code_exercises_it_took_over() -> None:
    listed = {entry.name: entry.kind for entry in lessons.exercises(10)}
    assert listed == {
        "10.blocking": "predict",
        "10.bob-first": "predict",
        "10.chat": "code",
        "10.eof-readable": "predict",
        "10.selectors-echo": "code",
        "10.threads": "predict",
        "10.waits-in": "predict",
    }
    assert not [name for name in lessons.EXERCISES if name in ("03.chat", "03.selectors-echo")]
