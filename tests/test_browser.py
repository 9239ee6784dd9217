"""The lessons in a real browser: JupyterLab on localhost, headless Chromium driven by
Playwright."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    jupyterlab,
    run_all,
    voila,
    wait_until_every_cell_ran,
)

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)"
    )
    with jupyterlab(NOTEBOOKS, tmp_path_factory.mktemp("lab")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def readout(replay: object) -> int:
    """The event slider's number."""
    return int(replay.locator(".sockviz-slider .widget-readout").inner_text())  # type: ignore[attr-defined]


@pytest.mark.timeout(360)
@pytest.mark.parametrize("notebook", ["01_meet_the_sockets", "05_real_programs"])
def test_the_replay_widget_plays_and_steps_in_jupyterlab(
    lab: str, browser: object, notebook: str
) -> None:
    """Run a lesson in JupyterLab: the replay renders, play and step move the slider and the
    sentence."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    run_all(page, lab, f"{notebook}.ipynb")
    wait_until_every_cell_ran(page, within=240)
    # JupyterLab reopens earlier notebooks in hidden tabs: the replay is the one in the visible
    # panel
    replay = page.locator(".jp-NotebookPanel:visible .sockviz-replay").first
    slider = replay.locator(".sockviz-slider")
    slider.wait_for(state="visible", timeout=30_000)
    slider.scroll_into_view_if_needed()
    picture = replay.locator("img").first
    picture.wait_for(state="visible")
    assert picture.bounding_box()["width"] > 600  # the timeline is drawn
    narration = replay.locator(".sockviz-narration")
    assert re.match(r"#0 .*starts", narration.inner_text())
    assert readout(replay) == 0

    replay.locator(".widget-play button").first.click()  # play
    deadline = time.monotonic() + 20
    while readout(replay) < 3 and time.monotonic() < deadline:
        time.sleep(0.25)
    replay.locator(
        ".widget-play button"
    ).first.click()  # the same button pauses (the second one would stop and rewind)
    played = readout(replay)
    assert played >= 3, "play moved the slider"
    assert narration.inner_text().startswith(f"#{played} "), "the sentence follows the slider"

    replay.get_by_role("button", name="step ▶").click()
    deadline = time.monotonic() + 10
    while readout(replay) == played and time.monotonic() < deadline:
        time.sleep(0.1)
    assert readout(replay) == played + 1
    deadline = time.monotonic() + 10
    while not narration.inner_text().startswith(f"#{played + 1} ") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert narration.inner_text().startswith(f"#{played + 1} ")
    assert replay.locator(".sockviz-cursor").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    replay.screenshot(path=str(ARTIFACTS / f"replay-in-jupyterlab-{notebook}.png"))
    page.close()


@pytest.mark.timeout(180)
def test_a_lesson_as_a_voila_page_plays(browser: object, tmp_path: Path) -> None:
    """Voila serves lesson 1 as a clean page for a lecture: the replay renders and plays, no code
    shown."""
    assert Path(CHROMIUM).exists()
    with voila(NOTEBOOKS / "01_meet_the_sockets.ipynb", tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        page.goto(url, timeout=120_000)
        replay = page.locator(".sockviz-replay").first
        replay.locator(".sockviz-slider").wait_for(state="visible", timeout=90_000)
        assert "def server():" not in page.inner_text("body"), (
            "a Voila page shows the outputs, not the code"
        )
        assert "Meet the sockets" in page.inner_text("body")
        replay.scroll_into_view_if_needed()
        start = readout(replay)
        replay.locator(".widget-play button").first.click()
        deadline = time.monotonic() + 20
        while readout(replay) < start + 3 and time.monotonic() < deadline:
            time.sleep(0.25)
        replay.locator(".widget-play button").first.click()
        assert readout(replay) >= start + 3
        assert replay.locator(".sockviz-narration").inner_text().startswith(f"#{readout(replay)} ")
        ARTIFACTS.mkdir(exist_ok=True)
        replay.screenshot(path=str(ARTIFACTS / "replay-in-voila.png"))
        page.close()


@pytest.mark.timeout(360)
def test_the_exploration_menu_opens_each_outcome_in_jupyterlab(lab: str, browser: object) -> None:
    """Lesson 8: explore()'s replay has a menu of outcomes; picking another one replays that run."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    run_all(page, lab, "08_schedules.ipynb")
    wait_until_every_cell_ran(page, within=240)  # (a loaded CI machine took over 60 s)
    box = page.locator(".jp-NotebookPanel:visible .widget-vbox:has(> .sockviz-outcomes)").first
    menu = box.locator(".sockviz-outcomes select")
    menu.wait_for(state="visible", timeout=30_000)
    box.scroll_into_view_if_needed()
    labels = [option.inner_text().replace("\xa0", " ") for option in menu.locator("option").all()]
    # Linux's race ends three ways: ann or bob gets the slot, or both are refused (stuck)
    assert sorted(label.split(" -- ")[0].split(" (")[0] for label in labels) == [
        "finished: ann got the slot",
        "finished: bob got the slot",
        "stuck: nobody",
    ]
    picture = box.locator(".sockviz-replay img").first
    picture.wait_for(state="visible")
    before = picture.get_attribute("src")
    menu.select_option(index=1)
    deadline = time.monotonic() + 20
    while (
        box.locator(".sockviz-replay img").first.get_attribute("src") == before
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert box.locator(".sockviz-replay img").first.get_attribute("src") != before, (
        "the other outcome's timeline is shown"
    )
    replay = box.locator(".sockviz-replay").first
    assert readout(replay) == 0
    replay.get_by_role("button", name="step ▶").click()
    deadline = time.monotonic() + 10
    while readout(replay) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert readout(replay) == 1
    ARTIFACTS.mkdir(exist_ok=True)
    box.screenshot(path=str(ARTIFACTS / "exploration-in-jupyterlab.png"))
    page.close()


@pytest.mark.timeout(360)
def test_the_stepper_lets_you_choose_who_runs_in_jupyterlab(lab: str, browser: object) -> None:
    """Lesson 8: the stepper's buttons run their threads in the browser; bob gets the slot because
    bob was chosen first; undo takes a choice back."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    run_all(page, lab, "08_schedules.ipynb")
    wait_until_every_cell_ran(page, within=240)  # (a loaded CI machine took over 60 s)
    view = page.locator(".jp-NotebookPanel:visible .sockviz-stepper").first
    view.locator(".sockviz-step-thread").first.wait_for(state="visible", timeout=30_000)
    view.scroll_into_view_if_needed()

    def labels() -> list[str]:
        return view.locator(".sockviz-step-thread").all_inner_texts()  # (one read: no race)

    def click(pattern: str) -> None:
        before = (labels(), view.locator(".sockviz-step-status").inner_text())
        view.locator(".sockviz-step-thread", has_text=re.compile(pattern)).first.click()
        deadline = time.monotonic() + 20
        while (labels(), view.locator(".sockviz-step-status").inner_text()) == before:
            assert time.monotonic() < deadline, f"clicking {pattern} changed nothing"
            time.sleep(0.1)

    assert labels() == ["server: starts", "ann: starts", "bob: starts"]
    while any(label.startswith("server:") for label in labels()):
        click("^server:")
    click("^bob:")
    assert "bob: connect() to 127.0.0.1:7000" in labels()
    click("^bob:")
    view.get_by_role("button", name="finish ▶▶").click()
    status = view.locator(".sockviz-step-status")
    deadline = time.monotonic() + 20
    while "The run is over: finished." not in status.inner_text():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    narration = view.locator(".sockviz-step-narration")
    while "you got the slot, bob" not in narration.inner_text():  # (its update may come after)
        assert time.monotonic() < deadline, narration.inner_text()
        time.sleep(0.1)
    ARTIFACTS.mkdir(exist_ok=True)
    view.screenshot(path=str(ARTIFACTS / "stepper-in-jupyterlab.png"))
    view.get_by_role("button", name="↶ undo").click()
    deadline = time.monotonic() + 20
    while "You choose who runs next" not in status.inner_text():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page.close()


@pytest.mark.timeout(180)
def test_the_stepper_works_on_a_voila_page(browser: object, tmp_path: Path) -> None:
    """Lesson 8 as a Voila page: the stepper's buttons run their threads there too."""
    with voila(NOTEBOOKS / "08_schedules.ipynb", tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        page.goto(url, timeout=120_000)
        view = page.locator(".sockviz-stepper").first
        view.locator(".sockviz-step-thread").first.wait_for(state="visible", timeout=90_000)
        view.scroll_into_view_if_needed()
        buttons = view.locator(".sockviz-step-thread")
        assert buttons.all_inner_texts() == ["server: starts", "ann: starts", "bob: starts"]
        buttons.first.click()
        deadline = time.monotonic() + 20
        while buttons.all_inner_texts()[0] == "server: starts":
            assert time.monotonic() < deadline, "the click ran nothing"
            time.sleep(0.1)
        assert buttons.all_inner_texts()[0] == "server: bind() to *:7000"
        assert "1 choice(s) so far" in view.locator(".sockviz-step-status").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        view.screenshot(path=str(ARTIFACTS / "stepper-in-voila.png"))
        page.close()
