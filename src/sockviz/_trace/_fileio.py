"""Trace files: JSON Lines with a header line.

Line 1 is a header object naming the format and its version plus how the
trace was recorded; every further line is one event object
``{"seq", "t_ns", "thread", "kind", "obj", "fields"}``.  ``.gz`` files are
gzip-compressed.  Loading never executes anything from the file: it parses
JSON and checks types, and says which line is wrong when one is.

The :class:`TraceWriter` streams events to a file while a run goes on, so a
run that crashes still leaves a trace that loads up to its last whole line.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import warnings
from typing import IO, Any

from .._errors import TraceFormatError
from ._events import Event, event_from_raw
from ._recorder import RawEvent
from ._trace import Trace

__all__ = ["FORMAT", "VERSION", "TraceWriter", "load", "save"]

FORMAT = "sockviz-trace"
VERSION = 1
_KEYS = ("seq", "t_ns", "thread", "kind", "obj", "fields")


def _open(path: str | os.PathLike[str], mode: str) -> IO[str]:
    if os.fspath(path).endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


def _header(meta: dict[str, Any]) -> str:
    return json.dumps({"format": FORMAT, "version": VERSION, **meta}, default=str)


def _line(event: RawEvent | Event) -> str:
    if not isinstance(event, Event):
        event = event_from_raw(event)
    return json.dumps(event._asdict(), default=str)


def save(trace: Trace, path: str | os.PathLike[str]) -> None:
    with _open(path, "w") as out:
        out.write(_header(trace.meta) + "\n")
        for event in trace.events:
            out.write(_line(event) + "\n")


class TraceWriter:
    """Appends events to a trace file as they are recorded (one line each)."""

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
        self.path = path
        self._lock = threading.Lock()  # text files are not safe to write from several threads
        self._out = _open(path, "w")
        self._out.write(_header(meta) + "\n")
        self._out.flush()

    def __call__(self, event: RawEvent) -> None:
        line = _line(event) + "\n"
        with self._lock:
            if not self._out.closed:
                self._out.write(line)

    def flush(self) -> None:
        with self._lock:
            if not self._out.closed:
                self._out.flush()

    def close(self) -> None:
        with self._lock:
            if not self._out.closed:
                self._out.close()


def load(path: str | os.PathLike[str]) -> Trace:
    """Read a trace file written by ``Trace.save`` or a streaming run.

    A file cut short (its last line incomplete) loads up to its last whole
    line with a warning; anything else malformed raises
    :class:`~sockviz.TraceFormatError` naming the file and line.
    """
    name = os.fspath(path)
    try:
        with _open(path, "r") as handle:
            text = handle.read()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        if isinstance(exc, EOFError | gzip.BadGzipFile) or "gzip" in str(exc).lower():
            raise TraceFormatError(name, None, f"not a readable gzip file ({exc})") from exc
        raise TraceFormatError(name, None, f"cannot be read as UTF-8 text ({exc})") from exc
    return parse(text, name)


def parse(text: str, name: str = "<string>") -> Trace:
    lines = text.split("\n")
    complete = text.endswith("\n")
    if complete:
        lines.pop()
    if not lines or not lines[0].strip():
        raise TraceFormatError(name, 1, "empty file: expected a sockviz trace header")
    meta = _parse_header(lines[0], name, truncated=not complete and len(lines) == 1)
    events: list[Event] = []
    last = len(lines)
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == last and not complete:
                warnings.warn(
                    f"{name}: line {number} is cut short (the run stopped while writing it); loaded {len(events)} events", stacklevel=3
                )
                break
            raise TraceFormatError(name, number, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        events.append(_check_event(record, name, number))
    return Trace(events, meta)


def _parse_header(line: str, name: str, *, truncated: bool) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        problem = "the header line is cut short" if truncated else "the first line is not a JSON header"
        raise TraceFormatError(name, 1, f"{problem}; is this a sockviz trace?") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TraceFormatError(name, 1, f'not a sockviz trace (the header must say "format": "{FORMAT}")')
    version = header.get("version")
    if not isinstance(version, int):
        raise TraceFormatError(name, 1, 'the header has no integer "version"')
    if version > VERSION:
        raise TraceFormatError(name, 1, f"format version {version} is newer than this sockviz reads (up to {VERSION}); upgrade sockviz")
    return {k: v for k, v in header.items() if k not in ("format", "version")}


def _check_event(record: Any, name: str, number: int) -> Event:
    if not isinstance(record, dict):
        raise TraceFormatError(name, number, f"an event must be a JSON object, not {type(record).__name__}")
    missing = [k for k in _KEYS if k not in record]
    if missing:
        raise TraceFormatError(name, number, f"event lacks {', '.join(repr(k) for k in missing)}")
    seq, t_ns, thread, kind, obj, fields = (record[k] for k in _KEYS)
    for key, value, kinds in (
        ("seq", seq, int),
        ("t_ns", t_ns, int),
        ("thread", thread, str),
        ("kind", kind, str),
        ("fields", fields, dict),
    ):
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise TraceFormatError(name, number, f"{key!r} must be {kinds.__name__}, not {type(value).__name__}")
    return Event(seq, t_ns, thread, kind, obj, fields)
