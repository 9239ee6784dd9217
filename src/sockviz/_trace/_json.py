"""JSON for trace files: msgspec when it is installed, the standard library otherwise.

msgspec (``pip install sockviz[fast]``, part of the ``dev`` and ``lab``
extras) encodes and decodes JSON Lines in C, a whole file per call, and
checks each event's types while decoding: that is what lets a
million-event trace save in under a second and load in under one and a
half.  The standard library produces the same files and reads them
several times slower.  ``SOCKVIZ_JSON=stdlib`` forces it (the tests use
that to check both backends write and read the same files).

Error messages never come from here: when the fast path fails, the loader
goes over the file again line by line with :mod:`json` to say exactly
which line is wrong and why.
"""

from __future__ import annotations

import itertools
import json
import operator
import os
from collections.abc import Callable, Iterator
from operator import attrgetter, itemgetter
from typing import Any

from .._core._events import Event
from .._core._recorder import RecordedEvents

__all__ = [
    "BACKEND",
    "decode",
    "decode_events",
    "encode",
    "encode_events",
    "encode_lines",
    "encode_recorded",
]

_new_tuple = tuple.__new__
#: Which columns of an event must have which type (column, key, type).
COLUMN_TYPES = (
    (0, "seq", int),
    (1, "t_ns", int),
    (2, "thread", str),
    (3, "kind", str),
    (5, "fields", dict),
)


def _stdlib_encode(obj: Any) -> bytes:
    return json.dumps(obj, default=str, ensure_ascii=False, separators=(",", ":")).encode()


def _stdlib_encode_lines(objs: list[Any]) -> bytes:
    return b"".join(_stdlib_encode(obj) + b"\n" for obj in objs)


def _stdlib_encode_events(events: list[Event]) -> bytes:
    return _stdlib_encode_lines(
        [
            {"seq": seq, "t_ns": t, "thread": th, "kind": k, "obj": o, "fields": f}
            for seq, t, th, k, o, f in events
        ]
    )


def _stdlib_encode_recorded(recorded: RecordedEvents) -> list[bytes] | None:
    return None  # (the caller builds the events and encodes those)


def _stdlib_decode_events(view: memoryview) -> list[Event] | None:
    body = view.tobytes()
    try:
        records = json.loads(b"[" + body.rstrip(b"\n").replace(b"\n", b",") + b"]")
        events = [
            _new_tuple(Event, (r["seq"], r["t_ns"], r["thread"], r["kind"], r["obj"], r["fields"]))
            for r in records
        ]
    except (ValueError, KeyError, TypeError):
        return None
    for column, _key, kind in COLUMN_TYPES:
        if set(map(type, map(itemgetter(column), events))) - {kind}:
            return None
    return events


def _pieces(body: memoryview, size: int) -> Iterator[memoryview]:
    """``body`` in pieces of about ``size`` bytes, each ending with a whole line."""
    start, end = 0, len(body)
    while start < end:
        stop = start + size
        while stop < end:  # on to the end of the line
            newline = bytes(body[stop : stop + 4096]).find(b"\n")
            if newline >= 0:
                stop += newline + 1
                break
            stop += 4096
        yield body[start : min(stop, end)]
        start = stop


def _stdlib_decode(data: bytes | str) -> Any:
    return json.loads(data)


encode: Callable[[Any], bytes] = _stdlib_encode
encode_lines: Callable[[list[Any]], bytes] = _stdlib_encode_lines
encode_events: Callable[[list[Event]], bytes] = _stdlib_encode_events
#: The body of a file (in pieces) for a weld's events as recorded, or None: build the events and
#: encode those.
encode_recorded: Callable[[RecordedEvents], list[bytes] | None] = _stdlib_encode_recorded
#: Every event of a file's body (the lines after the header), or None if anything is amiss.
decode_events: Callable[[memoryview], list[Event] | None] = _stdlib_decode_events
decode: Callable[[bytes | str], Any] = _stdlib_decode
BACKEND = "json"

