"""Trace files: JSON Lines with a header line (``docs/trace-format.md``).

Line 1 is a header object naming the format and its version plus how the
trace was recorded; every further line is one event object
``{"seq", "t_ns", "thread", "kind", "obj", "fields"}``.  ``.gz`` files are
gzip-compressed.  Loading never executes anything from the file: it parses
JSON and checks types, and says which line is wrong when one is.

Speed comes from doing the per-event work in C, a whole file per call
(:mod:`._json`: msgspec's JSON Lines encoder and decoder, which also checks
each event's types).  Only when that fast path finds a problem does a slow
pass go line by line with :mod:`json` to say exactly where and what.  The
garbage collector is paused meanwhile: a million new dicts would otherwise
trigger it hundreds of times.

The :class:`TraceWriter` streams events to a file while a run goes on, so a
run that crashes still leaves a trace that loads up to its last whole line.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import tempfile
import threading
import time
import warnings
import zlib
from typing import IO, Any, cast

from .._core._events import Event, event_from_raw
from .._core._recorder import RawEvent
from .._errors import TraceFormatError
from . import _json
from ._trace import Trace, gc_paused
from ._upgrade import upgrade

__all__ = ["FORMAT", "VERSION", "TraceWriter", "load", "parse", "save"]

FORMAT = "sockviz-trace"
#: 2: waits record call, fd, until, peer_fd, peer_owner, addr instead of a sentence (see
#: _upgrade.py)
VERSION = 2
_KEYS = ("seq", "t_ns", "thread", "kind", "obj", "fields")
#: A streaming writer flushes at least this often (seconds), so a killed run loses little.
FLUSH_EVERY = 0.2


def _is_gzip(path: str | os.PathLike[str]) -> bool:
    return os.fspath(path).endswith(".gz")


def _header(meta: dict[str, Any]) -> bytes:
    return _json.encode({"format": FORMAT, "version": VERSION, **meta})


def _event_line(event: RawEvent | Event) -> bytes:
    if not isinstance(event, Event):
        event = event_from_raw(event)
    seq, t_ns, thread, kind, obj, fields = event
    return _json.encode(
        {"seq": seq, "t_ns": t_ns, "thread": thread, "kind": kind, "obj": obj, "fields": fields}
    )


def save(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write ``trace`` to ``path``; an existing file is replaced only once the new one is whole."""
    with gc_paused():
        data = [_header(trace.meta) + b"\n", *_body(trace)]
    if _is_gzip(path):
        data = [gzip.compress(b"".join(data), compresslevel=6, mtime=0)]
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".sockviz-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.writelines(data)
        # mkstemp makes it private; a saved trace is an ordinary file
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _body(trace: Trace) -> list[bytes]:
    """Every event's line, in pieces.  A weld's trace whose events were never read is written
    straight from what the recorder holds (its Event objects are not built just to be written)."""
    recorded = trace._recorded()
    body = None if recorded is None else _json.encode_recorded(recorded)
    return [_json.encode_events(trace.events)] if body is None else body


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class TraceWriter:
    """Appends events to a trace file as they are recorded (one line each).

    Lines are buffered and flushed at least every :data:`FLUSH_EVERY`
    seconds and on :meth:`close`; a run that is killed outright loses at most
    that much, and the loader takes the file up to its last whole line.
    """

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
        self.path = path
        self._lock = threading.Lock()  # several threads record at once
        opened = gzip.open(path, "wb", compresslevel=6) if _is_gzip(path) else open(path, "wb")  # noqa: SIM115
        self._out: IO[bytes] = cast(IO[bytes], opened)
        self._out.write(_header(meta) + b"\n")
        self._out.flush()
        self._flushed = time.monotonic()

    def __call__(self, event: RawEvent) -> None:
        line = _event_line(event) + b"\n"
        with self._lock:
            if not self._out.closed:
                self._out.write(line)
                now = time.monotonic()
                if now - self._flushed > FLUSH_EVERY:
                    self._out.flush()
                    self._flushed = now

    def flush(self) -> None:
        with self._lock:
            if not self._out.closed:
                self._out.flush()

    def close(self) -> None:
        with self._lock:
            if not self._out.closed:
                self._out.close()


# -- loading -----------------------------------------------------------------


