"""The checkers of lesson 10: event-driven servers -- readiness, one thread with ``selectors``,
asyncio, and what one blocking call costs (predictions checked against the student's runs); and
the two code exercises it ends with, the event-driven echo server and the chat capstone."""

from __future__ import annotations

import re
from typing import Any

from .._answers import as_int, as_seconds, same_name
from ._base import Exercise, _code, _need_trace

#: The socket calls a thread may wait in inside the fake network (not a selector's wait).
_SOCKET_CALLS = {"accept", "connect", "recv", "recv_into", "recvfrom", "send", "sendall",
                 "sendto", "close", "shutdown"}  # fmt: skip

#: Words that name the selector's wait: select(), poll(), epoll_wait(), a selector's select().
_SELECTOR_WORDS = {"select", "poll", "epoll", "epoll_wait", "selector", "selectors",
                   "defaultselector", "epollselector", "selectorselect", "kqueue"}  # fmt: skip

_YES = {"yes", "y", "true", "readable", "it is", "yes it is", "ready"}
_NO = {"no", "n", "false", "not readable", "unreadable", "no it is not", "not ready"}


def _yes_no(answer: Any) -> bool | None:
    """A yes/no answer: a bool, or a word for one ("yes", "no", "True"); None for anything else."""
    if isinstance(answer, bool):
        return answer
    if not isinstance(answer, str):
        return None
    said = answer.strip().strip("'\"` .!").strip().lower()
    return True if said in _YES else False if said in _NO else None


def _call_words(answer: Any) -> set[str]:
    """The words of a call a student names: "sel.select()" -> {"sel", "select", "selselect"}."""
    if not isinstance(answer, str):
        return set()
    text = answer.strip().strip("'\"`").lower().replace("()", "")
    words = set(re.split(r"[^a-z_0-9]+", text)) - {""}
    return words | {"".join(re.split(r"[^a-z_0-9]+", text))}


# -- the checkers -------------------------------------------------------------------------------


def _eof_readable(answer: Any, **_: Any) -> tuple[bool, str]:
    said = _yes_no(answer)
    if said is True:
        return True, (
            "readable: recv() will not block, because it returns at once -- with b'', the end "
            "of the stream. Readable means 'a recv() now would not wait', not 'there is data'."
        )
    if said is False:
        return False, (
            "no data will ever come, true -- but would a recv() now wait? What does recv() "
            "return after the peer has hung up?"
        )
    return False, "answer True or False (or 'yes' / 'no')."


