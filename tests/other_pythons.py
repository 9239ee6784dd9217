"""Run the whole test suite again under every other supported Python found on this machine.

``make test`` runs the suite under the Python of ``.venv``; then this script
looks for the other supported versions (``python3.12`` on the PATH, or
pyenv's ``~/.pyenv/versions/3.12.*``), makes a virtual environment for each
(``.venv-3.12``, installed like ``.venv``) and runs pytest there.  A version
that is not on the machine is skipped with a note; any failure fails the
whole run.  Usage: ``python tests/other_pythons.py [pytest arguments]``.
"""

from __future__ import annotations

import glob
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: The versions sockviz supports (and pyproject's classifiers name).
SUPPORTED = ("3.11", "3.12", "3.13")


def _runs(python: str, version: str) -> bool:
    """Does ``python`` start, and is it ``version``? (pyenv's shims exist even for versions not
    enabled)."""
    ask = "import sys; print('{}.{}'.format(*sys.version_info[:2]))"
    try:
        done = subprocess.run([python, "-c", ask], capture_output=True, text=True, timeout=30)
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def find(version: str) -> str | None:
    """An interpreter of ``version``: on the PATH, else one of pyenv's."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(
        glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"), reverse=True
    )
    return next((c for c in candidates if c and _runs(c, version)), None)


def venv_for(python: str, version: str) -> pathlib.Path:
    """``.venv-VERSION`` with sockviz and its extras installed (again only when pyproject.toml
    changed)."""
    venv = ROOT / f".venv-{version}"
    bin_python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not bin_python.exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        subprocess.run(
            [str(bin_python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True
        )
        subprocess.run(
            [str(bin_python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[lab,dev]"],
            check=True,
        )
        stamp.touch()
    return bin_python


def main(pytest_args: list[str]) -> int:
    here = "{}.{}".format(*sys.version_info[:2])
    failed: list[str] = []
    for version in SUPPORTED:
        if version == here:
            continue
        python = find(version)
        if python is None:
            print(f"other Pythons: no Python {version} on this machine: skipped")
            continue
        print(f"other Pythons: the suite under {python}", flush=True)
        code = subprocess.run(
            [str(venv_for(python, version)), "-m", "pytest", *pytest_args], cwd=ROOT, check=False
        ).returncode
        if code != 0:
            failed.append(version)
    if failed:
        print(f"other Pythons: the suite failed under Python {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
