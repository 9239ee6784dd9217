"""Exercises where the student writes code: their function, welded against hidden clients.

A code exercise is a list of **cases**.  Each case welds the student's
function into a small server (or client) and runs it against a client of
the exercise's own -- some polite, some adversarial: a sender that dribbles
its bytes one at a time, one that says more than asked, one that hangs up
half way.  A case says what must come out; the first case that fails is
named in the feedback, with the trace of its run to replay.  Every weld has
a short timeout and a small event limit, so a student's endless loop (the
classic ``while len(data) < n: data += sock.recv(...)`` that never sees
``b''``) ends in a second with a clear sentence, never a hung notebook.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Case",
    "CodeResult",
    "ServerCase",
    "chat_cases",
    "framing_cases",
    "recv_exactly_cases",
    "run_cases",
    "run_server_cases",
    "selectors_echo_cases",
    "threaded_echo_cases",
]

#: Each case's weld: seconds and events a correct answer never comes near.
TIMEOUT, MAX_EVENTS = 5.0, 20_000


@dataclass(frozen=True)
class Case:
    """One hidden test: a name a student understands, the client, and what must come out."""

    name: str
    #: the client component (it talks to "server" on PORT)
    client: Callable[[], None]
    #: the calls the server makes with the student's function: f(conn, n) for each size n, or
    #: f(conn) for each None
    sizes: tuple[int | None, ...]
    #: what each call must return
    expected: tuple[bytes, ...] = ()
    #: or the exceptions the last call may raise (any of them, or a subclass)
    raises: tuple[type[BaseException], ...] = ()


@dataclass
class CodeResult:
    ok: bool
    message: str
    trace: Any = None


PORT = 9300


def _server(function: Callable[..., bytes], case: Case, got: list[Any]) -> Callable[[], None]:
    def server() -> None:
        with socket.create_server(("", PORT)) as listener:
            conn, _ = listener.accept()
            with conn:
                try:
                    for n in case.sizes:
                        got.append(function(conn) if n is None else function(conn, n))
                except Exception as exc:  # noqa: BLE001 - what the student's code raised is the answer
                    got.append(exc)

    return server


def run_cases(recv_exactly: Any, cases: list[Case]) -> CodeResult:
    """Weld ``recv_exactly`` against every case; the first that fails, named, with its trace."""
    import sockviz

    if not callable(recv_exactly):
        return CodeResult(
            False, "answer with your function itself: lessons.check(name, recv_exactly)"
        )
    for case in cases:
        got: list[Any] = []
        components = {"server": _server(recv_exactly, case, got), "client": case.client}
        try:
            trace = sockviz.weld(components, timeout=TIMEOUT, max_events=MAX_EVENTS, echo=False)
        except sockviz.EventLimitError as error:
            return CodeResult(False, f"{case.name}: your function never returned -- it kept "
                              "calling recv() (a recv() that returns b'' means the peer has "
                              "closed: no more bytes will ever come).", error.trace)  # fmt: skip
        except (sockviz.DeadlockError, sockviz.WeldTimeoutError) as error:
            return CodeResult(False, f"{case.name}: your function waited for bytes that never "
                              f"came ({type(error).__name__}).", error.trace)  # fmt: skip
        except sockviz.ComponentError as error:
            return CodeResult(False, f"{case.name}: {error.exceptions[0]!r}", error.trace)
        problem = _judge(case, got)
        if problem is not None:
            return CodeResult(False, f"{case.name}: {problem}", trace)
    return CodeResult(True, "")


def _judge(case: Case, got: list[Any]) -> str | None:
    """What is wrong with what the student's function gave, or None."""
    if case.raises:
        last = got[-1] if got else None
        if isinstance(last, case.raises):
            return None
        names = " or ".join(kind.__name__ for kind in case.raises)
        return (
            f"the client hung up half way: your function should raise {names}, not "
            f"{'raise' if isinstance(last, BaseException) else 'return'} {last!r}"
        )
    for n, want, have in zip(case.sizes, case.expected, got, strict=False):
        if isinstance(have, BaseException):
            return f"asked for {n} bytes, your function raised {have!r}"
        if have != want:
            return (
                f"asked for {n} bytes, your function returned {have!r} -- the client sent {want!r}"
            )
    if len(got) < len(case.sizes):
        return "your function did not return"
    return None


