"""Exports: pandas and CSV tables, Chrome trace events (Perfetto), Mermaid diagrams; the CLI."""

from __future__ import annotations

import csv
import json
import pathlib
import re
import sys
from collections import Counter, defaultdict

import pytest

import sockviz
from sockviz._cli._main import main

from .scenarios import scenario_trace

# -- pandas and CSV ------------------------------------------------------------------------


def test_to_pandas_has_a_row_per_event_and_the_fields_as_columns(echo: sockviz.Trace) -> None:
    """One row per event, tidy base columns first, every field name a column of its own."""
    frame = echo.to_pandas()
    assert len(frame) == len(echo)
    assert list(frame.columns[:5]) == ["seq", "t_ns", "thread", "kind", "obj"]
    assert {"op", "until", "peer_owner", "cause", "fill", "to"} <= set(frame.columns)
    meets = frame[frame["kind"] == "meet"]
    assert sorted(meets["connect"]) == ["alice", "bob"]
    assert frame["seq"].is_monotonic_increasing


def test_waits_and_meetings_as_dataframes(echo: sockviz.Trace) -> None:
    """waits() and meetings() come as DataFrames with a column per attribute."""
    waits = echo.to_pandas("waits")
    assert len(waits) == len(echo.waits()) and {
        "thread",
        "what",
        "start_ns",
        "end_ns",
        "waker",
        "duration_ns",
    } <= set(waits.columns)
    assert list(waits["duration_ns"]) == [w.duration_ns for w in echo.waits()]
    meetings = echo.to_pandas("meetings")
    assert list(meetings["accept_thread"]) == ["server", "server"]
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        echo.to_pandas("nope")


