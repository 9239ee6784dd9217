"""Traces: events in order, text summaries, and files that round-trip or fail clearly."""

from __future__ import annotations

import gzip
import json
import pathlib

import pytest

import sockviz
from sockviz.scenarios import echo_scenario


@pytest.fixture(scope="module")
def demo_trace() -> sockviz.Trace:
    return sockviz.weld(echo_scenario())


def test_events_are_in_seq_order_with_every_field(demo_trace: sockviz.Trace) -> None:
    """Events come in seq order, each with seq, t_ns, thread, kind, obj and a dict of fields."""
    seqs = [e.seq for e in demo_trace]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) == len(demo_trace)
    assert all(isinstance(e.fields, dict) and isinstance(e.t_ns, int) for e in demo_trace)
    assert {
        "call",
        "return",
        "state",
        "cond.wait",
        "cond.wake",
        "meet",
        "buf.write",
        "buf.read",
        "output",
    } <= {e.kind for e in demo_trace}
    assert set(demo_trace.threads) == {
        "server",
        "alice",
        "bob",
        "server/handler1",
        "server/handler2",
    }


def test_summary_is_a_readable_timeline(demo_trace: sockviz.Trace) -> None:
    """The summary has a line per socket call, the meetings and who woke whom."""
    text = demo_trace.summary()
    assert "MEET alice (connect" in text and "MEET bob (connect" in text
    assert "waits on fd" in text and "woken on" in text and " by " in text
    assert "prints \"alice got back 'hello'\"" in text
    assert len(demo_trace.summary(detail=True).splitlines()) > len(text.splitlines())


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_save_and_load_round_trip(
    demo_trace: sockviz.Trace, tmp_path: pathlib.Path, suffix: str
) -> None:
    """A saved trace loads back with equal events and its header metadata."""
    path = tmp_path / f"t{suffix}"
    demo_trace.save(path)
    loaded = sockviz.load(path)
    assert loaded == demo_trace
    assert loaded.meta["semantics"] == "strict" and loaded.meta["components"] == [
        "server",
        "alice",
        "bob",
    ]


def test_streamed_trace_of_a_failing_component_loads(tmp_path: pathlib.Path) -> None:
    """weld(trace_path=...) writes events as they happen; the file of a failed run loads."""
    path = tmp_path / "crash.jsonl"

    def broken() -> None:
        import socket

        socket.socket().bind(("127.0.0.1", 0))
        raise RuntimeError("crash")

    with pytest.raises(sockviz.ComponentError) as info:
        sockviz.weld(broken, trace_path=path)
    assert sockviz.load(path) == info.value.trace


def test_truncated_file_loads_up_to_the_last_whole_line_with_a_warning(
    demo_trace: sockviz.Trace, tmp_path: pathlib.Path
) -> None:
    """A file cut in the middle of its last line loads the whole lines and warns."""
    path = tmp_path / "cut.jsonl"
    demo_trace.save(path)
    text = path.read_text()
    path.write_text(text[: len(text) - 30])
    with pytest.warns(UserWarning, match="cut short"):
        loaded = sockviz.load(path)
    assert loaded.events == demo_trace.events[: len(loaded)]
    assert len(loaded) == len(demo_trace) - 1


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("", 1, "empty file"),
        ('{"format": "other", "version": 1}\n', 1, "not a sockviz trace"),
        ('{"format": "sockviz-trace", "version": 99}\n', 1, "newer than this sockviz reads"),
        ('{"format": "sockviz-trace"}\n', 1, "no integer"),
        ('{"format": "sockviz-trace", "version": 1}\n{oops}\n{"x": 1}\n', 2, "not valid JSON"),
        ('{"format": "sockviz-trace", "version": 1}\n[1, 2]\n', 2, "must be a JSON object"),
        ('{"format": "sockviz-trace", "version": 1}\n{"seq": 0}\n', 2, "event lacks 't_ns'"),
        (
            '{"format": "sockviz-trace", "version": 1}\n'
            + json.dumps(
                {"seq": "0", "t_ns": 0, "thread": "a", "kind": "k", "obj": 1, "fields": {}}
            )
            + "\n",
            2,
            "'seq' must be int",
        ),
        ("not json at all\n", 1, "not a JSON header"),
    ],
)
def test_malformed_files_name_the_line_and_the_problem(
    tmp_path: pathlib.Path, content: str, line: int, problem: str
) -> None:
    """Every malformed file raises TraceFormatError with the file, the line number and the
    problem."""
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(sockviz.TraceFormatError) as info:
        sockviz.load(path)
    assert info.value.line == line
    assert problem in str(info.value)
    assert str(info.value).startswith(f"{path}, line {line}: ")


def test_corrupt_gzip_is_a_format_error(tmp_path: pathlib.Path) -> None:
    """A .gz file that is not gzip raises TraceFormatError, not a raw zlib error."""
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(b"definitely not gzip")
    with pytest.raises(sockviz.TraceFormatError, match="gzip"):
        sockviz.load(path)
    path.write_bytes(gzip.compress(b'{"format": "sockviz-trace", "version": 1}\n'))
    assert len(sockviz.load(path)) == 0


def test_missing_file_raises_file_not_found(tmp_path: pathlib.Path) -> None:
    """Loading a path that does not exist raises FileNotFoundError."""
    with pytest.raises(FileNotFoundError):
        sockviz.load(tmp_path / "nope.jsonl")


def test_a_finished_welds_events_read_alike_every_way() -> None:
    """A weld's trace keeps the recorder's flat list and reads tuples from it on demand: by
    iteration, by index (negative too), by slice, pickled; the same events every way."""
    import pickle

    from sockviz._core._recorder import RecordedEvents

    trace = sockviz.weld(echo_scenario(), echo=False)
    raw = trace._raw
    assert isinstance(raw, RecordedEvents)
    tuples = list(raw)
    assert len(raw) == len(tuples) == len(trace) > 50
    assert [raw[i] for i in range(len(raw))] == tuples
    assert raw[-1] == tuples[-1] and raw[-len(raw)] == tuples[0]
    assert raw[3:10:2] == tuples[3:10:2] and raw[::-1] == tuples[::-1]
    with pytest.raises(IndexError):
        raw[len(raw)]
    with pytest.raises(IndexError):
        raw[-len(raw) - 1]
    assert pickle.loads(pickle.dumps(raw)) == tuples
    assert [e.seq for e in trace.events] == sorted(t[0] for t in tuples)
    assert trace._raw is trace.events  # (the tuples are let go once the events are built)