def _dribbler(data: bytes, *, pause: float = 0.002) -> Callable[[], None]:
    def client() -> None:
        # (a server that gave up early resets the connection: that is the server's story)
        with contextlib.suppress(OSError), socket.create_connection(("server", PORT)) as sock:
            for i in range(len(data)):
                sock.sendall(data[i : i + 1])
                time.sleep(pause)

    return client


def _sender(*parts: bytes, close_early: bool = False) -> Callable[[], None]:
    def client() -> None:
        with contextlib.suppress(OSError), socket.create_connection(("server", PORT)) as sock:
            for part in parts:
                sock.sendall(part)
            if not close_early:
                sock.recv(1)  # stays until the server is done

    return client


def recv_exactly_cases() -> list[Case]:
    """The hidden tests of ``recv_exactly(sock, n)``."""
    return [
        Case("one send of 10 bytes", _sender(b"0123456789"), (10,), (b"0123456789",)),
        Case(
            "ten sends of one byte each (TCP may deliver a message in pieces)",
            _dribbler(b"abcdefghij"),
            (10,),
            (b"abcdefghij",),
        ),
        Case(
            "two messages sent back to back, read as 4 then 6 bytes",
            _sender(b"HEAD", b"body!!"),
            (4, 6),
            (b"HEAD", b"body!!"),
        ),
        Case(
            "the client sends 3 of the 10 bytes and hangs up",
            _sender(b"abc", close_early=True),
            (10,),
            raises=(EOFError, ConnectionError),
        ),
    ]


def _framed(*payloads: bytes) -> bytes:
    """Messages as the framing exercise sends them: a 4-byte big-endian length, then the bytes."""
    return b"".join(len(p).to_bytes(4, "big") + p for p in payloads)


def framing_cases() -> list[Case]:
    """The hidden tests of ``recv_message(sock)`` (length-prefixed messages)."""
    hello, empty, big = b"hello", b"", bytes(range(256)) * 40
    return [
        Case("one message in one send", _sender(_framed(hello)), (None,), (hello,)),
        Case(
            "a message whose 4-byte header and body come one byte at a time",
            _dribbler(_framed(b"piecemeal"), pause=0.001),
            (None,),
            (b"piecemeal",),
        ),
        Case(
            "three messages in a single send (one of them empty)",
            _sender(_framed(hello, empty, b"world")),
            (None, None, None),
            (hello, empty, b"world"),
        ),
        Case(
            "a 10,240-byte message (more than one recv() brings)",
            _sender(_framed(big)),
            (None,),
            (big,),
        ),
        Case(
            "the client hangs up in the middle of a message",
            _sender(_framed(hello)[:6], close_early=True),
            (None,),
            raises=(EOFError, ConnectionError),
        ),
    ]


# -- servers the student writes ---------------------------------------------------------------


@dataclass(frozen=True)
class ServerCase:
    """A hidden test of a server the student writes: clients, and what they must have seen."""

    name: str
    #: the clients, by name; each writes what it saw into the shared dict it is made with
    clients: Callable[[dict[str, Any]], dict[str, Callable[[], None]]]
    #: what is wrong with what the clients saw (None: nothing)
    judge: Callable[[dict[str, Any]], str | None]
    #: what is wrong with the run itself (None: nothing), read from its trace
    judge_run: Callable[[Any], str | None] | None = None


def run_server_cases(serve: Any, cases: list[ServerCase]) -> CodeResult:
    """Weld ``serve(listener)`` (given a listening socket on PORT) against each case's clients;
    the weld ends when the clients have (the server may serve for ever)."""
    import sockviz

    if not callable(serve):
        return CodeResult(False, "answer with your function itself: lessons.check(name, serve)")
    for case in cases:
        seen: dict[str, Any] = {}
        clients = case.clients(seen)

        def server() -> None:
            with socket.create_server(("", PORT)) as listener:
                serve(listener)

        try:
            trace = sockviz.weld(
                {"server": server, **clients}, until=list(clients), timeout=TIMEOUT,
                max_events=MAX_EVENTS * 5, echo=False,
            )  # fmt: skip
        except sockviz.ComponentError as error:
            failed = dict(zip(error.threads, error.exceptions, strict=False))
            who = "your server" if "server" in failed else ", ".join(failed)
            first = failed.get("server") or next(iter(failed.values()))
            return CodeResult(False, f"{case.name}: {who} raised {first!r}", error.trace)
        except (sockviz.DeadlockError, sockviz.WeldTimeoutError, sockviz.EventLimitError) as error:
            return CodeResult(False, f"{case.name}: the clients never got their answers "
                              f"({type(error).__name__})", error.trace)  # fmt: skip
        problem = case.judge(seen)
        if problem is None and case.judge_run is not None:
            problem = case.judge_run(trace)
        if problem is not None:
            return CodeResult(False, f"{case.name}: {problem}", trace)
    return CodeResult(True, "")