def _threads(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    threads = list(_need_trace(trace).threads)
    number = as_int(answer)
    servers = [t for t in threads if t == "server" or t.startswith("server/")]
    if number is None:
        return False, "answer with a number of threads."
    if number == len(threads):
        return True, (
            f"{len(threads)}: {', '.join(threads)} -- the server is "
            f"{'one thread' if len(servers) == 1 else f'{len(servers)} threads'}, whatever the "
            "number of clients; each client is a thread of its own in the weld."
        )
    if number == len(threads) + 3:
        return False, (
            "that would be a thread per client, as in lesson 3. Does this server ever start a "
            "thread?"
        )
    if number == len(servers):
        return False, "that is the server's own count, yes: and the clients? They are threads too."
    return (
        False,
        "count one thread for the server and one for each client: trace.threads lists them.",
    )


def _first(trace: Any, thread: str, kind: str, ops: tuple[str, ...] = ()) -> int | None:
    """The seq of ``thread``'s first event of ``kind`` (a call: one of ``ops``), or None."""
    for event in trace.of_kind(kind):
        if event.thread == thread and (not ops or event.fields.get("op") in ops):
            return int(event.seq)
    return None


def _bob_first(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    trace = _need_trace(trace)
    answered = _first(trace, "bob", "output")
    spoke = _first(trace, "ann", "call", ("send", "sendall"))
    if answered is None or spoke is None:
        return False, (
            "this trace has no answer printed by bob or no send by ann: pass the trace of the "
            "one-thread server's run (trace=one_thread)."
        )
    truth = answered < spoke
    said = _yes_no(answer)
    if said is None:
        return False, "answer True or False (or 'yes' / 'no')."
    if said == truth:
        return True, (
            "yes: bob printed his answer (event #{a}) before ann sent a byte (#{s}). select() "
            "reports only the sockets that are ready, so ann's silent socket costs nothing."
            if truth
            else "no, in your run: ann spoke (#{s}) before bob's answer came (#{a})."
        ).format(a=answered, s=spoke)
    if truth:
        return False, (
            "a one-at-a-time server would keep bob waiting behind ann. Does this one ever "
            "wait for ann in particular?"
        )
    return (
        False,
        "look at the trace: who spoke first, ann or bob's answer? (trace.of_kind('output'))",
    )


def _selector_waits(trace: Any) -> list[Any]:
    """The waits of the server thread that are not socket calls: its selector's, if recorded."""
    return [
        w
        for w in trace.waits()
        if w.thread == "server" and w.what not in _SOCKET_CALLS and not w.what.startswith("lock")
    ]


def _waits_in(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    recorded = _selector_waits(_need_trace(trace))
    words = _call_words(answer)
    if words & _SELECTOR_WORDS or any(same_name(answer, w.what) for w in recorded):
        said = (
            "in its selector's select(): epoll_wait() underneath, on Linux. A handler's "
            "`await reader.read()` waits for the loop to bring it bytes, and the loop calls "
            "recv() only once epoll says the socket is ready, so recv() never waits."
        )
        if recorded:
            total = sum(w.duration_ns or 0 for w in recorded) / 1e6
            whats = sorted({w.what for w in recorded})
            said += (
                f" Your trace shows it: {len(recorded)} wait{'s' * (len(recorded) != 1)} in "
                f"{', '.join(whats)}, "
                f"{total:.0f} ms in all."
            )
        return True, said
    if words & {"recv", "read", "reader", "readexactly", "readline", "recv_into"}:
        return False, (
            "the handler awaits reader.read(), yes -- but does the thread ever wait inside "
            "recv()? Look at the server's waits: trace.waits()."
        )
    if words & {"accept"}:
        return False, (
            "accept() is called only once the listener is readable: it returns at once. "
            "Where does the loop wait for *any* socket to be ready?"
        )
    if words & {"await", "drain", "sleep", "wait", "run"}:
        return False, (
            "await is where a coroutine lets go, not where the thread waits: when every "
            "coroutine is waiting, which call does the event loop make?"
        )
    return False, "name a call, as a string: which call waits for any of many sockets to be ready?"


def _blocking(answer: Any, trace: Any = None, **_: Any) -> tuple[bool, str]:
    trace = _need_trace(trace)
    clients = {"ann", "bob", "cat"}
    asked = [e.t_ns for e in trace.of_kind("call")
             if e.thread in clients and e.fields.get("op") in ("send", "sendall")]  # fmt: skip
    answered = [e.t_ns for e in trace.of_kind("output") if e.thread in clients]
    if not asked or not answered:
        return False, "pass the trace of the run with time.sleep in the handler (trace=blocked)."
    took = (max(answered) - min(asked)) / 1e9
    seconds = as_seconds(answer)
    if seconds is None:
        return False, "answer with a number of seconds (0.25, or '250 ms')."
    if abs(seconds - took) <= max(0.05, 0.2 * took):
        return True, (
            f"about {took:.2f} s in your run: time.sleep() holds the loop's one thread, so the "
            "three 0.1 s sleeps run one after another, and nothing else moves meanwhile."
        )
    if abs(seconds - 0.1) <= 0.03:
        return False, (
            "that is what `await asyncio.sleep(0.1)` gives: the loop runs the other handlers "
            "while one sleeps. Does time.sleep() let the loop run anything?"
        )
    return False, "how many handlers sleep, and can two of them sleep at the same time?"


EXERCISES: dict[str, Exercise] = {
    "10.eof-readable": Exercise(
        "The client has hung up (closed its socket): does select() say the server's end, conn, "
        "is readable?",
        _eof_readable,
        "Readable means a recv() now would not wait. What does recv() do after the peer closed?",
    ),
    "10.threads": Exercise(
        "How many threads will the selectors server's trace show (clients included)?",
        _threads,
        "One thread serves every client.",
    ),
    "10.bob-first": Exercise(
        "ann connects, then stays silent for 0.2 s: does bob get his answer from the one-thread "
        "server before ann speaks?",
        _bob_first,
        "select() returns whichever sockets are ready.",
    ),
    "10.waits-in": Exercise(
        "Which call does the asyncio server's one thread wait in?",
        _waits_in,
        "asyncio's loop is a selector loop.",
    ),
    "10.blocking": Exercise(
        "Each handler calls time.sleep(0.1) before it answers, and three clients ask at once: "
        "how many seconds until the last one has its answer?",
        _blocking,
        "time.sleep() blocks the loop's one thread.",
    ),
    "10.selectors-echo": Exercise(
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
    "10.chat": Exercise(
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
}