def test_to_pandas_without_pandas_says_how_to_get_it(
    echo: sockviz.Trace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandas is optional: without it, to_pandas() raises ImportError naming the install command."""
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'sockviz\[pandas\]'"):
        echo.to_pandas()


def test_to_csv_needs_no_pandas(echo: sockviz.Trace, tmp_path: pathlib.Path) -> None:
    """The CSV has the same columns and rows; nested values are written as JSON."""
    path = tmp_path / "t.csv"
    echo.to_csv(path)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == len(echo) and list(rows[0])[:5] == ["seq", "t_ns", "thread", "kind", "obj"]
    assert [r["kind"] for r in rows] == [e.kind for e in echo]
    deadlock = scenario_trace("deadlock", "weldr")
    deadlock.to_csv(path)
    row = next(r for r in csv.DictReader(path.open()) if r["kind"] == "deadlock")
    assert set(json.loads(row["waits"])) == {"client", "server"}


# -- Chrome trace events ---------------------------------------------------------------------------


def _check_chrome(document: dict) -> list[dict]:
    """The Trace Event Format's rules that Perfetto enforces, checked one by one."""
    events = document["traceEvents"]
    names: dict[tuple[int, int], str] = {}
    for event in events:
        assert {"name", "ph", "pid", "tid"} <= set(event), event
        if event["ph"] == "M":
            if event["name"] == "thread_name":
                names[(event["pid"], event["tid"])] = event["args"]["name"]
            continue
        assert isinstance(event["ts"], int | float) and event["ts"] >= 0, event
        if event["ph"] == "X":
            assert isinstance(event["dur"], int | float) and event["dur"] > 0, event
        if event["ph"] == "i":
            assert event.get("s") in ("t", "p", "g"), event
        assert event["ph"] in ("X", "i", "s", "f", "M"), event
    used = {(e["pid"], e["tid"]) for e in events if e["ph"] != "M" and e["pid"] == 1}
    assert used <= set(names), "every thread track is named"
    flows: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        if event["ph"] in ("s", "f"):
            flows[event["id"]].append(event)
    slices = [e for e in events if e["ph"] == "X"]
    tracks: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for s in slices:  # in whole nanoseconds, as Perfetto stores them
        start = round(s["ts"] * 1000)
        tracks[(s["pid"], s["tid"])].append((start, start + round(s["dur"] * 1000)))
    for track, spans in tracks.items():  # slices on one track nest, never partly overlap
        stack: list[tuple[int, int]] = []
        for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
            while stack and stack[-1][1] <= start:
                stack.pop()
            assert not stack or end <= stack[-1][1], (track, stack[-1], (start, end))
            stack.append((start, end))
    for ident, pair in flows.items():
        assert sorted(e["ph"] for e in pair) == ["f", "s"], ident
        start, finish = sorted(pair, key=lambda e: e["ph"] == "f")
        assert start["cat"] == finish["cat"] and finish["ts"] >= start["ts"]
        for end in pair:  # each end binds to a slice on its own track at its time
            assert any(
                s["pid"] == end["pid"]
                and s["tid"] == end["tid"]
                and s["ts"] <= end["ts"] <= s["ts"] + s["dur"]
                for s in slices
            ), end
    return events


def test_chrome_trace_follows_the_trace_event_format(
    echo: sockviz.Trace, tmp_path: pathlib.Path
) -> None:
    """Required fields, named tracks, paired flow events bound to slices: what Perfetto needs."""
    path = tmp_path / "t.json"
    echo.to_chrome_trace(path)
    document = json.loads(path.read_text())
    events = _check_chrome(document)
    tracks = {e["args"]["name"] for e in events if e["name"] == "thread_name" and e["pid"] == 1}
    assert tracks == set(echo.threads)
    cats = Counter(e["cat"] for e in events if e["ph"] == "s")
    # the export is the whole record: the network's own lock waits included
    every_wait = echo.waits(internals=True)
    assert cats["meeting"] == 2 and cats["wake-up"] == len([w for w in every_wait if w.waker])
    waits = [e for e in events if e.get("cat") == "wait"]
    assert len(waits) == len(every_wait) and any(e["name"] == "waits: accept" for e in waits)
    modes = [e["name"] for e in events if e.get("cat") == "state"]
    assert modes.count("LISTEN") == 1 and modes.count("CLOSED") == 5
    assert document["otherData"]["sockviz"]["semantics"] == "weldr"


@pytest.mark.parametrize("name", ["deadlock", "backpressure", "backlog"])
def test_chrome_trace_of_every_scenario_is_valid(name: str, tmp_path: pathlib.Path) -> None:
    """Unfinished waits and calls (a deadlock) still give well-formed slices."""
    path = tmp_path / "t.json"
    scenario_trace(name, "strict").to_chrome_trace(path)
    _check_chrome(json.loads(path.read_text()))


# -- Mermaid -------------------------------------------------------------------------------------

_MERMAID_LINE = re.compile(
    r"^(sequenceDiagram|    participant p\d+ as [\w/.-]+|    p\d+-{1,2}>>p\d+: [^\n;#]+|    Note "
    r"over [p\d,]+: [^\n;#]+)$"
)


def test_mermaid_draws_connections_data_and_closes(echo: sockviz.Trace) -> None:
    """One participant per component, an arrow per connection and per send, close arrows with
    EOF."""
    text = echo.to_mermaid()
    lines = text.splitlines()
    assert all(_MERMAID_LINE.match(line) for line in lines), [
        line for line in lines if not _MERMAID_LINE.match(line)
    ]
    assert lines[1:4] == [
        "    participant p1 as server",
        "    participant p2 as alice",
        "    participant p3 as bob",
    ]
    assert "    p2->>p1: connect() to 127.0.0.1:8080 / accept() gives fd" in text.replace(
        text.split("gives fd")[1].split("\n")[0], ""
    )
    assert sum("bytes" in line for line in lines) == 6  # hello, bye, hi there: there and back
    assert sum(": close() fd" in line for line in lines) == 4
    threads = echo.to_mermaid(components=False)
    assert (
        re.search(r"participant p\d as server/handler1", threads) and "server/handler1" not in text
    )


def test_mermaid_is_cut_with_a_note_when_long(echo: sockviz.Trace) -> None:
    """max_messages bounds the diagram and says it was cut."""
    text = echo.to_mermaid(max_messages=3)
    assert text.count("->>") == 3 and "cut after 3 arrows" in text


# -- the CLI ---------------------------------------------------------------------------------------


def test_cli_summary_prints_the_tables_and_the_timeline(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sockviz summary` prints sockets, meetings, waits and the timeline of a trace file."""
    path = tmp_path / "t.jsonl"
    scenario_trace("echo", "weldr").save(path)
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "sockets (5):" in out and "meetings (2):" in out and "waits (" in out and "timeline:" in out
    )
    assert "NOT_INIT > CONNECTING > OUTBOUND > CLOSED" in out and "MEET alice (connect" in out
    assert main(["summary", str(path), "--brief", "--threads", "alice"]) == 0
    out = capsys.readouterr().out
    assert "timeline:" not in out and "threads: alice\n" in out


def test_cli_export_writes_every_format(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sockviz export` writes Chrome JSON, CSV (any table) and a Mermaid Markdown file."""
    path = tmp_path / "t.jsonl"
    scenario_trace("echo", "weldr").save(path)
    chrome, table, mermaid = tmp_path / "c.json", tmp_path / "w.csv", tmp_path / "m.md"
    assert (
        main(
            [
                "export",
                str(path),
                "--chrome",
                str(chrome),
                "--csv",
                str(table),
                "--table",
                "waits",
                "--mermaid",
                str(mermaid),
            ]
        )
        == 0
    )
    _check_chrome(json.loads(chrome.read_text()))
    assert "waker" in table.read_text().splitlines()[0]
    assert mermaid.read_text().startswith("```mermaid\nsequenceDiagram\n")
    assert "wrote" in capsys.readouterr().out


def test_cli_reports_bad_files_without_a_traceback(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing or malformed trace is one line on stderr and exit status 1; no output asked for is
    a usage error."""
    assert main(["summary", str(tmp_path / "missing.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "sockviz-trace", "version": 1}\n{nope}\n')
    assert main(["export", str(bad), "--csv", str(tmp_path / "x.csv")]) == 1
    assert f"{bad}, line 2: not valid JSON" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["export", str(bad)])
    assert info.value.code == 2 and "--chrome, --csv and/or --mermaid" in capsys.readouterr().err


def test_cli_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """Each command's --help ends with examples."""
    for command in ("summary", "export", "demo"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "examples:" in capsys.readouterr().out
