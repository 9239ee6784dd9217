"""A JupyterLab served on localhost and Debian's headless Chromium, for the browser tests.

The recipe is ``../shared/BROWSER-TESTING.md``'s: JupyterLab without a token
on a free port with private settings and runtime folders, Chromium launched
by Playwright from ``/usr/bin/chromium`` (Playwright's own browser download
does not work here; ``make test`` installs Chromium with apt when missing).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Screenshots land here (kept after the run, ignored by git): look at them.
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def jupyterlab(notebooks: Path, scratch: Path) -> Iterator[str]:
    """Serve a copy of ``notebooks`` with JupyterLab; yields the base URL."""
    root = scratch / "notebooks"
    shutil.copytree(notebooks, root)
    settings = scratch / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    notebook_settings = scratch / "settings" / "@jupyterlab" / "notebook-extension"
    notebook_settings.mkdir(parents=True)
    # render every cell (JupyterLab otherwise skips cells far from the view, and they never become
    # visible)
    (notebook_settings / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"})
    )
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", "--ServerApp.token=", "--ServerApp.password=",
        "--IdentityProvider.token=",
        f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={scratch / 'workspaces'}",
        f"--LabApp.user_settings_dir={scratch / 'settings'}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def answers() -> None:
        with urllib.request.urlopen(f"{url}/api/status", timeout=2):
            pass

    with _serving("JupyterLab", command, scratch, answers, cwd=root):
        yield url


def run_all(page: object, url: str, notebook: str) -> None:
    """Open ``notebook`` in JupyterLab, wait for its kernel, and run every cell."""
    page.goto(f"{url}/lab/tree/{notebook}?reset")  # type: ignore[attr-defined]  # a fresh workspace: only this notebook
    page.wait_for_selector(".jp-Notebook", timeout=60_000)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog .jp-mod-accept")  # type: ignore[attr-defined]
        if dialog.count():
            dialog.first.click()
        if page.get_by_text("Python 3 (ipykernel) | Idle").count():  # type: ignore[attr-defined]
            break
        time.sleep(0.3)
    else:
        raise TimeoutError("the kernel did not become idle")
    page.get_by_role("menuitem", name="Run", exact=True).click()  # type: ignore[attr-defined]
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()  # type: ignore[attr-defined]
    # the prompts turn to "[*]:" as the cells are queued (a notebook saved with its outputs shows
    # numbers until then)
    queued = page.locator(".jp-NotebookPanel:visible .jp-InputPrompt", has_text="[*]")  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while not queued.count() and time.monotonic() < deadline:
        time.sleep(0.1)


#: The prompts of the visible notebook's code cells: "[7]:" has run, "[*]:" is queued or running,
#: "[ ]:" has not run (after Run All: the run stopped at a cell that raised, before it).
_PROMPTS = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
  .map(p => p.innerText.trim())"""
#: What the visible notebook printed to stderr: a traceback is rendered as stderr text.
_STDERR = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) [data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(o => o.innerText)"""


def wait_until_every_cell_ran(page: object, within: float) -> None:
    """After ``run_all``: wait until every cell has run (a loaded machine can take minutes). If
    the run stops early -- a cell raised, so Run All left the cells after it unrun -- fail at
    once with what the notebook printed to stderr (a screenshot goes to the artifacts)."""
    deadline = time.monotonic() + within
    while True:
        prompts: list[str] = page.evaluate(_PROMPTS)  # type: ignore[attr-defined]
        if prompts and all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts):
            return
        stopped = "[*]:" not in prompts and "[ ]:" in prompts
        if stopped or time.monotonic() > deadline:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "stopped-run.png"), full_page=True)  # type: ignore[attr-defined]
            printed = "\n".join(page.evaluate(_STDERR))[-3000:]  # type: ignore[attr-defined]
            state = "stopped before its end" if stopped else f"not done after {within:.0f} s"
            raise AssertionError(f"the run {state}: prompts {prompts}; stderr:\n{printed}")
        time.sleep(0.5)


@contextlib.contextmanager
def voila(notebook: Path, scratch: Path) -> Iterator[str]:
    """Serve ``notebook`` (a copy, with its folder) as a Voila page; yields the page's URL."""
    root = scratch / "notebooks"
    shutil.copytree(notebook.parent, root)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "voila",
        str(root / notebook.name),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
    ]

    def listens() -> None:  # a TCP connect, not a GET: a GET would start a kernel
        socket.create_connection(("127.0.0.1", port), timeout=1).close()

    with _serving("Voila", command, scratch, listens, cwd=root):
        yield f"http://127.0.0.1:{port}/"


@contextlib.contextmanager
def _serving(
    name: str, command: list[str], scratch: Path, ready: Callable[[], None], cwd: Path
) -> Iterator[None]:
    """Run a server with private Jupyter folders until ``ready()`` stops raising OSError; stop it
    after."""
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(scratch / "config"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
    }
    log_path = scratch / f"{name.lower()}.log"
    log = log_path.open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{name} exited: see {log_path}")
            try:
                ready()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not answer within 60 s") from None
                time.sleep(0.3)
        yield
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
