"""Every notebook in notebooks/ runs top to bottom without an error."""

from __future__ import annotations

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: pathlib.Path) -> None:
    """The notebook executes headless in a fresh kernel, every cell, within 60 s."""
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "store notebooks without outputs"
    )
    NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.output_type == "error"]
    assert "Traceback" not in "".join(out.get("text", "") for out in outputs)
    sources = "".join(cell.source for cell in notebook.cells)
    if "sockviz.replay(" in sources:  # the widgets' outputs are there, not just their code
        assert any(
            "application/vnd.jupyter.widget-view+json" in out.get("data", {}) for out in outputs
        )
    if "lessons.check(" in sources:
        assert sources.count("lessons.check(") >= 2, (
            "each lesson has at least two checked exercises"
        )
        assert "## What you learned" in sources


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["inline", "widget"])
def test_views_work_in_a_kernel_with_either_backend(backend: str, tmp_path: pathlib.Path) -> None:
    """In a real kernel, with %matplotlib inline or ipympl's widget backend, the plots draw and the
    replay displays and steps."""
    code = [
        f"%matplotlib {backend}",
        "import sockviz, socket\nfrom sockviz.scenarios import echo_scenario\ntrace = "
        "sockviz.weld(echo_scenario())\nax = sockviz.plot_timeline(trace)\nax.figure",
        "r = sockviz.replay(trace)\nr",
        "r.step(); r.next_meeting(); print('index', r.index, r.current_event.kind)",
    ]
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in code]
    )
    NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.output_type == "error"]
    kinds = {mime for out in outputs for mime in out.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in kinds  # the replay (and ipympl's canvas)
    if backend == "inline":
        assert "image/png" in kinds
    assert "index " in "".join(out.get("text", "") for out in outputs) and "meet" in "".join(
        out.get("text", "") for out in outputs
    )


@pytest.mark.slow
@pytest.mark.parametrize("widget_state", ["not saved", "saved"])
def test_a_saved_replay_shows_its_picture_in_an_html_export(
    widget_state: str, tmp_path: pathlib.Path
) -> None:
    """Executed and exported with ``jupyter nbconvert --to html``, a replay shows its timeline
    (a PNG with the cursor drawn in) and the step's sentence, not ``VBox(...)``: with its widget
    state saved (the page's widget manager draws it) or not (JupyterLab's default: the static
    fallback in the display data is what shows)."""
    import base64
    import re

    from nbconvert import HTMLExporter

    code = [
        "import sockviz\nfrom sockviz.scenarios import echo_scenario\n"
        "trace = sockviz.weld(echo_scenario(), echo=False)",
        "sockviz.replay(trace)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code])
    NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    if widget_state == "not saved":
        notebook.metadata.pop("widgets", None)
    else:
        assert "application/vnd.jupyter.widget-state+json" in notebook.metadata["widgets"]
    path = tmp_path / "replayed.ipynb"
    nbformat.write(notebook, path)
    page, _resources = HTMLExporter().from_filename(str(path))
    assert "VBox(" not in page
    if widget_state == "not saved":
        pictures = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
        assert len(pictures) == 1
        assert base64.b64decode(pictures[0]).startswith(b"\x89PNG")
        assert "sockviz replay of 1" in page and "#0 of 1" in page and "server starts." in page
    else:  # the widget manager gets the state, picture included
        assert "application/vnd.jupyter.widget-state+json" in page
        assert "sockviz-static-replay" not in page or "widget-view+json" in page
