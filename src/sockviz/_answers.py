"""How the lessons' checkers read an answer: every correct form, the same way in every lesson.

A student who writes ``"econnrefused"``, ``111``, ``ConnectionRefusedError`` or
``"ConnectionRefusedError"`` means the same thing, and so does one who writes
``"handler1"`` for ``server/handler1``.  Each checker asks these functions, so
no lesson accepts a form another rejects.
"""

from __future__ import annotations

import errno as _errno
import re
from typing import Any

__all__ = [
    "as_int",
    "as_ints",
    "as_seconds",
    "same_error",
    "same_name",
    "same_thread",
    "same_threads",
]


def _text(answer: Any) -> str | None:
    """A text answer, without the quotes and spaces a student may type around it."""
    if not isinstance(answer, str):
        return None
    return answer.strip().strip("'\"` ").strip()


def same_name(answer: Any, expected: str) -> bool:
    """``answer`` is ``expected``, whatever the case and the quotes around it."""
    text = _text(answer)
    return text is not None and text.lower() == expected.lower()


def same_thread(answer: Any, expected: str) -> bool:
    """``answer`` names the thread ``expected``: whatever the case, with or without its
    component ("handler1" or "server/handler1"; a component's own thread by its name)."""
    text = _text(answer)
    if not text:
        return False
    said, meant = text.lower(), expected.lower()
    return said == meant or ("/" in meant and said == meant.split("/", 1)[1])


def same_threads(answer: Any, expected: set[str]) -> bool:
    """``answer`` (a set, list or tuple of names) names exactly the threads ``expected``."""
    if isinstance(answer, str) or not isinstance(answer, set | frozenset | list | tuple):
        return False
    said = list(answer)
    return (
        len(said) == len(expected)
        and all(any(same_thread(name, thread) for thread in expected) for name in said)
        and all(any(same_thread(name, thread) for name in said) for thread in expected)
    )


def same_error(answer: Any, expected: type[BaseException], number: int | None = None) -> bool:
    """``answer`` is the error ``expected`` (errno ``number``): its class or an instance of it,
    the class's name (any case, with or without ``socket.``/``builtins.``), the errno's name
    ("ECONNREFUSED") or its number (111)."""
    if isinstance(answer, BaseException):
        return isinstance(answer, expected)
    if isinstance(answer, type):
        return issubclass(answer, expected)
    as_number = as_int(answer)
    if as_number is not None:
        return number is not None and as_number == number
    text = _text(answer)
    if text is None:
        return False
    bare = text.rsplit(".", 1)[-1]
    if bare.lower() == expected.__name__.lower():
        return True
    if expected is TimeoutError and bare.lower() == "timeout":  # socket.timeout is TimeoutError
        return True
    return number is not None and getattr(_errno, bare.upper(), None) == number


def as_int(answer: Any) -> int | None:
    """An int answer, or a text that is one ("2", " 2 "); not a bool."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer
    if isinstance(answer, float) and answer.is_integer():  # 2.0 is a number of sockets too
        return int(answer)
    text = _text(answer)
    if text and text.lstrip("-").isdigit():
        return int(text)
    if text and text.replace(".", "", 1).isdigit() and float(text).is_integer():
        return int(float(text))
    return None


def as_ints(answer: Any) -> set[int] | None:
    """A set of whole numbers (a set, list, tuple or range of ints or digit strings); None if the
    answer is not one."""
    if isinstance(answer, str | bytes) or not isinstance(
        answer, set | frozenset | list | tuple | range
    ):
        return None
    numbers = {as_int(item) for item in answer}
    return None if None in numbers else {n for n in numbers if n is not None}


def as_seconds(answer: Any) -> float | None:
    """A duration in seconds: a number, or a text like "0.25", "0.25 s", "250 ms", "about 2
    secs"; not a bool."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int | float):
        return float(answer)
    if not isinstance(answer, str):
        return None
    found = re.fullmatch(
        r"(?:about|~)?\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|secs?|seconds?|ms|milliseconds?)?",
        answer.strip().strip("'\"`").strip().lower(),
    )
    if found is None:
        return None
    value = float(found.group(1))
    return value / 1000 if (found.group(2) or "").startswith("m") else value
