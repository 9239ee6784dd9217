"""environment.yml (conda) installs what pyproject.toml promises: the same packages, the same
versions."""

from __future__ import annotations

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).parent.parent

#: The extras a conda user gets: the runtime, the notebooks, fast trace files, pandas.
EXTRAS = ("lab", "fast", "pandas")


def _requirement(text: str) -> tuple[str, str]:
    """'matplotlib>=3.7  # why' -> ('matplotlib', '>=3.7')."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*([<>=!~][^#\s]*)?\s*(#.*)?", text)
    assert match, f"not a requirement: {text!r}"
    return match[1].lower(), match[2] or ""


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in EXTRAS:
        lines += project["optional-dependencies"][extra]
    return dict(_requirement(line) for line in lines)


def _environment() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    body = text.split("dependencies:", 1)[1]
    entries = re.findall(r"^  - ([^\n]+)$", body, flags=re.M)  # top-level conda entries, not pip's
    wanted = [entry for entry in entries if not entry.startswith(("python", "pip"))]
    return dict(_requirement(entry) for entry in wanted)


def test_environment_yml_lists_the_packages_and_versions_pyproject_promises() -> None:
    assert _environment() == _pyproject()


def test_environment_yml_installs_the_project_itself() -> None:
    text = (ROOT / "environment.yml").read_text()
    assert "- -e ." in text and "python>=3.11" in text