def _read_up_to(sock: socket.socket, n: int) -> bytes:
    """What a client hears: up to ``n`` bytes, fewer if the server hangs up first."""
    heard = b""
    while len(heard) < n:
        more = sock.recv(1024)
        if not more:
            break
        heard += more
    return heard


def _echo_client(
    seen: dict[str, Any], name: str, message: bytes, *, pieces: int = 1, wait: Any = None,
    then: Any = None,
) -> Callable[[], None]:  # fmt: skip
    def client() -> None:
        try:
            with socket.create_connection(("server", PORT), timeout=2) as sock:
                if wait is not None:  # did the other client get its answer meanwhile?
                    seen[f"{name} waited for nothing"] = wait.wait(1)
                step = max(1, len(message) // pieces)
                for at in range(0, len(message), step):
                    sock.sendall(message[at : at + step])
                    if pieces > 1:
                        time.sleep(0.005)
                seen[name] = _read_up_to(sock, len(message))
                seen[f"{name} at"] = time.monotonic()
                if then is not None:
                    then.set()
        except OSError as exc:
            seen[name] = exc

    return client


def _echoed(*names: str, messages: dict[str, bytes]) -> Callable[[dict[str, Any]], str | None]:
    def judge(seen: dict[str, Any]) -> str | None:
        for name in names:
            got = seen.get(name)
            if isinstance(got, BaseException):
                return f"{name}'s {type(got).__name__}: {got}"
            if got != messages[name]:
                return f"{name} sent {messages[name]!r} and got back {got!r}"
        return None

    return judge


def _both_served(echoed: Callable[[dict[str, Any]], str | None]) -> Callable[..., str | None]:
    def judge(seen: dict[str, Any]) -> str | None:
        if not seen.get("ann waited for nothing"):
            return (
                "bob got no answer while ann kept her connection open and silent: your server "
                "serves one client at a time (a thread per client would not wait for ann)"
            )
        return echoed(seen)

    return judge


def threaded_echo_cases() -> list[ServerCase]:
    """The hidden tests of ``serve(listener)``: an echo server, a thread per client."""
    import threading

    def one(seen: dict[str, Any]) -> dict[str, Callable[[], None]]:
        return {"ann": _echo_client(seen, "ann", b"hello\n")}

    def pieces(seen: dict[str, Any]) -> dict[str, Callable[[], None]]:
        return {"ann": _echo_client(seen, "ann", b"hello, in pieces\n", pieces=4)}

    def slow_and_quick(seen: dict[str, Any]) -> dict[str, Callable[[], None]]:
        bob_done = threading.Event()
        return {
            # ann connects first, then says nothing until bob has had his answer
            "ann": _echo_client(seen, "ann", b"slow\n", wait=bob_done),
            "bob": _echo_client(seen, "bob", b"quick\n", then=bob_done),
        }

    def hang_up(seen: dict[str, Any]) -> dict[str, Callable[[], None]]:
        def rude() -> None:
            with contextlib.suppress(OSError):
                socket.create_connection(("server", PORT)).close()
            seen["rude"] = True

        return {"rude": rude, "cat": _echo_client(seen, "cat", b"still there?\n")}

    messages = {"ann": b"hello\n", "bob": b"quick\n", "cat": b"still there?\n"}
    return [
        ServerCase("one client", one, _echoed("ann", messages=messages)),
        ServerCase(
            "a client that sends in four pieces",
            pieces,
            _echoed("ann", messages={"ann": b"hello, in pieces\n"}),
        ),
        ServerCase(
            "ann connects first and says nothing until bob has his answer",
            slow_and_quick,
            _both_served(_echoed("bob", "ann", messages={**messages, "ann": b"slow\n"})),
        ),
        ServerCase(
            "a client hangs up at once, then another one talks",
            hang_up,
            _echoed("cat", messages=messages),
        ),
    ]


def _one_thread(trace: Any) -> str | None:
    """An event-driven server serves every client from its one thread."""
    helpers = sorted(t for t in trace.threads if t.startswith("server/"))
    if helpers:
        return (
            f"your server started threads ({', '.join(helpers)}): serve every client from the "
            "one thread, with a selector that says which socket is ready"
        )
    return None


def selectors_echo_cases() -> list[ServerCase]:
    """The hidden tests of an event-driven ``serve(listener)``: the threaded echo server's
    clients, served from one thread."""
    return [
        ServerCase(case.name, case.clients, case.judge, _one_thread)
        for case in threaded_echo_cases()
    ]


def _chatter(
    seen: dict[str, Any], name: str, *, says: tuple[bytes, ...] = (), expects: bytes = b"",
    ready: Any = None, start: Any = None, leaves: bool = False, hears_nothing: bool = False,
) -> Callable[[], None]:  # fmt: skip
    """A chat client: connects, says it is there, waits for the start, says its lines (each
    part sent on its own), then reads until it has heard ``expects`` (or a second passes); with
    ``hears_nothing``, what comes back within 0.2 s (its own lines must not)."""

    def client() -> None:
        told = False
        try:
            with socket.create_connection(("server", PORT), timeout=1) as sock:
                time.sleep(0.02)  # (the server has accepted it by then)
                if ready is not None:
                    ready.release()
                    told = True
                if leaves:
                    return
                if start is not None:
                    start.wait(2)
                for part in says:
                    sock.sendall(part)
                    time.sleep(0.01)
                if hears_nothing:
                    sock.settimeout(0.2)
                    try:
                        seen[name] = sock.recv(1024)
                    except TimeoutError:
                        seen[name] = b""
                    return
                seen[name] = _read_up_to(sock, len(expects))
        except OSError as exc:
            seen[name] = exc
            if ready is not None and not told:
                ready.release()  # (refused: the others need not wait for it)

    return client


def _heard(expected: dict[str, bytes]) -> Callable[[dict[str, Any]], str | None]:
    def judge(seen: dict[str, Any]) -> str | None:
        for name, want in expected.items():
            got = seen.get(name)
            if isinstance(got, BaseException):
                return f"{name}'s {type(got).__name__}: {got}"
            if got != want:
                return f"{name} should have heard {want!r}, and heard {got!r}"
        return None

    return judge


def chat_cases() -> list[ServerCase]:
    """The hidden tests of a chat server: every line a client sends goes to every other client."""
    import threading

    def gathering(count: int) -> tuple[Any, Any, Callable[[], None]]:
        ready, start = threading.Semaphore(0), threading.Event()

        def starter() -> None:  # the lines start once every client is in (2 s at most)
            deadline = time.monotonic() + 2
            for _ in range(count):
                ready.acquire(timeout=max(0.0, deadline - time.monotonic()))
            start.set()

        return ready, start, starter

    def hello(seen: dict[str, Any]) -> dict[str, Callable[[], None]]:
        ready, start, starter = gathering(3)
        return {
            "ann": _chatter(
                seen, "ann", says=(b"hello\n",), ready=ready, start=start, hears_nothing=True
            ),
            "bob": _chatter(seen, "bob", expects=b"hello\n", ready=ready, start=start),
            "cat": _chatter(seen, "cat", expects=b"hello\n", ready=ready, start=start),
            "start": starter,
        }

    def pieces(seen: dict[str, Any]) -> dict[str, Callable[[], None]]:
        ready, start, starter = gathering(2)
        return {
            "ann": _chatter(
                seen, "ann", says=(b"hel", b"lo, in", b" pieces\n"), ready=ready, start=start
            ),
            "bob": _chatter(seen, "bob", expects=b"hello, in pieces\n", ready=ready, start=start),
            "start": starter,
        }

    def leaving(seen: dict[str, Any]) -> dict[str, Callable[[], None]]:
        ready, start, starter = gathering(3)
        return {
            "cat": _chatter(seen, "cat", ready=ready, leaves=True),
            "ann": _chatter(
                seen, "ann", expects=b"still here\nstill here\n", ready=ready, start=start
            ),
            "bob": _chatter(
                seen, "bob", says=(b"still here\n", b"still here\n"), ready=ready, start=start
            ),
            "start": starter,
        }

    return [
        ServerCase(
            "ann says hello to bob and cat (and not to herself)",
            hello,
            _heard({"bob": b"hello\n", "cat": b"hello\n", "ann": b""}),
        ),
        ServerCase(
            "ann's line comes in three pieces", pieces, _heard({"bob": b"hello, in pieces\n"})
        ),
        ServerCase(
            "cat leaves at once, then bob speaks twice (a second write to cat would fail: the "
            "server must forget cat, and not crash)",
            leaving,
            _heard({"ann": b"still here\nstill here\n"}),
        ),
    ]
