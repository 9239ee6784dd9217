"""Imports run one way: views -> trace -> engine; model -> engine only (docs/design.md).

Read from the source with ``ast``: every import a module makes when it runs
(those under ``if TYPE_CHECKING:`` are for annotations only, and left out).
The test names every import against the rules.
"""

from __future__ import annotations

import ast
import pathlib

SRC = pathlib.Path(__file__).parent.parent / "src" / "sockviz"

#: What each layer may import of sockviz (a package and everything under it). The engine (_core: the
#: event contract, the recorder, the primitives, the tracker, the baton) sits under the model (_net)
#: and the read side (_trace); the weld, the views and the command line sit above them and are not
#: limited.
LAYERS = {
    "sockviz._core": ("sockviz._core", "sockviz._errors"),
    "sockviz._net": ("sockviz._net", "sockviz._core", "sockviz._errors"),
    "sockviz._trace": ("sockviz._trace", "sockviz._core", "sockviz._errors"),
}
VIEW_LIBRARIES = ("matplotlib", "ipywidgets", "ipympl")


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: pathlib.Path, module: str | None = None) -> set[str]:
    """The absolute names of the modules ``path`` (the module ``module``) imports when it runs."""
    tree = ast.parse(path.read_text())
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # "from . import _realprograms" imports a module
                candidate = f"{target}.{alias.name}"
                is_module = (SRC.parent / (candidate.replace(".", "/") + ".py")).exists()
                names.add(candidate if is_module else target)
    return names


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _violations(extra: dict[str, pathlib.Path] | None = None) -> set[tuple[str, str]]:
    found = set()
    modules = {_module_name(path): path for path in sorted(SRC.rglob("*.py"))} | (extra or {})
    for module, path in modules.items():
        for name in _runtime_imports(path, module):
            top = name.split(".")[0]
            if top in VIEW_LIBRARIES and not module.startswith("sockviz._views"):
                found.add((module, top))
            if not name.startswith("sockviz"):
                continue
            for layer, allowed in LAYERS.items():
                if _under(module, layer) and not any(_under(name, below) for below in allowed):
                    found.add((module, name))
    return found


def test_imports_run_one_way() -> None:
    assert _violations() == set(), "imports against the layout's rules"


def test_the_check_sees_an_import_against_the_rules(tmp_path: pathlib.Path) -> None:
    """The reader itself: a model module importing the weld is seen; one under TYPE_CHECKING is
    not."""
    source = (
        "from typing import TYPE_CHECKING\nfrom .._weld._weld import weld\nif TYPE_CHECKING:\n    "
        "from .._views import _plots\n"
    )
    probe = tmp_path / "_layout_probe.py"
    probe.write_text(source)
    assert _runtime_imports(probe, "sockviz._net._layout_probe") == {
        "typing",
        "sockviz._weld._weld",
    }
    assert ("sockviz._net._layout_probe", "sockviz._weld._weld") in _violations(
        {"sockviz._net._layout_probe": probe}
    )
