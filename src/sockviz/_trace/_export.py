"""Exports: pandas DataFrames, CSV, Chrome/Perfetto traces and Mermaid diagrams.

* :func:`to_pandas` -- one tidy row per event (fields flattened into
  columns), or per wait, meeting or socket.  pandas is optional
  (``pip install sockviz[pandas]``).
* :func:`to_csv` -- the same rows without pandas.
* :func:`to_chrome_trace` -- the Trace Event Format that Perfetto
  (ui.perfetto.dev) and ``chrome://tracing`` open: a track per thread with
  its socket calls and waits as slices, a track per socket with its modes,
  and flow arrows for every wake-up and every meeting.
* :func:`to_mermaid` -- a Mermaid sequence diagram of the components'
  connections and data, which JupyterLab renders in a Markdown cell.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._kinds import TABLE

if TYPE_CHECKING:
    from .._core._events import Event
    from ._trace import Trace

__all__ = ["chrome_events", "event_rows", "to_chrome_trace", "to_csv", "to_mermaid", "to_pandas"]

_BASE = ("seq", "t_ns", "thread", "kind", "obj")
TABLES = ("events", "waits", "meetings", "sockets")


def event_rows(events: Sequence[Event]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and one flat dict per event: the base columns, then every field name seen."""
    columns = dict.fromkeys(_BASE)
    rows = []
    for event in events:
        row = dict(zip(_BASE, event[:5], strict=True))
        for name, value in event.fields.items():
            key = f"field_{name}" if name in _BASE else name
            columns[key] = None
            row[key] = value
        rows.append(row)
    return list(columns), rows


def _table(trace: Trace, what: str) -> tuple[list[str], list[dict[str, Any]]]:
    if what == "events":
        return event_rows(trace.events)
    if what == "waits":
        items: list[Any] = trace.waits()
    elif what == "meetings":
        items = trace.meetings()
    elif what == "sockets":
        items = trace.sockets()
    else:
        raise ValueError(f"unknown table {what!r}: choose one of {', '.join(TABLES)}")
    fields = list(items[0]._fields) if items else []
    rows = [item._asdict() for item in items]
    if what == "waits":  # how long, as a column (a property of Wait)
        fields.append("duration_ns")
        for row, item in zip(rows, items, strict=True):
            row["duration_ns"] = item.duration_ns
    if what == "sockets":
        for row in rows:
            row["history"] = " > ".join(mode for _, _, mode in row["history"])
    return fields, rows


def to_pandas(trace: Trace, what: str = "events") -> Any:
    """A pandas DataFrame of the events (or ``"waits"``, ``"meetings"``, ``"sockets"``)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "Trace.to_pandas() needs pandas, which sockviz does not install by itself: pip "
            "install pandas (or pip install 'sockviz[pandas]')"
        ) from None
    columns, rows = _table(trace, what)
    frame = pd.DataFrame.from_records(
        rows, columns=columns
    ).convert_dtypes()  # whole numbers stay whole beside gaps
    if what == "events":  # few distinct values, a million rows
        for name in ("thread", "kind"):
            frame[name] = frame[name].astype("category")
    return frame


def to_csv(trace: Trace, path: str | os.PathLike[str], what: str = "events") -> None:
    """Write the rows of :func:`to_pandas` as CSV (no pandas needed); nested values as JSON."""
    columns, rows = _table(trace, what)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: json.dumps(v) if isinstance(v, dict | list | tuple) else v
                    for k, v in row.items()
                }
            )


# -- Chrome Trace Event Format ---------------------------------------------------

_THREADS_PID, _SOCKETS_PID = 1, 2


def _us(t_ns: int) -> float:
    """Trace Event times are microseconds; ours are whole nanoseconds (3 decimals)."""
    return t_ns / 1000.0


def _dur(start_ns: int, end_ns: int) -> float:
    """A slice's duration in microseconds, at least 1 ns (computed in ns: no float drift)."""
    return max(end_ns - start_ns, 1) / 1000.0


def chrome_events(trace: Trace) -> list[dict[str, Any]]:
    """The trace as Trace Event Format events (see the module docstring)."""
    events = trace.events
    tids = {thread: number for number, thread in enumerate(trace.threads, start=1)}
    end_ns = events[-1].t_ns if events else 0
    by_seq = {e.seq: e for e in events}
    return [
        *_names(tids),
        *_calls(events, tids, end_ns),
        *_waits(trace, by_seq, tids, end_ns),
        *_meetings(trace, by_seq, tids),
        *_socket_modes(trace, end_ns),
        *_marks(events, tids),
    ]


def _meta(pid: int, tid: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "ph": "M", "pid": pid, "tid": tid, "args": args}


