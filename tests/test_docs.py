"""The docs say what the code does: tables generated from the code are current."""

from __future__ import annotations

import pathlib

import sockviz
from sockviz._net._modes import completions_table, markdown_table

DOCS = pathlib.Path(__file__).parent.parent / "docs"


def _between(text: str, marker: str) -> str:
    return text.split(f"<!-- {marker}:start -->")[1].split(f"<!-- {marker}:end -->")[0].strip()


def test_design_doc_shows_the_current_mode_table() -> None:
    """docs/design.md includes exactly the table generated from TRANSITIONS and REFUSALS."""
    assert _between((DOCS / "design.md").read_text(), "mode-table") == markdown_table()


def test_design_doc_shows_the_current_completions_table() -> None:
    """docs/design.md includes exactly the table generated from COMPLETIONS."""
    assert _between((DOCS / "design.md").read_text(), "completions-table") == completions_table()


def test_trace_format_doc_lists_every_event_kind() -> None:
    """docs/trace-format.md has a row for every kind in sockviz.lowlevel.KINDS, with its meaning."""
    rows = _between((DOCS / "trace-format.md").read_text(), "kinds").splitlines()[2:]
    documented = {row.split("|")[1].strip().strip("`"): row.split("|")[2].strip() for row in rows}
    assert documented == sockviz.lowlevel.KINDS


def test_trace_format_doc_lists_what_ends_a_wait() -> None:
    """docs/trace-format.md has a row for every word of the wait vocabulary (the `until` field)."""
    from sockviz._core._events import UNTIL

    rows = _between((DOCS / "trace-format.md").read_text(), "until").splitlines()[2:]
    assert {
        row.split("|")[1].strip().strip("`"): row.split("|")[2].strip() for row in rows
    } == UNTIL


def test_every_recorded_kind_is_documented() -> None:
    """A demo run records only kinds that KINDS (and so the format doc) describes."""
    from sockviz.scenarios import echo_scenario

    trace = sockviz.weld(echo_scenario())
    assert {event.kind for event in trace} <= set(sockviz.lowlevel.KINDS)


def test_trace_format_example_is_a_loadable_trace() -> None:
    """The example in docs/trace-format.md is a real trace file that sockviz loads."""
    from sockviz._trace._fileio import parse

    text = (DOCS / "trace-format.md").read_text()
    example = text.split("## An example", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    trace = parse(example, "trace-format.md")
    assert len(trace) == len(example.splitlines()) - 1
    assert trace.meta["semantics"] == "strict"
    assert trace.narrate(len(trace) - 1).startswith(
        "fd 5 of alice goes from CONNECTING to OUTBOUND"
    )


def test_the_readme_examples_run(tmp_path: pathlib.Path, monkeypatch: object) -> None:
    """The README's ten lines, then its schedule examples, run as written."""
    import re

    readme = (DOCS.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    ten_lines = next(b for b in blocks if "def server():" in b)
    schedules = next(b for b in blocks if "sockviz.explore(" in b)
    monkeypatch.chdir(tmp_path)  # type: ignore[attr-defined]
    namespace: dict[str, object] = {}
    exec(compile(ten_lines + schedules, "README.md", "exec"), namespace)
    found = namespace["found"]
    assert isinstance(found, sockviz.Exploration) and len(found.runs) == 20
    assert namespace["trace"].meetings()  # type: ignore[attr-defined]
    # the client came first in some runs...
    assert {o.status for o in found.outcomes} == {"finished", "error"}
    # ... was refused, and left the server waiting
    [refused] = [o for o in found.outcomes if o.status == "error"]
    assert refused.detail.startswith(
        "client: ConnectionRefusedError; then stuck: server in accept()"
    )
    assert (tmp_path / "echo.jsonl").exists()


def test_the_instructors_guide_names_every_lesson_and_only_lessons() -> None:
    """docs/instructors.md has a section per notebook in notebooks/, and names no other; each
    section says its objectives, prerequisites, timing and misconceptions."""
    import re

    guide = (DOCS / "instructors.md").read_text()
    named = re.findall(r"^### \d\d · .*\(`(\w+)`\)$", guide, flags=re.MULTILINE)
    lessons = sorted(p.stem for p in (DOCS.parent / "notebooks").glob("*.ipynb"))
    assert sorted(named) == lessons
    sections = re.split(r"^### ", guide, flags=re.MULTILINE)[1:]
    for section in sections:
        for part in ("**Objectives:**", "**Prerequisites:**", "**Timing:**", "**Misconceptions:**"):
            assert part in section, (section.splitlines()[0], part)
    minutes = [int(m) for m in re.findall(r"\*\*Timing:\*\* (\d+) minutes", guide)]
    assert len(minutes) == len(lessons) and all(5 <= m <= 90 for m in minutes)
    assert not (DOCS.parent / "notebooks" / "solutions.md").exists()  # not beside the students'
    assert (DOCS / "solutions.md").exists()
