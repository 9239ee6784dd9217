"""The lessons' checkers: every exercise accepts its right answer and explains a wrong one."""

from __future__ import annotations

import contextlib
import socket

import pytest

import sockviz
from sockviz import lessons
from sockviz.scenarios import race_scenario, who_got_the_slot

from .scenarios import scenario_trace
from .test_lessons_concurrency import lost_by_hand, right_by_default
from .test_lessons_concurrency import runs as lesson_09_runs
from .test_lessons_servers import runs as lesson_10_runs


def right_and_wrong(echo: sockviz.Trace) -> dict[str, tuple[object, object, dict]]:
    meeting = echo.meetings()[0]
    first = meeting.connect_thread if meeting.first == "connect" else meeting.accept_thread
    other = meeting.accept_thread if first == meeting.connect_thread else meeting.connect_thread
    waits = [w for w in echo.waits() if w.duration_ns is not None]
    longest = max(waits, key=lambda w: w.duration_ns or 0).thread
    shorter = next(t for t in echo.threads if t != longest)
    servers = len([s for s in echo.sockets() if s.owner == "server"])
    small = scenario_trace("deadlock", "weldr")
    web = scenario_trace("http")
    responder = next(e.thread for e in web.of_kind("buf.write") if e.thread != "client")

    def talking_server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(conn.recv(100))

    def talking_client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"hi")
            sock.recv(100)

    def deaf_server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            conn.recv(100)

    def deaf_client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.recv(100)

    client_first = _client_first_trace()
    lesson_09 = lesson_09_runs()
    lesson_10 = lesson_10_runs()
    race = sockviz.explore(race_scenario, runs=12, outcome=who_got_the_slot, semantics="weldr")
    strict_race = sockviz.explore(
        race_scenario, runs=12, outcome=who_got_the_slot, semantics="strict"
    )

    return {
        "01.first": (first, other, {"trace": echo}),
        "01.sockets": (servers, servers - 1, {"trace": echo}),
        "01.connect-waits": ("no", "yes", {}),
        "02.first-send": (1024, 3000, {}),
        "02.one-recv": (b"helloworld", b"hello", {}),
        "02.after-eof": (b"", None, {}),
        "02.recv-exactly": (_recv_exactly, lambda sock, n: sock.recv(n), {}),
        "02.framing": (
            lambda sock: _recv_exactly(sock, int.from_bytes(_recv_exactly(sock, 4), "big")),
            lambda sock: sock.recv(65536)[4:],
            {},
        ),
        "03.backlog": (2, 1, {}),
        "03.threaded-echo": (_threaded_serve, lambda listener: None, {}),
        "03.threads": (len(echo.threads), 3, {"trace": echo}),
        "04.fix": ((talking_server, talking_client), (deaf_server, deaf_client), {}),
        "04.refused": (ConnectionRefusedError, TimeoutError, {}),
        "04.timeout": ("TimeoutError", "BlockingIOError", {}),
        "05.threads": (len(web.threads), len(web.threads) - 1, {"trace": web}),
        "05.responder": (responder, "server/serve_forever", {"trace": web}),
        "06.listen": (sockviz.lowlevel.SocketMode.LISTEN, "BOUND", {}),
        "06.accept-errno": ("EINVAL", 107, {}),
        "07.longest": (longest, shorter, {"trace": echo}),
        "07.more-events": ("echo", "deadlock", {"traces": {"echo": echo, "deadlock": small}}),
        "08.client-first": (ConnectionRefusedError, TimeoutError, {"trace": client_first}),
        "08.winners": ({"ann", "bob"}, ["ann"], {"found": race}),
        "08.stuck": ("server", "ann", {"found": strict_race}),
        "08.bob-wins": (_stepped("bob"), _stepped("ann"), {}),
        "09.totals": ({3, 4, 5, 6}, {2, 3, 4, 5, 6}, {"found": lesson_09.totals}),
        "09.lost-update": (lost_by_hand(), right_by_default(), {}),
        "09.half-locked": (True, False, {"found": lesson_09.half}),
        "09.if-wait": (True, False, {"found": lesson_09.hasty}),
        "09.sleepers": (0.25, 1.0, {}),
        "09.deadlock-or-stuck": (
            {"polite": "deadlock", "short": "stuck", "lonely": "stuck"},
            {"polite": "stuck", "short": "stuck", "lonely": "stuck"},
            {},
        ),
        "10.eof-readable": (True, False, {}),
        "10.threads": (4, 7, {"trace": lesson_10.one_thread}),
        "10.bob-first": (True, False, {"trace": lesson_10.one_thread}),
        "10.waits-in": ("select", "recv", {"trace": lesson_10.with_asyncio}),
        "10.blocking": (0.3, 0.1, {"trace": lesson_10.blocked}),
        "10.selectors-echo": (_selector_serve, _threaded_serve, {}),
        "10.chat": (_chat_serve, _threaded_serve, {}),
        "11.close-wait": ("CLOSE_WAIT", "ESTABLISHED", {}),
        "11.time-wait": ("server", "client", {}),
        "11.restart": ("EADDRINUSE", "ECONNREFUSED", {}),
        "11.reset": (ConnectionResetError, b"", {}),
        "11.broken-pipe": (1, 2, {}),
    }


