"""Lesson 11's checkers accept every correct form of an answer, refuse wrong ones with a hint, and
never raise; and the lesson's runs show what its answers say."""

from __future__ import annotations

import errno

import pytest

from sockviz import lessons


def _ok(name: str, answer: object) -> bool:
    return lessons.check(name, answer).ok


@pytest.mark.parametrize("answer", ["CLOSE_WAIT", "close_wait", "close-wait", " Close Wait "])
def test_close_wait_accepts_every_spelling(answer: str) -> None:
    assert _ok("11.close-wait", answer)


@pytest.mark.parametrize("answer", ["ESTABLISHED", "TIME_WAIT", "FIN_WAIT_2", "waiting", 8, ...])
def test_close_wait_refuses_the_others_with_a_hint(answer: object) -> None:
    feedback = lessons.check("11.close-wait", answer)
    assert not feedback.ok and feedback.message


def test_time_wait_is_the_server_that_closed_first() -> None:
    assert _ok("11.time-wait", "server") and _ok("11.time-wait", "Server")
    said = lessons.check("11.time-wait", "client")
    assert not said.ok and "first" in said.message
    assert not _ok("11.time-wait", ...)


@pytest.mark.parametrize(
    "answer",
    [
        "EADDRINUSE",
        "eaddrinuse",
        errno.EADDRINUSE,
        "98",
        "Address already in use",
        OSError(errno.EADDRINUSE, "Address already in use"),
    ],
)
def test_restart_accepts_eaddrinuse_in_every_form(answer: object) -> None:
    assert _ok("11.restart", answer)


def test_restart_asks_which_errno_for_a_bare_oserror() -> None:
    for answer in (OSError, "OSError"):
        said = lessons.check("11.restart", answer)
        assert not said.ok and "errno" in said.message
    for answer in ("nothing", None, ConnectionRefusedError, "ECONNREFUSED", 111, ...):
        assert not _ok("11.restart", answer)


@pytest.mark.parametrize(
    "answer",
    [ConnectionResetError, "ConnectionResetError", "ECONNRESET", 104, ConnectionResetError()],
)
def test_reset_accepts_every_form(answer: object) -> None:
    assert _ok("11.reset", answer)


def test_reset_refuses_end_of_file_with_a_hint() -> None:
    said = lessons.check("11.reset", b"")
    assert not said.ok and "FIN" in said.message
    for answer in (BrokenPipeError, "EPIPE", TimeoutError, ...):
        assert not _ok("11.reset", answer)


def test_broken_pipe_is_one_send() -> None:
    assert _ok("11.broken-pipe", 1) and _ok("11.broken-pipe", "1")
    for answer in (0, 2, 3, "one?", ...):
        said = lessons.check("11.broken-pipe", answer)
        assert not said.ok and said.message


def test_the_lessons_runs_show_the_answers() -> None:
    """The facts the checkers hold are what the fake network does (itself tested against
    Linux in test_tcpstate and test_differential)."""
    import socket
    import threading

    import sockviz

    said: list[object] = []
    closed = threading.Event()

    def server() -> None:
        with socket.create_server(("", 8080)) as listener:
            conn, _ = listener.accept()
            conn.recv(1024)
            conn.close()
            closed.set()

    def client() -> None:
        with socket.create_connection(("server", 8080)) as sock:
            sock.sendall(b"hello")
            closed.wait()
            for _ in range(3):
                try:
                    said.append(sock.send(b"more"))
                except OSError as error:
                    said.append(type(error))
                    break

    sockviz.weld(server, client, echo=False)
    assert said == [4, BrokenPipeError]
