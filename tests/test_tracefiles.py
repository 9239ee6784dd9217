"""Trace files for every scenario: round trips, streaming, damaged files, both JSON backends."""

from __future__ import annotations

import gzip
import json
import pathlib
import re

import pytest

import sockviz
import sockviz.lowlevel
from sockviz._trace import _json
from sockviz.scenarios import backpressure_scenario

from .scenarios import SCENARIOS, scenario_trace


@pytest.fixture(params=["msgspec", "stdlib"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with msgspec and again with the standard library's json."""
    if request.param == "stdlib":
        monkeypatch.setattr(_json, "encode", _json._stdlib_encode)
        monkeypatch.setattr(_json, "encode_lines", _json._stdlib_encode_lines)
        monkeypatch.setattr(_json, "encode_events", _json._stdlib_encode_events)
        monkeypatch.setattr(_json, "encode_recorded", _json._stdlib_encode_recorded)
        monkeypatch.setattr(_json, "decode_events", _json._stdlib_decode_events)
    else:
        assert _json.BACKEND == "msgspec", "the dev extra installs msgspec"
    return request.param


@pytest.mark.parametrize("semantics", ["weldr", "strict"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_round_trips(name: str, semantics: str, tmp_path: pathlib.Path) -> None:
    """Every demo scenario's trace saves and loads back equal, as .jsonl and .jsonl.gz."""
    trace = scenario_trace(name, semantics)
    for file in (tmp_path / "t.jsonl", tmp_path / "t.jsonl.gz"):
        trace.save(file)
        loaded = sockviz.load(file)
        assert loaded.events == trace.events
        assert loaded.meta == json.loads(json.dumps(trace.meta))
    assert (
        gzip.decompress((tmp_path / "t.jsonl.gz").read_bytes())
        == (tmp_path / "t.jsonl").read_bytes()
    )


def test_both_backends_write_and_read_the_same(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """msgspec and the standard library write files that each other read back equal."""
    trace = scenario_trace("echo", "weldr")
    fast, slow = tmp_path / "fast.jsonl", tmp_path / "slow.jsonl"
    trace.save(fast)
    with monkeypatch.context() as patch:
        patch.setattr(_json, "encode", _json._stdlib_encode)
        patch.setattr(_json, "encode_lines", _json._stdlib_encode_lines)
        patch.setattr(_json, "encode_events", _json._stdlib_encode_events)
        patch.setattr(_json, "encode_recorded", _json._stdlib_encode_recorded)
        patch.setattr(_json, "decode_events", _json._stdlib_decode_events)
        trace.save(slow)
        assert sockviz.load(fast) == trace
    assert sockviz.load(slow) == trace
    assert fast.read_bytes() == slow.read_bytes()  # (byte for byte the same file)
    assert [json.loads(line) for line in fast.read_text().splitlines()] == [
        json.loads(line) for line in slow.read_text().splitlines()
    ]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_fresh_weld_saves_the_file_its_events_make(name: str, tmp_path: pathlib.Path) -> None:
    """A weld's trace whose events nobody has read is written straight from the recorder: byte
    for byte the file the same trace writes once its events are built."""
    trace = scenario_trace(name, "strict")
    # (a deadlock's trace comes from its error, whose message read the events)
    assert (trace._recorded() is None) == (name == "deadlock"), "a weld's trace starts unread"
    fresh, built = tmp_path / "fresh.jsonl", tmp_path / "built.jsonl"
    trace.save(fresh)
    assert (trace._recorded() is None) == (name == "deadlock"), "saving builds no events"
    trace.events  # noqa: B018
    trace.save(built)
    assert fresh.read_bytes() == built.read_bytes()
    assert sockviz.load(fresh) == trace


def _recorded_trace(*events: tuple[object, ...]) -> sockviz.Trace:
    """A trace as a weld leaves it, from flat events ``(seq, clock, thread, kind, obj, name,
    value, ...)``."""
    from sockviz._core._recorder import RecordedEvents

    flat: list[object] = []
    for seq, clock, thread, kind, obj, *fields in events:
        flat += [clock << 32 | seq, thread, kind, obj, len(fields), *fields]
    return sockviz.Trace(RecordedEvents([], flat, 0, len(flat), 1000), {})


@pytest.mark.parametrize(
    ("what", "events"),
    [
        ("recorded out of seq order", [(1, 1005, "b", "k", 1, "n", 2), (0, 1004, "a", "k", 1)]),
        ("a field name msgspec cannot take", [(0, 1001, "a", "k", "x", 'say "hi"', 1)]),
        (
            "a keyword and no fields",
            [(0, 1001, "a", "state", 3, "from", None), (1, 1002, "a", "z", 3)],
        ),
        ("an int beyond 64 bits", [(0, 1001, "a", "k", 1, "n", 1 << 70)]),
        ("a value JSON lacks", [(0, 1001, "a", "k", 1, "n", b"x", "m", 2.5)]),
    ],
)
def test_unusual_recorded_events_save_as_their_events_do(
    what: str, events: list[tuple[object, ...]], tmp_path: pathlib.Path
) -> None:
    """Whatever the fast writer cannot write as the events would be, it leaves to them."""
    trace = _recorded_trace(*events)
    fresh, built = tmp_path / "fresh.jsonl", tmp_path / "built.jsonl"
    trace.save(fresh)
    trace.events  # noqa: B018
    trace.save(built)
    assert fresh.read_bytes() == built.read_bytes(), what
    assert [e.seq for e in sockviz.load(fresh)] == sorted(e[0] for e in events)


def test_header_says_how_the_trace_was_recorded(tmp_path: pathlib.Path) -> None:
    """The header line names the format and version, semantics, buffer size, components and
    Python."""
    path = tmp_path / "t.jsonl"
    scenario_trace("echo", "strict", buffer_size=4096).save(path)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["format"] == "sockviz-trace" and header["version"] == 2
    assert header["semantics"] == "strict" and header["buffer_size"] == 4096
    assert header["components"] == ["server", "alice", "bob"]
    assert (
        header["python"].count(".") == 2 and header["recorded_by"] == "weld" and "created" in header
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_streamed_trace_of_a_deadlock_loads(tmp_path: pathlib.Path, suffix: str) -> None:
    """A weld killed by a deadlock leaves a streamed trace equal to the one the error carries."""
    path = tmp_path / f"deadlock{suffix}"
    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld(SCENARIOS["deadlock"](), trace_path=path)
    loaded = sockviz.load(path)
    assert loaded == info.value.trace
    waits = loaded.of_kind("deadlock")[0].fields["waits"]
    assert sorted(waits) == ["client", "server"]
    assert re.fullmatch(r"recv\(\) on fd \d+ waits for client to send", waits["server"])
    assert re.fullmatch(r"recv\(\) on fd \d+ waits for server to send", waits["client"])


def test_streamed_gzip_cut_short_loads_what_is_whole(tmp_path: pathlib.Path) -> None:
    """A .gz trace without its end (a killed run) loads its whole lines, with a warning."""
    path = tmp_path / "t.jsonl.gz"
    trace = scenario_trace("echo", "weldr")
    trace.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.warns(UserWarning, match="cut short"):
        loaded = sockviz.load(path)
    assert 0 < len(loaded) < len(trace)
    assert loaded.events == trace.events[: len(loaded)]


def test_a_last_line_without_newline_but_whole_loads_silently(
    tmp_path: pathlib.Path, recwarn: pytest.WarningsRecorder
) -> None:
    """Only an incomplete last line warns; a complete one without its newline is an event."""
    path = tmp_path / "t.jsonl"
    trace = scenario_trace("echo", "weldr")
    trace.save(path)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert sockviz.load(path) == trace
    assert not recwarn.list


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda line: line[: len(line) // 2] + "}", "not valid JSON"),
        (lambda line: line.replace('"seq":', '"sequence":'), "event lacks 'seq'"),
        (lambda line: line.replace('"t_ns":', '"t_ns":true,"x":'), "'t_ns' must be int, not bool"),
        (
            lambda line: (
                line.replace('"fields":{', '"fields":[{').replace("}}", "}]}")
                if '"fields":{}' not in line
                else line
            ),
            "'fields'",
        ),
        (lambda line: "[1, 2, 3]", "must be a JSON object, not list"),
        (
            lambda line: line.replace('"thread":"', '"thread":7,"t":"'),
            "'thread' must be str, not int",
        ),
    ],
)
def test_damage_deep_in_a_big_file_names_its_line(
    tmp_path: pathlib.Path, damage, problem: str
) -> None:
    """A bad line among hundreds is reported by number, whichever JSON backend reads it."""
    trace = scenario_trace("backlog", "weldr")
    path = tmp_path / "t.jsonl"
    trace.save(path)
    lines = path.read_text().splitlines()
    target = next(n for n in range(60, len(lines)) if '"kind":"call"' in lines[n])
    lines[target] = damage(lines[target])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(sockviz.TraceFormatError) as info:
        sockviz.load(path)
    assert info.value.line == target + 1
    assert problem in str(info.value)


def test_blank_lines_are_harmless(tmp_path: pathlib.Path) -> None:
    """Blank lines between events (an editor's doing) are skipped."""
    trace = scenario_trace("echo", "weldr")
    path = tmp_path / "t.jsonl"
    trace.save(path)
    path.write_text(path.read_text().replace("\n", "\n\n", 3))
    assert sockviz.load(path) == trace


def test_save_replaces_a_file_only_when_the_new_one_is_whole(tmp_path: pathlib.Path) -> None:
    """Saving over a trace leaves no temporary files, and a failed save leaves the old file."""
    path = tmp_path / "t.jsonl"
    trace = scenario_trace("echo", "weldr")
    trace.save(path)
    before = path.read_bytes()

    class Unwritable(sockviz.Trace):
        @property
        def events(self) -> list[sockviz.lowlevel.Event]:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        Unwritable([], {}).save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl"]


def test_fake_network_streams_its_trace_even_when_the_block_raises(tmp_path: pathlib.Path) -> None:
    """fake_network(trace_path=...) leaves a loadable trace when the with-block fails."""
    import socket

    path = tmp_path / "t.jsonl"
    seen: list[int] = []

    def session() -> None:
        with sockviz.fake_network(trace_path=path) as net:
            a, b = socket.socketpair()
            a.sendall(b"hi")
            assert b.recv(2) == b"hi"
            seen.append(len(net.trace))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        session()
    expected = seen[0]
    loaded = sockviz.load(path)
    assert loaded.meta["recorded_by"] == "fake_network" and len(loaded) >= expected
    assert loaded.meetings()[0].what == "socketpair"


def test_a_saved_trace_is_an_ordinary_file(tmp_path: pathlib.Path) -> None:
    """save() goes through a private temporary file, but the trace it leaves has the usual
    permissions."""
    import os
    import stat

    path = tmp_path / "t.jsonl"
    scenario_trace("echo").save(path)
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


SHIPPED = sorted((pathlib.Path(__file__).parent.parent / "notebooks" / "traces").glob("*.jsonl.gz"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_the_shipped_version_1_traces_load_with_structured_waits(path: pathlib.Path) -> None:
    """The lessons' traces were saved in format version 1 (a sentence per wait): they load as
    version 2, every socket wait with its call, descriptor and what ends it, and say the same things
    as before."""
    with gzip.open(path, "rt") as lines:
        header = json.loads(lines.readline())
        v1_sentences = [
            json.loads(line)["fields"].get("for")
            for line in lines
            if '"kind":"cond.wait"' in line or '"kind":"sem.wait"' in line
        ]
    assert header["version"] == 1 and v1_sentences
    trace = sockviz.load(path)
    waits = [w for w in trace.waits() if w.family != "lock"]
    assert len(waits) == len(v1_sentences)
    for wait, sentence in zip(waits, v1_sentences, strict=True):
        # the fields give back the very sentence -- except that a wait a handler ended now names
        # that handler, not the server thread that accepted the socket (which v1 said)
        named = (
            sentence.replace(f"waits for {wait.peer_owner} ", f"waits for {wait.waker} ")
            if wait.waker and wait.peer_owner and wait.waker != wait.peer_owner
            else sentence
        )
        assert wait.waits_for in (sentence, named)
    assert any(w.waits_for != s for w, s in zip(waits, v1_sentences, strict=True)) == (
        "echo" in path.name  # the echo server's handlers answer; the other traces' servers do
    )
    assert all(
        w.call in ("accept", "connect", "recv", "send") and w.until in sockviz.lowlevel.UNTIL
        for w in waits
    )
    assert all("for" not in e.fields for e in trace.events)
    assert not any("a wake-up" in trace.narrate(i) for i in range(len(trace)))


@pytest.mark.parametrize("size", [1, 7, 100, 5000])
def test_the_fast_loader_reads_a_body_in_pieces_of_whole_lines(size: int) -> None:
    """Pieces end with whole lines (even lines longer than the look-ahead); they add up to the
    body."""
    lines = [b"x" * length + b"\n" for length in (0, 3, 9000, 12, 4095, 4096, 1, 20000)]
    body = b"".join(lines)
    pieces = [bytes(piece) for piece in _json._pieces(memoryview(body), size)]
    assert b"".join(pieces) == body
    assert all(piece.endswith(b"\n") for piece in pieces)


def test_a_trace_of_many_pieces_loads_whole(tmp_path: pathlib.Path) -> None:
    """A file of more than three quarter-megabyte pieces (for the fast loader) loads every event."""
    # (a small buffer: a send waits, and is recorded, every 512 bytes)
    trace = sockviz.weld(backpressure_scenario(total=512 * 1024), buffer_size=512, echo=False)
    trace.save(tmp_path / "t.jsonl")
    assert (tmp_path / "t.jsonl").stat().st_size > 3 << 18
    assert sockviz.load(tmp_path / "t.jsonl") == trace
