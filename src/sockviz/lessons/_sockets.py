"""The checkers of lessons 01 to 08: sockets, streams, many clients, failures, real programs,
the machine underneath, recorded traces and schedules."""

from __future__ import annotations

import builtins
import errno as _errno
from typing import Any

from .._answers import as_int, same_error, same_name, same_thread, same_threads
from ._base import Exercise, _code, _exploration, _need_trace, stepper_goal

#: The errno behind an exception a trace records by name (the answer may be either).
_ERRNO_OF = {"ConnectionRefusedError": "ECONNREFUSED", "ConnectionResetError": "ECONNRESET",
             "BrokenPipeError": "EPIPE", "TimeoutError": "ETIMEDOUT"}  # fmt: skip


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
    if number < count:
        return False, "accept() returns a new socket, it does not reuse the listener: count again."
    return False, "one socket listens, and accept() makes one per client: how many clients came?"


def _connect_waits(answer: Any, **_: Any) -> tuple[bool, str]:
    said = _yes_or_no(answer)
    if said is False:
        return (
            True,
            "no: on Linux the kernel completes the connection and queues it at the listener, so "
            "connect() returns (and the client may even send) before the server calls accept().",
        )
    if said is True:
        return False, (
            "run the demonstration: did the client print 'client: connect() returned' before "
            "the server called accept()?"
        )
    return False, "answer yes or no (True or False)."


def _yes_or_no(answer: Any) -> bool | None:
    """A yes/no answer: a bool, or a text that starts with yes or no."""
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, str):
        text = answer.strip().strip("'\"").lower()
        if text.startswith(("yes", "true", "it waits", "waits")):
            return True
        if text.startswith(("no", "false", "it does not", "doesn't", "does not")):
            return False
    return None


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
    if any(wait.outcome == "timeout" for wait in trace.waits()):
        return False, (
            "a wait ran out of time and your code went on anyway: that hides the deadlock, it does "
            "not fix it. Let one side speak first, with no timeout."
        )
    read: dict[str, int] = {}
    for event in trace.of_kind("buf.read"):
        read[event.thread] = read.get(event.thread, 0) + int(event.fields.get("n", 0))
    if not read.get("server"):
        return False, "no deadlock, but the server never read the question: make the two talk."
    if not read.get("client"):
        return False, "the server answered, but the client never read the answer: recv() it."
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
    if same_error(answer, TimeoutError):  # by class or name: Python's timeout has no errno
        return (
            True,
            "with settimeout(), a wait that runs out raises TimeoutError('timed out') "
            "(socket.timeout is the same class); its errno is None.",
        )
    if same_name(answer, "ETIMEDOUT") or as_int(answer) == _errno.ETIMEDOUT:
        return False, (
            "ETIMEDOUT is the kernel's error for a connection that timed out; a socket timeout "
            "set with settimeout() raises an exception with no errno: which class?"
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


def _http_threads(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    threads = list(_need_trace(trace).threads)
    number = as_int(answer)
    if number == len(threads):
        return True, (
            f"{len(threads)}: {', '.join(threads)} -- the server's own thread, serve_forever "
            "accepting, and a new thread for the one request."
        )
    if number is None:
        return False, "answer with a number of threads."
    if number == len(threads) - 1:
        return False, "one short: ThreadingHTTPServer does not answer in serve_forever's thread."
    return False, "count the client, the server, serve_forever and whatever answers the request."


_NEW_THREAD = ("a new thread", "new thread", "a new one", "another thread", "another one",
               "a handler", "handler", "a handler thread", "a thread per request")  # fmt: skip


def _response_thread(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    writers = {e.thread for e in _need_trace(trace).of_kind("buf.write") if e.thread != "client"}
    named = next((w for w in sorted(writers) if same_thread(answer, w)), None)
    if named is None and any(same_name(answer, words) for words in _NEW_THREAD):
        named = " and ".join(sorted(writers)) or "a new thread"
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
            "your exploration found no run where every thread is blocked: explore the race "
            "with more runs.",
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
        "replay the exploration's stuck outcome (found.replay(), pick it in the menu): who is "
        "still waiting when the clients are gone?",
    )


def _bob_wins(trace: Any) -> bool:
    from ..scenarios import who_got_the_slot

    return who_got_the_slot(trace) == "bob got the slot"


#: Every exercise of the lessons, by name.
EXERCISES: dict[str, Exercise] = {
    "01.first": Exercise(
        "Who reached the meeting first: 'server' (in accept()) or 'client' (in connect())?",
        _first_to_arrive,
        "Compare the connect and accept calls.",
    ),
    "01.sockets": Exercise(
        "How many sockets did the server use?", _server_sockets, "accept() makes a socket."
    ),
    "01.connect-waits": Exercise(
        "On Linux, does the client's connect() wait until the server calls accept()?",
        _connect_waits,
        "What does the kernel do with a connection nobody has accepted yet?",
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
    "05.threads": Exercise(
        "How many threads will the welded http.server and urlopen show?",
        _http_threads,
        "ThreadingHTTPServer: one thread accepts, a new one answers each request.",
    ),
    "05.responder": Exercise(
        "Which thread will write the response: serve_forever, the server's own, or a new one?",
        _response_thread,
        "Not serve_forever.",
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
            "bob did not get the slot: undo, let the server listen first, then let bob make his "
            "connect() before ann makes hers.",
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