def load(path: str | os.PathLike[str]) -> Trace:
    """Read a trace file written by ``Trace.save`` or by a streaming run.

    A file cut short (its last line incomplete, or a ``.gz`` without its
    end) loads up to its last whole line with a warning; anything else
    malformed raises :class:`~sockviz.TraceFormatError` naming the file
    and line.
    """
    name = os.fspath(path)
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b" or _is_gzip(path):
        data = _gunzip(data, name)
    return parse(data, name)


def _gunzip(data: bytes, name: str) -> bytes:
    """The text of a gzip file; as much as there is if it was cut short."""
    pieces = []
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            pieces.append(inflater.decompress(data))
        except zlib.error as exc:
            raise TraceFormatError(name, None, f"not a readable gzip file ({exc})") from None
        if not inflater.eof:
            break  # cut short: parse() will find the last line incomplete and say so
        data = inflater.unused_data  # several gzip members follow each other
    return b"".join(pieces)


def parse(data: bytes | str, name: str = "<string>") -> Trace:
    """A trace from the text of a trace file (``name`` is used in error messages)."""
    if isinstance(data, str):
        data = data.encode()
    if not data or data.isspace():
        raise TraceFormatError(name, 1, "empty file: expected a sockviz trace header")
    end = data.find(b"\n")
    complete = data.endswith(b"\n")
    meta, version = _parse_header(
        data if end < 0 else data[:end], name, truncated=end < 0 and not complete
    )
    # The body is the lines after the header, as a view: a big file is not copied.
    start, stop = (len(data), len(data)) if end < 0 else (end + 1, len(data))
    cut_line = None
    # the last line has no newline: whole, or cut short by a crash?
    if stop > start and not complete:
        last = max(data.rfind(b"\n"), end) + 1
        try:
            json.loads(data[last:])
        except ValueError:
            cut_line = 1 + data.count(b"\n")
            stop = last
        else:
            data += b"\n"
            stop = len(data)
    body = memoryview(data)[start:stop]
    with gc_paused():
        events = _json.decode_events(body) if stop > start else []
        if events is None:
            events = _checked_events(body.tobytes(), name)
        events = upgrade(events, version)
    if cut_line is not None:
        warnings.warn(
            f"{name}: line {cut_line} is cut short (the run stopped while writing it); loaded "
            f"{len(events)} events",
            stacklevel=3,
        )
    return Trace(events, meta)


def _checked_events(body: bytes, name: str) -> list[Event]:
    """Line by line, raising :class:`TraceFormatError` at the first bad line."""
    events = []
    for number, line in enumerate(body.split(b"\n")[:-1], start=2):
        if not line.strip():
            continue  # a blank line is harmless
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TraceFormatError(
                name, number, f"not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        except UnicodeDecodeError as exc:
            raise TraceFormatError(
                name, number, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        events.append(_check_event(record, name, number))
    return events


def _parse_header(line: bytes, name: str, *, truncated: bool) -> tuple[dict[str, Any], int]:
    try:
        header = json.loads(line)
    except ValueError:
        problem = (
            "the header line is cut short" if truncated else "the first line is not a JSON header"
        )
        raise TraceFormatError(name, 1, f"{problem}; is this a sockviz trace?") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TraceFormatError(
            name, 1, f'not a sockviz trace (the header must say "format": "{FORMAT}")'
        )
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise TraceFormatError(name, 1, 'the header has no integer "version"')
    if version > VERSION:
        raise TraceFormatError(
            name,
            1,
            f"format version {version} is newer than this sockviz reads (up to {VERSION}); upgrade "
            "sockviz",
        )
    return {k: v for k, v in header.items() if k not in ("format", "version")}, version


def _check_event(record: Any, name: str, number: int) -> Event:
    if not isinstance(record, dict):
        raise TraceFormatError(
            name, number, f"an event must be a JSON object, not {type(record).__name__}"
        )
    missing = [k for k in _KEYS if k not in record]
    if missing:
        raise TraceFormatError(name, number, f"event lacks {', '.join(repr(k) for k in missing)}")
    values = tuple(record[k] for k in _KEYS)
    for column, key, kind in _json.COLUMN_TYPES:
        value = values[column]
        if type(value) is not kind:
            raise TraceFormatError(
                name, number, f"{key!r} must be {kind.__name__}, not {type(value).__name__}"
            )
    return Event(*values)