def _names(tids: dict[str, int]) -> list[dict[str, Any]]:
    """The two processes (threads, sockets) and a named, ordered track per thread."""
    out = [
        _meta(_THREADS_PID, 0, "process_name", {"name": "threads"}),
        _meta(_SOCKETS_PID, 0, "process_name", {"name": "sockets"}),
    ]
    for thread, tid in tids.items():
        out.append(_meta(_THREADS_PID, tid, "thread_name", {"name": thread}))
        out.append(_meta(_THREADS_PID, tid, "thread_sort_index", {"sort_index": tid}))
    return out


def _calls(events: Sequence[Event], tids: dict[str, int], end_ns: int) -> list[dict[str, Any]]:
    """Socket calls: one slice from call to return, on the thread's track."""
    out = []
    open_calls: dict[str, list[Event]] = {}
    for event in events:
        if event.kind == "call":
            open_calls.setdefault(event.thread, []).append(event)
        elif event.kind == "return" and open_calls.get(event.thread):
            call = open_calls[event.thread].pop()
            name = f"{call.fields.get('op')}() fd {call.obj}"
            out.append(
                _slice(name, "call", call, event.t_ns, tids, {**call.fields, **event.fields})
            )
    for stack in open_calls.values():
        for call in stack:
            name = f"{call.fields.get('op')}() fd {call.obj}"
            out.append(_slice(name, "call", call, end_ns, tids, dict(call.fields)))
    return out


def _waits(
    trace: Trace, by_seq: dict[int, Event], tids: dict[str, int], end_ns: int
) -> list[dict[str, Any]]:
    """Waits: slices inside the calls; wake-ups: flow arrows from the waker."""
    out = []
    for wait in trace.waits(internals=True):
        args = {"for": wait.waits_for, "outcome": wait.outcome, "primitive": wait.primitive}
        until = wait.end_ns if wait.end_ns is not None else end_ns
        out.append(_slice(f"waits: {wait.what}", "wait", by_seq[wait.start], until, tids, args))
        if wait.woken_by is not None and wait.woken_by in by_seq and wait.end is not None:
            waker = by_seq[wait.woken_by]
            name = f"{waker.kind} {waker.obj}"
            out.extend(_flow(f"wake-{wait.end}", "wake-up", name, waker, by_seq[wait.end], tids))
    return out


def _meetings(trace: Trace, by_seq: dict[int, Event], tids: dict[str, int]) -> list[dict[str, Any]]:
    """Meetings: an instant on each side and an arrow from connect to accept."""
    out = []
    for meeting in trace.meetings():
        meet = by_seq[meeting.seq]
        if meeting.connect_arrived is not None and meeting.connect_thread in tids:
            start = by_seq[meeting.connect_arrived]
            name = f"meet {meeting.what}"
            out.extend(_flow(f"meet-{meeting.seq}", "meeting", name, start, meet, tids))
        name = f"MEET {meeting.connect_thread} + {meeting.accept_thread}"
        out.append(
            {"name": name, "cat": "meeting", "ph": "i", "s": "t", "ts": _us(meet.t_ns)}
            | {"pid": _THREADS_PID, "tid": tids[meet.thread], "args": meeting._asdict()}
        )
    return out


def _socket_modes(trace: Trace, end_ns: int) -> list[dict[str, Any]]:
    """Socket modes: a track per socket, a slice per mode."""
    out = []
    for number, life in enumerate(trace.sockets(), start=1):
        out.append(
            _meta(_SOCKETS_PID, number, "thread_name", {"name": f"fd {life.fd} ({life.owner})"})
        )
        history = life.history
        args = {"fd": life.fd, "local": life.local, "peer": life.peer}
        for position, (_seq, t_ns, mode) in enumerate(history):
            last = position + 1 == len(history)
            until = (t_ns if mode == "CLOSED" else end_ns) if last else history[position + 1][1]
            out.append(
                {"name": mode, "cat": "state", "ph": "X", "ts": _us(t_ns), "dur": _dur(t_ns, until)}
                | {"pid": _SOCKETS_PID, "tid": number, "args": dict(args)}
            )
    return out


def _marks(events: Sequence[Event], tids: dict[str, int]) -> list[dict[str, Any]]:
    """Everything else worth seeing as an instant (output lines, refusals, deadlocks...): the
    marks of the table of kinds."""
    out = []
    for event in events:
        row = TABLE.get(event.kind)
        if row is None or row.mark is None:
            continue
        output = event.kind == "output"
        label = str(event.fields.get("line")) if output else f"{event.kind} {event.obj}"
        scope = "g" if row.mark == "global" else "t"
        out.append(
            {"name": label, "cat": event.kind, "ph": "i", "s": scope, "ts": _us(event.t_ns)}
            | {"pid": _THREADS_PID, "tid": tids[event.thread], "args": _jsonable(event.fields)}
        )
    return out


def _slice(
    name: str, cat: str, begin: Event, end_ns: int, tids: dict[str, int], args: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": name,
        "cat": cat,
        "ph": "X",
        "ts": _us(begin.t_ns),
        "dur": _dur(begin.t_ns, end_ns),
        "pid": _THREADS_PID,
        "tid": tids[begin.thread],
        "args": _jsonable(args),
    }


