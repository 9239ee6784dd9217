"""Checkers for the lesson notebooks' exercises, with friendly feedback.

Each exercise has a name (``"01.first"``) and a checker.  In a notebook::

    from sockviz import lessons
    lessons.check("01.first", "server", trace=trace)

shows a green "Right!" with a sentence on why, or an orange "Not yet" with
a hint -- never an exception for a wrong answer (a typo in the exercise's
name does raise, with the names there are).  Answers that depend on a run
are checked against the student's own trace (``trace=``), so a lesson works
whatever interleaving the threads happened to take.

:func:`hint` shows an exercise's hint without checking anything; the
solutions live in ``docs/solutions.md`` (not beside the student notebooks).
"""

from __future__ import annotations

import builtins
import errno as _errno
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._answers import as_int, same_error, same_name, same_thread, same_threads

__all__ = [
    "EXERCISES",
    "Exercise",
    "Feedback",
    "Listed",
    "check",
    "exercises",
    "hint",
    "stepper_goal",
]


class Feedback:
    """The result of a check: ``ok`` and a message; shows itself in colour in a notebook."""

    def __init__(self, ok: bool, message: str, trace: Any = None) -> None:
        self.ok = ok
        self.message = message
        #: for a code exercise that failed: the trace of the failing run
        self.trace = trace

    def replay(self) -> Any:
        """The replay widget on the failing run's trace (a code exercise)."""
        if self.trace is None:
            raise ValueError("this check has no run to replay")
        from ._views._replay import replay

        return replay(self.trace)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return ("✔ Right! " if self.ok else "✘ Not yet. ") + self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour, mark = ("#009E73", "✔ Right!") if self.ok else ("#D55E00", "✘ Not yet.")
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px;margin:4px 0"><b '
            f'style="color:{colour}">{mark}</b> {html.escape(self.message)}</div>'
        )


@dataclass(frozen=True)
class Exercise:
    """One exercise: the question, how to check an answer, a hint, and its kind: ``"predict"``
    (a value, said before the cell that shows it), ``"code"`` (functions of yours, welded and
    tested) or ``"stepper"`` (a run you make happen by choosing who runs)."""

    question: str
    #: (answer, **context) -> (ok, message) or, for a code exercise, (ok, message, failing trace)
    checker: Callable[..., tuple[Any, ...]]
    hint: str
    kind: str = "predict"


@dataclass(frozen=True)
class Listed:
    """An exercise as :func:`exercises` lists it."""

    name: str
    lesson: int
    kind: str
    question: str


#: The errno behind an exception a trace records by name (the answer may be either).
_ERRNO_OF = {"ConnectionRefusedError": "ECONNREFUSED", "ConnectionResetError": "ECONNRESET",
             "BrokenPipeError": "EPIPE", "TimeoutError": "ETIMEDOUT"}  # fmt: skip


def _need_trace(trace: Any) -> Any:
    if trace is None:
        raise TypeError("this exercise checks your answer against your run: pass trace=trace")
    return trace


# -- the checkers ---------------------------------------------------------------------------


