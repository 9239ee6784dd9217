"""The checkers of lesson 11: TCP's states and errors (predictions made before the walk or the
run that shows them; the answers are Linux's, so they do not depend on the run)."""

from __future__ import annotations

import errno as _errno
from typing import Any

from .._answers import as_int, same_error, same_name, same_thread
from ._base import Exercise

_STATES = ("CLOSED", "LISTEN", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
           "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")  # fmt: skip


def _state(answer: Any) -> str | None:
    """A TCP state, however it is written ("close-wait", "CLOSE_WAIT", "close wait")."""
    if not isinstance(answer, str):
        return None
    said = answer.strip().strip("'\"").upper().replace("-", "_").replace(" ", "_")
    return said if said in _STATES else None


def _close_wait(answer: Any, **_: Any) -> tuple[bool, str]:
    said = _state(answer)
    if said == "CLOSE_WAIT":
        return True, (
            "CLOSE_WAIT: the client's FIN has arrived (recv() gives b''), and the server has not "
            "closed yet. A server with many CLOSE_WAIT sockets forgets to close them."
        )
    if said is None:
        return False, f"answer with a TCP state's name, one of {', '.join(_STATES)}."
    if said == "ESTABLISHED":
        return False, "the server has read b'': something arrived that ESTABLISHED does not know."
    return False, "look at the table: which state is 'the peer's FIN came, I have not closed'?"


def _time_wait(answer: Any, **_: Any) -> tuple[bool, str]:
    if same_thread(answer, "server"):
        return True, (
            "the server: it hung up first, so its end waits in TIME_WAIT, holding port 8080."
        )
    if same_thread(answer, "client"):
        return False, "which end called close() first? That one waits in TIME_WAIT."
    return False, "answer 'server' or 'client'."


def _restart(answer: Any, **_: Any) -> tuple[bool, str]:
    if answer is OSError or same_name(answer, "OSError"):
        return False, "an OSError, yes: with which errno (its name or number)?"
    if isinstance(answer, OSError):
        right = answer.errno == _errno.EADDRINUSE
    elif as_int(answer) is not None:
        right = as_int(answer) == _errno.EADDRINUSE
    else:
        right = same_name(answer, "EADDRINUSE") or same_name(answer, "Address already in use")
    if right:
        return True, (
            "EADDRINUSE (98, 'Address already in use'): the old connection in TIME_WAIT still "
            "holds port 8080, and neither socket set SO_REUSEADDR."
        )
    if same_name(answer, "nothing") or answer is None:
        return False, "the old connection is not quite gone: look at the restart's output."
    return False, "look at what the restart printed: which errno is it?"


def _reset(answer: Any, **_: Any) -> tuple[bool, str]:
    if same_error(answer, ConnectionResetError, _errno.ECONNRESET):
        return True, (
            "ConnectionResetError (ECONNRESET): the server closed with the request unread, so "
            "its kernel sent a reset, not a FIN."
        )
    if answer == b"" or same_name(answer, "b''"):
        return False, "b'' would be a clean end (a FIN): was everything the client sent read?"
    return False, "an exception, by class, name or errno: which one did recv() raise?"


def _broken_pipe(answer: Any, **_: Any) -> tuple[bool, str]:
    number = as_int(answer)
    if number == 1:
        return True, (
            "one: the first send() after the FIN is queued and draws a reset; the second raises "
            "BrokenPipeError (EPIPE)."
        )
    if number is None:
        return False, "answer with a number of sends, 0 to 3."
    if number == 0:
        return False, "send() only queues bytes: how could the first one know nobody will read?"
    return False, "the first send() draws a reset from the server: what does the next one meet?"


EXERCISES: dict[str, Exercise] = {
    "11.close-wait": Exercise(
        "After the client's shutdown(SHUT_WR) and the server's recv() of b'', which TCP state is "
        "the server's socket in?",
        _close_wait,
        "The peer's FIN has come, and this end has not closed yet.",
    ),
    "11.time-wait": Exercise(
        "The server hangs up first: which end's address is held in TIME_WAIT?",
        _time_wait,
        "The end that closes first waits.",
    ),
    "11.restart": Exercise(
        "Restarted at once without SO_REUSEADDR, what does the server's bind() raise?",
        _restart,
        "The address is still held by the old connection.",
    ),
    "11.reset": Exercise(
        "The server closes with the client's request unread: what does the client's recv() do?",
        _reset,
        "Unread bytes turn a close into a reset.",
    ),
    "11.broken-pipe": Exercise(
        "After the server closed, how many of the client's three send()s succeed?",
        _broken_pipe,
        "The first one draws a reset.",
    ),
}