def _flow(
    ident: str, cat: str, name: str, start: Event, finish: Event, tids: dict[str, int]
) -> list[dict[str, Any]]:
    """A flow arrow: a tiny slice at each end (flows bind to slices) and the s/f pair."""
    ends = []
    for event, phase in ((start, "s"), (finish, "f")):
        ts = _us(event.t_ns)
        where = {"pid": _THREADS_PID, "tid": tids[event.thread]}
        ends.append(
            {
                "name": name if phase == "s" else f"woken: {event.obj}",
                "cat": cat,
                "ph": "X",
                "ts": ts,
                "dur": 0.001,
            }
            | where
        )
        flow = {"name": name, "cat": cat, "ph": phase, "id": ident, "ts": ts} | where
        if phase == "f":
            flow["bp"] = "e"
        ends.append(flow)
    return ends


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | type(None) | dict | list) else str(v)
        for k, v in fields.items()
    }


def to_chrome_trace(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write ``path`` in the Trace Event Format (open it in ui.perfetto.dev or chrome://tracing)."""
    document = {
        "traceEvents": chrome_events(trace),
        "displayTimeUnit": "ns",
        "otherData": {"sockviz": trace.meta},
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(document, out, default=str)


# -- Mermaid ----------------------------------------------------------------------


def _component(thread: str) -> str:
    return thread.split("/", 1)[0]


def to_mermaid(trace: Trace, *, components: bool = True, max_messages: int = 200) -> str:
    """A Mermaid ``sequenceDiagram`` of the connections, the data and the closes.

    With ``components=True`` a server's handler threads are drawn as their
    component (``server/handler1`` as ``server``).  Long traces are cut
    after ``max_messages`` arrows, with a note saying so.
    """
    events = trace.events
    name = _component if components else str
    participants: dict[str, str] = {}

    def alias(thread: str) -> str:
        label = name(thread)
        if label not in participants:
            participants[label] = f"p{len(participants) + 1}"
        return participants[label]

    for thread in trace.threads:
        alias(thread)
    owner: dict[Any, str] = {}  # fd -> thread, for the open sockets
    peer_of: dict[Any, Any] = {}  # fd -> the fd at the other end
    sending: dict[tuple[str, Any], Any] = {}  # (thread, fd) -> bytes a sendall() in progress sends
    lines: list[str] = []
    for event in events:
        f, kind = event.fields, event.kind
        if kind == "call" and f.get("op") == "sendall":
            sending[(event.thread, event.obj)] = f.get("n")
        elif kind == "state" and f.get("from") is None:
            owner[event.obj] = str(f.get("owner") or event.thread)
        elif kind == "meet":
            client, server = f.get("client"), f.get("server")
            peer_of[client], peer_of[server] = server, client
            a, b = alias(str(f.get("connect"))), alias(str(f.get("accept")))
            if f.get("what") == "socketpair":
                lines.append(f"    Note over {a}: socketpair(): fd {client} <-> fd {server}")
            else:
                lines.append(
                    f"    {a}->>{b}: connect() to {f.get('addr')} / accept() gives fd {server}"
                )
        elif kind == "refused":
            lines.append(
                f"    Note over {alias(event.thread)}: connect() to {f.get('addr')} refused"
            )
        elif kind == "return" and f.get("op") in ("send", "sendall", "sendto") and "error" not in f:
            other = owner.get(peer_of.get(event.obj))
            if other is not None:
                count = (
                    f.get("result")
                    if f.get("op") != "sendall"
                    else sending.pop((event.thread, event.obj), "?")
                )
                lines.append(
                    f"    {alias(event.thread)}->>{alias(other)}: {count} bytes (fd {event.obj})"
                )
        elif kind == "return" and f.get("op") == "shutdown" and "error" not in f:
            other = owner.get(peer_of.get(event.obj))
            if other is not None:
                lines.append(
                    f"    {alias(event.thread)}-->>{alias(other)}: shutdown (fd {event.obj})"
                )
        elif kind == "state" and f.get("to") == "CLOSED":
            other = owner.get(peer_of.get(event.obj))
            if other is not None and f.get("from") not in ("RESET", "REFUSED"):
                lines.append(
                    f"    {alias(event.thread)}-->>{alias(other)}: close() fd {event.obj}: EOF"
                )
        elif kind == "deadlock":
            everyone = ",".join(participants.values())
            lines.append(f"    Note over {everyone}: DEADLOCK")
    cut = len(lines) > max_messages
    lines = lines[:max_messages]
    head = ["sequenceDiagram"] + [
        f"    participant {code} as {label}" for label, code in participants.items()
    ]
    if cut:
        lines.append(
            f"    Note over {next(iter(participants.values()))}: ... cut after {max_messages} "
            "arrows"
        )
    return "\n".join(head + lines) + "\n"