if os.environ.get("SOCKVIZ_JSON", "").lower() != "stdlib":
    try:
        import msgspec
    except ImportError:  # pragma: no cover - depends on what is installed
        pass
    else:

        class _Record(msgspec.Struct, gc=False):
            """One event line, as msgspec checks it."""

            seq: int
            t_ns: int
            thread: str
            kind: str
            obj: Any
            fields: dict[str, Any]

        _encoder = msgspec.json.Encoder(enc_hook=str)
        _seq_of = attrgetter("seq")
        _record_lines = msgspec.json.Decoder(_Record).decode_lines
        _any = msgspec.json.Decoder()

        def _fast_encode(obj: Any) -> bytes:
            try:
                return _encoder.encode(obj)
            except (msgspec.EncodeError, OverflowError):  # e.g. an int beyond 64 bits
                return _stdlib_encode(obj)

        def _fast_encode_lines(objs: list[Any]) -> bytes:
            try:
                return _encoder.encode_lines(objs)
            except (msgspec.EncodeError, OverflowError):
                return _stdlib_encode_lines(objs)

        def _fast_encode_events(events: list[Event]) -> bytes:
            try:  # (a Struct per event, made in C: cheaper to make and to encode than a dict)
                return _encoder.encode_lines(list(itertools.starmap(_Record, events)))
            except (msgspec.EncodeError, OverflowError):
                return _stdlib_encode_events(events)

        def _fields_maker(names: tuple[Any, ...]) -> Callable[..., Any]:
            """A Struct class for events with these field names (encoded as the dict would be)."""
            slots = [f"f{i}" for i in range(len(names))]
            try:
                renamed = dict(zip(slots, names, strict=True))
                return msgspec.defstruct(
                    "Fields", [(slot, Any) for slot in slots], rename=renamed, gc=False
                )
            except (TypeError, ValueError):  # a name msgspec cannot take ('"', a non-string)
                return lambda *values: dict(zip(names, values, strict=True))

        def _fast_encode_recorded(recorded: RecordedEvents) -> list[bytes] | None:
            # A Struct per event and one per its fields, made straight from the recorder's flat
            # list: a million events in about 0.8 s, rather than 2.4 s by way of Event objects.
            lines, last = [], -1
            try:
                for records in recorded.rows(_Record, _fields_maker):
                    seqs = list(map(_seq_of, records))
                    if seqs[0] < last or any(
                        map(operator.gt, seqs, itertools.islice(seqs, 1, None))
                    ):
                        return None  # recorded out of seq order (a rare race): Trace.events sorts
                    last = seqs[-1]
                    lines.append(_encoder.encode_lines(records))
            except (msgspec.EncodeError, OverflowError):
                return None
            return lines

        def _fast_decode_events(body: memoryview) -> list[Event] | None:
            # A quarter megabyte at a time: each piece's records are made, read and dropped while
            # they are in the processor's cache (a million events: about 10% faster than whole).
            events: list[Event] = []
            for piece in _pieces(body, 1 << 18):
                try:
                    records = _record_lines(piece)
                except msgspec.DecodeError:  # bad JSON or a bad type: the slow pass says where
                    return None
                events += [
                    _new_tuple(Event, (r.seq, r.t_ns, r.thread, r.kind, r.obj, r.fields))
                    for r in records
                ]
            return events

        def _fast_decode(data: bytes | str) -> Any:
            try:
                return _any.decode(data)
            except msgspec.DecodeError as exc:
                raise ValueError(str(exc)) from None

        encode, encode_lines, encode_events, encode_recorded, decode_events, decode, BACKEND = (
            _fast_encode,
            _fast_encode_lines,
            _fast_encode_events,
            _fast_encode_recorded,
            _fast_decode_events,
            _fast_decode,
            "msgspec",
        )
