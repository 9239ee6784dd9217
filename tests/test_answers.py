"""Every correct form of an answer is accepted the same way in every lesson."""

from __future__ import annotations

import errno

import pytest

from sockviz import lessons
from sockviz._answers import (
    as_int,
    as_ints,
    as_seconds,
    same_error,
    same_name,
    same_thread,
    same_threads,
)

from .scenarios import scenario_trace
from .test_lessons import _client_first_trace


@pytest.mark.parametrize(
    "answer",
    [
        ConnectionRefusedError,
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        "ConnectionRefusedError",
        "connectionrefusederror",
        " 'ConnectionRefusedError' ",
        "builtins.ConnectionRefusedError",
        "ECONNREFUSED",
        "econnrefused",
        111,
        "111",
    ],
)
def test_an_error_in_every_form(answer: object) -> None:
    assert same_error(answer, ConnectionRefusedError, errno.ECONNREFUSED)
    assert lessons.check("04.refused", answer)
    assert lessons.check("08.client-first", answer, trace=_client_first_trace())


@pytest.mark.parametrize(
    "answer", [TimeoutError, "TimeoutError", "timeouterror", "socket.timeout", TimeoutError()]
)
def test_a_timeout_in_every_form(answer: object) -> None:
    assert lessons.check("04.timeout", answer)


@pytest.mark.parametrize("answer", ["ETIMEDOUT", 110, "110"])
def test_a_socket_timeout_is_not_the_kernels_etimedout(answer: object) -> None:
    """settimeout()'s TimeoutError has no errno: ETIMEDOUT (a connection the kernel gave up on)
    is another error, refused with the difference explained."""
    said = lessons.check("04.timeout", answer)
    assert not said and "no errno" in said.message


@pytest.mark.parametrize("answer", [ConnectionResetError, "ECONNRESET", 104, "BlockingIOError", 11])
def test_a_wrong_error_in_any_form_is_refused(answer: object) -> None:
    assert not same_error(answer, ConnectionRefusedError, errno.ECONNREFUSED)
    assert not lessons.check("04.refused", answer)


def test_thread_names_with_or_without_their_component_and_in_any_case() -> None:
    assert same_thread("handler1", "server/handler1")
    assert same_thread("Server/Handler1", "server/handler1")
    assert same_thread(" 'server' ", "server")
    assert not same_thread("server", "server/handler1")  # the component is another thread
    assert not same_thread("handler", "server/handler1")
    assert not same_thread(None, "server")
    assert same_threads(["ANN", "bob"], {"ann", "bob"})
    assert not same_threads({"ann"}, {"ann", "bob"}) and not same_threads("ann", {"ann"})
    web = scenario_trace("http")
    responder = next(e.thread for e in web.of_kind("buf.write") if e.thread != "client")
    short = responder.split("/", 1)[1]
    assert lessons.check("05.responder", short, trace=web)
    assert lessons.check("05.responder", responder.upper(), trace=web)
    for said in ("a new thread", "A handler", "another thread"):  # the prediction, in words
        assert lessons.check("05.responder", said, trace=web)
    assert not lessons.check("05.responder", "serve_forever", trace=web)


def test_names_and_numbers() -> None:
    assert same_name(" 'LISTEN' ", "listen") and not same_name(3, "3")
    assert as_int(" 2 ") == 2 and as_int(True) is None and as_int("two") is None
    assert lessons.check("06.accept-errno", "einval") and lessons.check("06.accept-errno", 22)
    assert not lessons.check("06.accept-errno", "OSError")


def test_the_catalogue_lists_every_exercise_with_its_lesson_and_kind() -> None:
    listed = lessons.exercises()
    assert [entry.name for entry in listed] == sorted(
        lessons.EXERCISES, key=lambda name: (int(name.split(".")[0]), name)
    )
    assert all(entry.lesson == int(entry.name[:2]) and entry.question for entry in listed)
    assert {entry.kind for entry in listed} == {"predict", "code", "stepper"}
    assert [e.name for e in lessons.exercises(kind="code")] == [
        "02.framing",
        "02.recv-exactly",
        "03.threaded-echo",
        "04.fix",
        "10.chat",
        "10.selectors-echo",
    ]
    assert [e.name for e in lessons.exercises(8, kind="stepper")] == ["08.bob-wins"]
    assert all(e.lesson == 2 for e in lessons.exercises(2)) and lessons.exercises(2)


@pytest.mark.parametrize(
    ("answer", "seconds"),
    [(2, 2.0), (0.25, 0.25), ("0.25", 0.25), (" '0.25 s' ", 0.25), ("250 ms", 0.25),
     ("250 milliseconds", 0.25), ("about 2 secs", 2.0), ("~ .5 sec", 0.5), ("3 seconds", 3.0)],
)  # fmt: skip
def test_a_duration_in_every_form(answer: object, seconds: float) -> None:
    assert as_seconds(answer) == pytest.approx(seconds)


@pytest.mark.parametrize("answer", [True, None, "soon", "2 minutes", "-1 s", [2], ""])
def test_what_is_not_a_duration(answer: object) -> None:
    assert as_seconds(answer) is None


def test_a_set_of_numbers_in_every_form() -> None:
    assert as_ints({1, 2}) == as_ints([1, "2"]) == as_ints((2.0, 1)) == as_ints(range(1, 3))
    assert as_ints([1, 2]) == {1, 2}
    assert as_ints("12") is None and as_ints([1, "two"]) is None and as_ints(3) is None