def _first_to_arrive(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    meeting = _need_trace(trace).meetings()[0]
    first_thread = meeting.connect_thread if meeting.first == "connect" else meeting.accept_thread
    if same_thread(answer, first_thread):
        return (
            True,
            f"{first_thread} reached the rendezvous first and waited there for the other side.",
        )
    if not isinstance(answer, str):
        return False, "answer with a thread's name, as a string: 'server' or 'client'."
    return (
        False,
        "look at the first meeting: compare when connect() was called and when accept() was "
        "called (trace.meetings()[0]).",
    )


def _server_sockets(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    count = len([s for s in _need_trace(trace).sockets() if s.owner == "server"])
    number = as_int(answer)
    if number is None:
        return False, "answer with a number of sockets."
    if number == count:
        return (
            True,
            f"the server has {count}: one that listens, and one per accepted connection, made by "
            "accept().",
        )
    return (
        False,
        "count the server's sockets in trace.sockets(): accept() returns a new socket, it does "
        "not reuse the listener.",
    )


def _accepted_fd(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    meeting = _need_trace(trace).meetings()[0]
    number = as_int(answer)
    if number == meeting.server:
        return (
            True,
            f"accept() returned fd {meeting.server}: the server's end of the new connection (the "
            f"listener is fd {meeting.listener}).",
        )
    if number == meeting.listener:
        return False, "that is the listening socket. accept() gives back a *new* socket: which one?"
    return False, "the meet event names it: trace.meetings()[0].server."


def _first_send(answer: Any, **_: Any) -> tuple[bool, str]:
    number = as_int(answer)
    if number == 1024:
        return (
            True,
            "send() queues what fits in the peer's buffer and returns that count; sendall() would "
            "loop until all 3000 went.",
        )
    if number == 3000:
        return (
            False,
            "that is what sendall() guarantees. send() returns as soon as *some* bytes are "
            "queued: how much room is there?",
        )
    return False, "the buffer holds buffer_size bytes, and nobody has read any yet."


def _one_recv(answer: Any, **_: Any) -> tuple[bool, str]:
    if answer == b"helloworld":
        return (
            True,
            "TCP is a stream of bytes: two sends do not make two messages, and one recv() takes "
            "whatever is there.",
        )
    if answer == b"hello":
        return (
            False,
            "that would be true if recv() returned one send() at a time. Does the stream remember "
            "where one send ended?",
        )
    return (
        False,
        "both sendall() calls finished before the server's recv(1024): what is in the buffer "
        "then? (answer with bytes)",
    )


def _after_eof(answer: Any, **_: Any) -> tuple[bool, str]:
    if answer == b"":
        return (
            True,
            "an empty bytes object is how recv() says 'end of file: the peer will send no more'.",
        )
    if answer is None or (isinstance(answer, type) and issubclass(answer, BaseException)):
        return (
            False,
            "recv() neither returns None nor raises here: the end of a stream is a normal event. "
            "What does it return?",
        )
    return (
        False,
        "after shutdown(SHUT_WR) and once the data is read, what does recv() give? (answer with "
        "bytes)",
    )


def _backlog(answer: Any, **_: Any) -> tuple[bool, str]:
    number = as_int(answer)
    if number == 2:
        return (
            True,
            "listen(1) lets backlog + 1 = 2 connections complete without accept(); the third "
            "waits (Linux's rule).",
        )
    if number == 1:
        return (
            False,
            "close: Linux lets one more than the backlog complete. Try it in the cell above.",
        )
    return False, "run the cell that counts the connections that completed, in strict semantics."


def _thread_count(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    count = len(_need_trace(trace).threads)
    number = as_int(answer)
    if number == count:
        return (
            True,
            f"{count} threads: the server, one handler thread per client, and the clients "
            "themselves.",
        )
    return (
        False,
        "trace.threads lists every thread that recorded an event: the server starts one handler "
        "per client.",
    )


def _fixed_deadlock(answer: Any, **_: Any) -> tuple[bool, str]:
    import sockviz

    if not (
        isinstance(answer, tuple) and len(answer) == 2 and all(callable(part) for part in answer)
    ):
        return False, "answer with the pair of functions: (server, client)."
    server, client = answer
    try:
        trace = sockviz.weld({"server": server, "client": client}, timeout=10)
    except sockviz.DeadlockError as error:
        return False, f"still a deadlock. {error}"
    except sockviz.WeldTimeoutError:
        return (
            False,
            "the weld ran out of time: is one side waiting for something that never comes?",
        )
    except sockviz.ComponentError as error:
        return False, f"a component failed: {error.exceptions[0]!r}"
    sent = sum(e.fields.get("n", 0) for e in trace.of_kind("buf.write"))
    if sent == 0:
        return False, "no deadlock, but no bytes moved either: make the two sides talk."
    return (
        True,
        "one side speaks first and the other listens first: the waits now line up instead of "
        "crossing.",
    )


def _refused(answer: Any, **_: Any) -> tuple[bool, str]:
    if same_error(answer, ConnectionRefusedError, _errno.ECONNREFUSED):
        return (
            True,
            "Linux answers a connect() to a port nobody listens on with ECONNREFUSED (111): "
            "ConnectionRefusedError.",
        )
    return False, "look at the strict-semantics run above: which exception did connect() raise?"


def _timeout(answer: Any, **_: Any) -> tuple[bool, str]:
    if same_error(answer, TimeoutError, _errno.ETIMEDOUT):
        return (
            True,
            "with settimeout(), a wait that runs out raises TimeoutError (socket.timeout is the "
            "same class).",
        )
    return False, "which exception did recv() raise when its timeout ran out?"


def _mode_after_listen(answer: Any, **_: Any) -> tuple[bool, str]:
    if same_name(answer, "LISTEN") or getattr(answer, "name", None) == "LISTEN":
        return (
            True,
            "listen() moves a bound socket to LISTEN (and binds it first if it was not bound).",
        )
    return False, "look up Op.LISTEN in sockviz.lowlevel.TRANSITIONS for a BOUND socket."


def _accept_errno(answer: Any, **_: Any) -> tuple[bool, str]:
    if as_int(answer) == _errno.EINVAL or same_name(answer, "EINVAL"):
        return (
            True,
            "EINVAL (22): accept() on a socket that is not listening is an invalid argument, "
            "Linux says.",
        )
    return False, "sockviz.lowlevel.REFUSALS[(SocketMode.BOUND, Op.ACCEPT)] holds the errno."


def _request_bytes(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    sent = sum(
        e.fields.get("n", 0)
        for e in _need_trace(trace).of_kind("buf.write")
        if e.thread == "client" and not e.fields.get("dropped")
    )
    number = as_int(answer)
    if number == sent:
        return (
            True,
            f"the client sent {sent} bytes: the request line and its headers, in one sendall().",
        )
    if number is None:
        return False, "answer with a number of bytes."
    return False, "add up the client's buf.write events (their n field), or its sendall() calls."


def _response_thread(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    writers = {e.thread for e in _need_trace(trace).of_kind("buf.write") if e.thread != "client"}
    named = next((w for w in sorted(writers) if same_thread(answer, w)), None)
    if named is not None:
        return (
            True,
            f"{named}: ThreadingHTTPServer gives every request a thread of its own, and that "
            "thread answers.",
        )
    if same_thread(answer, "server/serve_forever"):
        return (
            False,
            "serve_forever() only accepts the connection; who writes the response bytes? "
            "(trace.threads)",
        )
    return False, "find the thread whose buf.write events carry the response (not the client's)."


def _longest_wait(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    waits = [w for w in _need_trace(trace).waits() if w.duration_ns is not None]
    longest = max(waits, key=lambda w: w.duration_ns or 0)
    if same_thread(answer, longest.thread):
        return (
            True,
            f"{longest.thread} waited {longest.duration_ns / 1e6:.3f} ms in {longest.what}(): "
            f"{longest.waits_for}.",
        )
    return (
        False,
        "sort trace.waits() (or trace.to_pandas('waits')) by duration_ns: whose wait is longest?",
    )


def _more_events(answer: Any, traces: Any = None, **_: Any) -> tuple[bool, str]:
    if not traces:
        raise TypeError("pass traces={'name': trace, ...} with the traces you compared")
    counts = {name: len(trace) for name, trace in traces.items()}
    most = max(counts, key=counts.__getitem__)
    if same_name(answer, most):
        return True, f"{most} recorded {counts[most]} events: " + ", ".join(
            f"{n}: {c}" for n, c in counts.items()
        ) + "."
    return False, "len(trace) counts a trace's events: compare them."


def _client_first(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    errors = [
        e.fields.get("error")
        for e in _need_trace(trace).of_kind("return")
        if e.thread == "client" and e.fields.get("op") == "connect"
    ]
    raised = next((error for error in errors if error), None)
    kind = getattr(builtins, str(raised), None) if raised else None
    right = (
        same_error(answer, kind, getattr(_errno, _ERRNO_OF.get(str(raised), ""), None))
        if isinstance(kind, type) and issubclass(kind, BaseException)
        else same_name(getattr(answer, "__name__", answer), str(raised))
    )
    if raised is not None and right:
        return (
            True,
            "the client ran first and nobody listened yet: Linux refuses, so connect() raised "
            f"{raised}.",
        )
    if raised is None:
        return (
            False,
            "in your run the client's connect() raised nothing: was it Scripted(['client', "
            "'server']), strict semantics?",
        )
    return (
        False,
        "look at the client's connect() in the trace (trace.of_kind('return')): which error did "
        "it end with?",
    )


def _exploration(found: Any) -> Any:
    if found is None:
        raise TypeError(
            "this exercise checks your answer against your exploration: pass found=found"
        )
    return found


def _winners(answer: Any, found: Any = None, **_: Any) -> tuple[bool, str]:
    winners = {
        str(o.label).split()[0]
        for o in _exploration(found).outcomes
        if str(o.label).endswith("got the slot")
    }
    if isinstance(answer, str) or not isinstance(answer, set | frozenset | list | tuple):
        return False, "answer with a set of names, like {'ann'}."
    if same_threads(answer, winners):
        return (
            True,
            f"{' and '.join(sorted(winners))}: whoever's connect() reaches the listener first gets "
            "the one slot.",
        )
    return False, "print(found): which names appear in the outcomes 'finished: ... got the slot'?"


def _stuck(answer: Any, found: Any = None, **_: Any) -> tuple[bool, str]:
    deadlocks = [o for o in _exploration(found).outcomes if o.status in ("deadlocked", "stuck")]
    if not deadlocks:
        return (
            False,
            "your exploration found no run where every thread is blocked: explore the race with "
            "semantics='strict' and more runs.",
        )
    waits = deadlocks[0].trace.of_kind("deadlock")[0].fields["waits"]
    named = next((thread for thread in waits if same_thread(answer, thread)), None)
    if named is not None:
        what = waits[named]
        return (
            True,
            f"{what}: both clients were refused before it listened, and neither retries, so nobody "
            "ever connects.",
        )
    return (
        False,
        "replay the strict exploration's stuck outcome (strict.replay()): who is still waiting "
        "when the clients are gone?",
    )


def _code(cases: str, right: str, *, server: bool = False) -> Callable[..., tuple[bool, str, Any]]:
    """A code exercise's checker: the answer welded against the hidden clients of ``cases`` (a
    function the server calls, or with ``server``: the server itself)."""

    def check(answer: Any, **_: Any) -> tuple[bool, str, Any]:
        from . import _codecheck

        run = _codecheck.run_server_cases if server else _codecheck.run_cases
        result = run(answer, getattr(_codecheck, cases)())
        if result.ok:
            return True, right, None
        shows = " -- feedback.replay() shows that run." if result.trace is not None else ""
        return False, result.message + shows, result.trace

    return check


def stepper_goal(
    reached: Callable[[Any], bool], right: str, not_yet: str
) -> Callable[..., tuple[bool, str]]:
    """A checker for "make this happen with the stepper": the answer is the stepper itself; its
    run must be over, ``reached(trace)`` must hold, and welding the same components under
    ``Scripted(st.choices)`` must give the very same run (a goal reached by choices, not by a
    trace put together by hand)."""

    def check(answer: Any, **_: Any) -> tuple[bool, str]:
        from ._weld._stepper import Stepper

        if not isinstance(answer, Stepper):
            return False, "give the stepper itself: lessons.check(name, st)"
        if not answer.done:
            return False, f"the run is not over yet: choose on (or st.finish()). {not_yet}"
        if not reached(answer.trace):
            return False, not_yet
        if answer.again().fingerprint() != answer.trace.fingerprint():
            return False, "welding again with Scripted(st.choices) gave another run: try again"
        return True, right

    return check


def _bob_wins(trace: Any) -> bool:
    from .scenarios import who_got_the_slot

    return who_got_the_slot(trace) == "bob got the slot"


#: Every exercise of the lessons, by name.
EXERCISES: dict[str, Exercise] = {
    "01.first": Exercise(
        "Who reached the rendezvous first: 'server' or 'client'?",
        _first_to_arrive,
        "Compare the connect and accept calls.",
    ),
    "01.sockets": Exercise(
        "How many sockets did the server use?", _server_sockets, "accept() makes a socket."
    ),
    "01.accepted": Exercise(
        "Which fd did accept() return?", _accepted_fd, "The meet event names every fd."
    ),
    "02.first-send": Exercise(
        "With a 1 KiB buffer and a timeout, what does send(b'x' * 3000) return?",
        _first_send,
        "How much room?",
    ),
    "02.one-recv": Exercise(
        "What does the server's one recv(1024) return?",
        _one_recv,
        "Streams have no message boundaries.",
    ),
    "02.recv-exactly": Exercise(
        "Write recv_exactly(sock, n): return exactly n bytes from sock, raise EOFError (or a "
        "ConnectionError) if the peer hangs up first.",
        _code(
            "recv_exactly_cases",
            "recv_exactly() loops until it has n bytes, whatever pieces they came in, and raises "
            "when the peer hangs up first (recv() returning b'').",
        ),
        "recv(n) returns at most n bytes -- maybe fewer. Loop, and treat b'' as the end.",
        kind="code",
    ),
    "02.framing": Exercise(
        "Write recv_message(sock): read one message sent as a 4-byte big-endian length and then "
        "that many bytes; raise EOFError (or a ConnectionError) if the peer hangs up inside one.",
        _code(
            "framing_cases",
            "recv_message() reads exactly the 4-byte header, then exactly its length -- never "
            "more, so the next message stays in the buffer for the next call.",
        ),
        "A stream has no message boundaries: read exactly 4 bytes (int.from_bytes(..., 'big')), "
        "then exactly that many -- recv_exactly() twice.",
        kind="code",
    ),
    "02.after-eof": Exercise(
        "What does recv() return after the peer's shutdown(SHUT_WR)?",
        _after_eof,
        "The end of a stream is not an error.",
    ),
    "03.backlog": Exercise(
        "With listen(1) and no accept(), how many connects complete?",
        _backlog,
        "Linux allows backlog + 1.",
    ),
    "03.threads": Exercise(
        "How many threads does the threaded server's trace show?",
        _thread_count,
        "One handler per client.",
    ),
    "03.threaded-echo": Exercise(
        "Write serve(listener): accept clients for ever, each in a thread of its own that echoes "
        "back everything its client sends until the client hangs up.",
        _code(
            "threaded_echo_cases",
            "serve() hands every accepted connection to a thread of its own and goes straight "
            "back to accept(): a slow client holds up only its own thread.",
            server=True,
        ),
        "while True: conn, _ = listener.accept(); threading.Thread(target=echo, args=(conn,))"
        ".start() -- and echo() loops recv/sendall until recv() returns b''.",
        kind="code",
    ),
    "03.selectors-echo": Exercise(
        "Write serve(listener) again, with no thread of its own: one selectors.DefaultSelector "
        "that says which socket is ready -- the listener (accept) or a client (recv, then echo).",
        _code(
            "selectors_echo_cases",
            "serve() waits in select() for whichever socket is ready, and handles just that one: "
            "a silent client costs nothing, and one thread serves them all.",
            server=True,
        ),
        "sel.register(listener, EVENT_READ); loop: for key, _ in sel.select(): accept and "
        "register the new socket, or recv from key.fileobj (b'': unregister and close).",
        kind="code",
    ),
    "03.chat": Exercise(
        "The capstone: write serve(listener) for a chat -- every line a client sends goes to "
        "every other client connected -- that keeps serving when a client leaves.",
        _code(
            "chat_cases",
            "every client's bytes go to all the others, whatever pieces they come in, and a "
            "client that left is forgotten, not written to.",
            server=True,
        ),
        "Keep the connected sockets in a set (behind a threading.Lock if each client has a "
        "thread); on b'' remove the socket, else sendall the bytes to every other one.",
        kind="code",
    ),
    "04.fix": Exercise(
        "Fix the deadlock: give (server, client) that exchange bytes.",
        _fixed_deadlock,
        "One side must speak first.",
        kind="code",
    ),
    "04.refused": Exercise(
        "What does connect() raise when nobody listens (strict)?",
        _refused,
        "It has 'Refused' in its name.",
    ),
    "04.timeout": Exercise(
        "What does recv() raise when its timeout runs out?", _timeout, "A builtin exception."
    ),
    "05.request": Exercise(
        "How many bytes did urlopen's request take?", _request_bytes, "Sum the client's writes."
    ),
    "05.responder": Exercise(
        "Which thread wrote the response?", _response_thread, "Not serve_forever."
    ),
    "06.listen": Exercise(
        "What mode is a bound socket in after listen()?",
        _mode_after_listen,
        "See sockviz.lowlevel.TRANSITIONS.",
    ),
    "06.accept-errno": Exercise(
        "Which errno does accept() on a bound, non-listening socket raise?",
        _accept_errno,
        "See sockviz.lowlevel.REFUSALS.",
    ),
    "07.longest": Exercise(
        "Which thread waited longest in the recorded trace?",
        _longest_wait,
        "Sort the waits by duration.",
    ),
    "07.more-events": Exercise(
        "Which of the compared traces has more events?", _more_events, "len(trace)."
    ),
    "08.client-first": Exercise(
        "Client first, strict semantics: what does the client's connect() raise?",
        _client_first,
        "Nobody listens yet.",
    ),
    "08.winners": Exercise(
        "Which clients can win the race for the one slot?",
        _winners,
        "Look at the outcomes' labels.",
    ),
    "08.bob-wins": Exercise(
        "With the stepper, make bob get the slot.",
        stepper_goal(
            _bob_wins,
            "bob got the slot: his connect() reached the listener before ann's, because you let "
            "him run first -- and Scripted(st.choices) makes that run again.",
            "bob did not get the slot: undo, and let bob make his connect() before ann makes hers.",
        ),
        "The one whose connect() comes first is accepted.",
        kind="stepper",
    ),
    "08.stuck": Exercise(
        "In strict semantics, which thread is left waiting when the race gets stuck?",
        _stuck,
        "The clients are gone.",
    ),
}


def exercises(lesson: int | None = None, *, kind: str | None = None) -> list[Listed]:
    """The catalogue: every exercise (of ``lesson``, of ``kind``) with its name, lesson, kind and
    question, in lesson order."""
    listed = [
        Listed(name, int(name.split(".", 1)[0]), found.kind, found.question)
        for name, found in EXERCISES.items()
    ]
    return [
        entry
        for entry in sorted(listed, key=lambda entry: (entry.lesson, entry.name))
        if (lesson is None or entry.lesson == lesson) and (kind is None or entry.kind == kind)
    ]


def check(exercise: str, answer: Any, **context: Any) -> Feedback:
    """Check ``answer`` to ``exercise`` (with ``trace=`` where the answer depends on your run)."""
    try:
        found = EXERCISES[exercise]
    except KeyError:
        raise KeyError(
            f"no exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}"
        ) from None
    said = found.checker(answer, **context)
    return Feedback(bool(said[0]), str(said[1]), said[2] if len(said) > 2 else None)


def hint(exercise: str) -> str:
    """The hint of ``exercise``."""
    return EXERCISES[exercise].hint