def _threaded_serve(listener: socket.socket) -> None:
    import threading

    def echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(1024):
                conn.sendall(data)

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=echo, args=(conn,)).start()


def _chat_serve(listener: socket.socket) -> None:
    from .test_codecheck import chat_serve

    chat_serve(listener)


def _selector_serve(listener: socket.socket) -> None:
    from .test_codecheck import selector_serve

    selector_serve(listener)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            raise EOFError("closed early")
        data += more
    return data


def _stepped(first: str) -> sockviz.Stepper:
    """The lesson's race, stepped: the server until it waits, then ``first``'s connect(), then
    the rest."""
    st = sockviz.stepper(race_scenario(7000))
    while "server" in st.runnable:
        st.run("server")
    st.run(first)
    st.run(first)
    st.finish()
    return st


def test_a_stepper_goal_wants_the_stepper_a_finished_run_and_the_same_run_again() -> None:
    st = sockviz.stepper(race_scenario(7000))
    assert "give the stepper itself" in lessons.check("08.bob-wins", st.trace).message
    assert "not over yet" in lessons.check("08.bob-wins", st).message
    done = _stepped("bob")
    assert lessons.check("08.bob-wins", done)
    assert done.again().fingerprint() == done.trace.fingerprint()


def _client_first_trace() -> sockviz.Trace:
    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            listener.settimeout(1)
            with contextlib.suppress(TimeoutError):
                listener.accept()

    def client() -> None:
        with contextlib.suppress(ConnectionRefusedError):
            socket.create_connection(("server", 8080)).close()

    schedule = sockviz.Scripted(["client", "server"])
    return sockviz.weld(
        {"server": server, "client": client}, schedule=schedule, semantics="strict", echo=False
    )


def test_every_exercise_is_covered_here(echo: sockviz.Trace) -> None:
    """This file checks every exercise the lessons define."""
    assert set(right_and_wrong(echo)) == set(lessons.EXERCISES)


@pytest.mark.parametrize("name", sorted(lessons.EXERCISES))
def test_right_answers_pass_and_wrong_ones_get_a_hint(name: str, echo: sockviz.Trace) -> None:
    """A right answer says why it is right; a wrong one says 'Not yet' and how to think about it."""
    right, wrong, context = right_and_wrong(echo)[name]
    passed = lessons.check(name, right, **context)
    assert passed and str(passed).startswith("✔ Right! ") and len(passed.message) > 20
    failed = lessons.check(name, wrong, **context)
    assert not failed and str(failed).startswith("✘ Not yet. ") and len(failed.message) > 20
    assert "Not yet" in failed._repr_html_() and "#D55E00" in failed._repr_html_()


def test_wrong_kinds_of_answers_are_explained_not_raised(echo: sockviz.Trace) -> None:
    """A string where a number is expected (or the like) gets feedback, not a traceback."""
    assert "number" in lessons.check("01.sockets", "two", trace=echo).message
    assert "string" in lessons.check("01.first", 42, trace=echo).message
    assert not lessons.check("04.fix", "server, client")
    assert not lessons.check("02.first-send", True)


def test_a_missing_trace_or_a_typo_is_a_clear_error() -> None:
    """Checks that need your run say so; an unknown exercise lists the real ones."""
    with pytest.raises(TypeError, match="pass trace=trace"):
        lessons.check("01.first", "server")
    with pytest.raises(KeyError, match=r"no exercise '01\.frist'; the exercises are 01\.first"):
        lessons.check("01.frist", "server")
    assert lessons.hint("03.backlog") == "Linux allows backlog + 1."


def _polite_server() -> None:
    with socket.create_server(("", 8080)) as listener:
        conn, _ = listener.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"answer")


def test_the_deadlock_fix_must_be_a_real_exchange() -> None:
    """04.fix refuses a client that never reads the answer, and one that hides the deadlock
    behind a timeout it swallows; it accepts a client that speaks first and reads the answer."""

    def deaf_client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"question")

    def timid_client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.settimeout(0.05)
            with contextlib.suppress(TimeoutError):  # ...and swallows the timeout
                sock.recv(1024)  # waits for the server to speak first...
            sock.sendall(b"question")
            sock.settimeout(None)
            sock.recv(1024)

    def fixed_client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"question")
            sock.recv(1024)

    said = lessons.check("04.fix", (_polite_server, deaf_client))
    assert not said and "never read the answer" in said.message
    said = lessons.check("04.fix", (_polite_server, timid_client))
    assert not said and "ran out of time" in said.message
    assert lessons.check("04.fix", (_polite_server, fixed_client))
