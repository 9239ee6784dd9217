"""Views on Agg: the timeline and the other plots, styles, the picture the CLI writes, the replay
widget."""

from __future__ import annotations

import io
import pathlib
import re
import socket
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import sockviz
from sockviz._cli._main import main

from .scenarios import left_alone, scenario_trace


@pytest.fixture
def echo(echo_strict: sockviz.Trace) -> sockviz.Trace:
    """The views are drawn from the default (Linux) run."""
    return echo_strict


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def by_gid(ax, gid: str) -> list:
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def pixels(ax) -> np.ndarray:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png")
    buffer.seek(0)
    return plt.imread(buffer)


def not_blank(ax) -> bool:
    image = pixels(ax)[..., :3]
    return float((image < 0.9).any(axis=-1).mean()) > 0.02 and float(image.std()) > 0.05


# -- the timeline ---------------------------------------------------------------------


def test_timeline_has_a_lane_per_thread_and_an_arrow_per_meeting(echo: sockviz.Trace) -> None:
    """One lane (y label) per thread; the meeting Quiver holds exactly one arrow per meeting."""
    ax = sockviz.plot_timeline(echo)
    assert [t.get_text() for t in ax.get_yticklabels()] == echo.threads
    (meetings,) = by_gid(ax, "sockviz-meetings")
    assert meetings.N == len(echo.meetings()) == 2
    # the network's own lock (the simulator's bookkeeping) is left out unless asked for
    shown = [w for w in echo.waits() if w.until != "lock"]
    (waits,) = by_gid(ax, "sockviz-waits")
    assert len(waits.get_paths()) == len(shown)
    (states,) = by_gid(ax, "sockviz-states")
    assert len(states.get_offsets()) == len(echo.of_kind("state"))
    (wakes,) = by_gid(ax, "sockviz-wakes")
    assert len([w for w in shown if w.waker]) == wakes.N
    ax.figure.canvas.draw()  # labels find their places when the figure is drawn
    labels = {
        t.get_text() for t in ax.texts if t.get_gid() == "sockviz-wait-label" and t.get_visible()
    }
    longest = max(shown, key=lambda w: w.duration_ns or 0)
    # labels go where they fit: the widest bars
    assert longest.what in labels and labels <= {w.what for w in shown}
    assert {
        mode
        for a in ax.texts
        if a.get_gid() == "sockviz-state-label" and a.get_visible()
        for mode in re.split(" → | · ", a.get_text())
    } >= {"NOT_INIT", "LISTEN", "CONNECTING", "OUTBOUND", "INBOUND", "CLOSED"}
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {
        "waits in accept()",
        "connect() → the accept()\nthat takes its connection",
        "socket changes mode",
        "prints a line",
    } <= legend
    assert ax.get_xlabel().startswith("time since the trace began (ms)")
    assert not_blank(ax)


def test_timeline_by_order_threads_kinds_and_window(echo: sockviz.Trace) -> None:
    """by="order" spaces events evenly; threads keep lanes; kinds keep layers; window zooms."""
    ax = sockviz.plot_timeline(echo, by="order")
    assert (
        ax.get_xlim()[0] < 0 < len(echo) - 1 < ax.get_xlim()[1]
        and ax.get_xlabel() == "event (in order)"
    )
    _fig, ax = plt.subplots()
    assert sockviz.plot_timeline(echo, ax, threads=["alice", "server"]) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        t for t in echo.threads if t.split("/")[0] in ("server", "alice")
    ]
    assert "bob" not in {t.get_text() for t in ax.get_yticklabels()}
    ax = sockviz.plot_timeline(echo, kinds=["meet", "state"])
    assert by_gid(ax, "sockviz-meetings") and by_gid(ax, "sockviz-states")
    assert not by_gid(ax, "sockviz-waits") and not by_gid(ax, "sockviz-calls")
    ax = sockviz.plot_timeline(echo, window=(1.0, 1.5), cut_idle=False)
    assert ax.get_xlim() == (1.0, 1.5)
    with pytest.raises(ValueError, match="by must be"):
        sockviz.plot_timeline(echo, by="size")
    with pytest.raises(ValueError, match="unknown kinds"):
        sockviz.plot_timeline(echo, kinds="nope")


def test_a_deadlock_is_marked_across_the_lanes() -> None:
    """The deadlock event becomes a labelled vertical line."""
    ax = sockviz.plot_timeline(scenario_trace("deadlock"))
    assert len(by_gid(ax, "sockviz-alarm")) == 1
    assert any(t.get_text().strip() == "DEADLOCK" for t in ax.texts)


def test_a_stuck_run_is_marked_stuck_not_deadlock() -> None:
    """A server left alone in accept() waits for nobody in particular: the line says STUCK."""

    with pytest.raises(sockviz.DeadlockError) as info:
        sockviz.weld(left_alone())
    ax = sockviz.plot_timeline(info.value.trace)
    said = {t.get_text().strip() for t in ax.texts}
    assert "STUCK" in said and "DEADLOCK" not in said


def test_big_traces_are_aggregated_per_pixel() -> None:
    """Above the screen's resolution, bars merge and markers thin to a pixel column each."""
    import socket

    def server() -> None:
        with socket.create_server(("", 5000)) as listener:
            conn, _ = listener.accept()
            with conn:
                while data := conn.recv(10):
                    conn.sendall(data)

    def client() -> None:
        with socket.create_connection(("server", 5000)) as sock:
            for _ in range(1500):
                sock.sendall(b"ping")
                sock.recv(10)

    trace = sockviz.weld({"server": server, "client": client})
    assert len(trace) > 20_000
    _fig, ax = plt.subplots(figsize=(8, 3), dpi=100)
    sockviz.plot_timeline(trace, ax)
    width = ax.get_window_extent().width
    (waits,) = by_gid(ax, "sockviz-waits")
    # per lane and kind, at most a bar per pixel (and far fewer here)
    assert len(waits.get_paths()) <= 2 * 6 * width
    assert len(waits.get_paths()) < len(trace.waits()) / 4
    assert "aggregated" in ax.get_xlabel()
    assert not_blank(ax)


# -- the other plots ------------------------------------------------------------------------


def test_sequence_draws_the_handshake_each_send_and_eof(echo: sockviz.Trace) -> None:
    """A ladder between components: a connect arrow per meeting, a data arrow per write, EOF
    arrows."""
    _fig, ax = plt.subplots()
    assert sockviz.plot_sequence(echo, ax) is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["server", "alice", "bob"]
    (connects,) = by_gid(ax, "sockviz-sequence-connect")
    (data,) = by_gid(ax, "sockviz-sequence-data")
    (eofs,) = by_gid(ax, "sockviz-sequence-eof")
    assert connects.N == 2 and data.N == len(echo.of_kind("buf.write")) == 6 and eofs.N == 2
    labels = sorted(t.get_text() for t in ax.texts if t.get_gid() == "sockviz-sequence-label")
    assert labels.count("5 B") == 2 and labels.count("8 B") == 2 and labels.count("EOF") == 2
    assert not_blank(ax)


def test_states_draw_a_band_per_socket(echo: sockviz.Trace) -> None:
    """A band per socket, a coloured segment per mode it was in (until CLOSED)."""
    ax = sockviz.plot_states(echo)
    lives = echo.sockets()
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"fd {s.fd} ({s.owner})" for s in lives]
    (modes,) = by_gid(ax, "sockviz-modes")
    assert len(modes.get_paths()) == sum(len([m for m in s.modes if m != "CLOSED"]) for s in lives)
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"LISTEN", "OUTBOUND", "INBOUND"}
    assert not_blank(ax)


def test_waits_plot_shows_where_each_threads_time_went() -> None:
    """A bar per thread split into its waits, its socket calls and its own code, summing to its
    life; the backpressure sender's biggest share is waiting for room in send()."""
    from sockviz._views._waits import IN_CALL, OWN_CODE, time_budget

    trace = scenario_trace("backpressure", buffer_size=8192)
    budget = time_budget(trace)
    for thread, shares in budget.items():
        mine = [e.t_ns for e in trace.events if e.thread == thread]
        life = (max(mine) - min(mine)) / 1e6
        assert sum(shares.values()) == pytest.approx(life, rel=1e-6, abs=1e-9)
        assert all(ms >= 0 for ms in shares.values())
    sender = budget["sender"]
    assert max(sender, key=sender.__getitem__) == "waits in send()"
    assert {IN_CALL, OWN_CODE} <= set(sender)
    ax = sockviz.plot_waits(trace)
    bars = by_gid(ax, "sockviz-time-share")
    assert len(bars) == sum(len([ms for ms in b.values() if ms > 0]) for b in budget.values())
    assert [t.get_text() for t in ax.get_yticklabels()] == list(budget)
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"waits in send()", "waits in recv()", IN_CALL, OWN_CODE} <= legend
    assert "waits for the network's lock" not in legend  # the simulator's bookkeeping, hidden
    ax.figure.canvas.draw()
    shown = [t for t in ax.texts if t.get_gid() == "sockviz-share-label" and t.get_visible()]
    assert any(t.get_text().endswith("%") for t in shown)


def test_buffers_show_backpressure() -> None:
    """With a small buffer the sender's direction sits at capacity: the plateau of backpressure."""
    trace = scenario_trace("backpressure", buffer_size=8192)
    ax = sockviz.plot_buffers(trace)
    (line,) = by_gid(ax, "sockviz-buffer-conn1.up")
    assert max(line.get_ydata()) == 8192 and line.get_label() == "conn1.up: sender → reader"
    assert any(t.get_text() == "capacity (8,192 B)" for t in ax.get_legend().get_texts())


# -- style and files ------------------------------------------------------------------------


def test_style_applies_and_restores_and_refuses_unknown_names() -> None:
    """style() changes fonts and the colour cycle inside a with block and puts them back after."""
    before = matplotlib.rcParams["font.size"]
    with sockviz.style("lecture"):
        assert matplotlib.rcParams["font.size"] == 16
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][1] == "#E69F00"
    assert matplotlib.rcParams["font.size"] == before
    with pytest.raises(ValueError, match="unknown style 'poster'"):
        sockviz.style("poster")


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")]
)
def test_cli_plot_writes_png_svg_and_pdf(
    tmp_path: pathlib.Path, echo: sockviz.Trace, suffix: str, magic: bytes
) -> None:
    """`sockviz plot` writes every kind of plot in every format."""
    trace_file = tmp_path / "t.jsonl"
    echo.save(trace_file)
    for kind in ("timeline", "sequence", "states", "waits", "buffers"):
        out = tmp_path / f"{kind}{suffix}"
        assert main(["plot", str(trace_file), "-o", str(out), "--kind", kind]) == 0
        assert out.read_bytes().startswith(magic)


def test_cli_plot_refuses_other_formats_and_demo_writes_its_picture(
    tmp_path: pathlib.Path, capsys, monkeypatch
) -> None:
    """An unknown suffix is a clear error; `sockviz demo` writes sockviz-demo.png beside its
    trace."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert (tmp_path / "sockviz-demo.png").read_bytes().startswith(b"\x89PNG")
    assert main(["plot", "sockviz-demo.jsonl", "-o", "x.gif"]) == 2
    assert "name it .png, .svg or .pdf" in capsys.readouterr().err


# -- the replay widget -----------------------------------------------------------------------


def cursor_left(replay) -> float:
    return float(
        re.search(
            r'sockviz-cursor" style="position:absolute;left:([\d.]+)px', replay.overlay.value
        ).group(1)
    )


def test_replay_steps_change_the_narration_the_panel_and_the_cursor(echo: sockviz.Trace) -> None:
    """step() and back() move the index, the sentence, the state panel and the cursor."""
    import ipywidgets

    r = sockviz.replay(echo)
    assert isinstance(r, ipywidgets.VBox) and r.index == 0 and r.current_event == echo[0]
    assert bytes(r.picture.value).startswith(b"\x89PNG")
    sentence, panel, left = r.narration.value, r.panel.value, cursor_left(r)
    assert r.step() == 1
    assert r.narration.value != sentence and echo.narrate(1) in r.narration.value.replace(
        "&#x27;", "'"
    )
    assert cursor_left(r) > left
    r.index = 20
    assert r.panel.value != panel and "fd " not in sentence
    assert "<td>LISTEN</td>" in r.panel.value
    assert r.back(5) == 15 and r.current_event == echo[15]
    r.index = -1
    assert r.index == len(echo) - 1
    with pytest.raises(IndexError):
        r.index = len(echo)


def test_replay_jumps_between_meetings(echo: sockviz.Trace) -> None:
    """The meeting buttons land on the meet events, in order, and stop at the ends."""
    meets = [i for i, e in enumerate(echo) if e.kind == "meet"]
    r = sockviz.replay(echo)
    r.next_meeting_button.click()
    assert r.index == meets[0] and r.current_event.kind == "meet"
    assert r.next_meeting() == meets[1] and r.next_meeting() == meets[1]
    assert r.previous_meeting() == meets[0] and r.previous_meeting() == meets[0]


def test_replay_play_advances_and_speed_sets_its_pace(echo: sockviz.Trace) -> None:
    """The Play widget drives the slider (as the browser does, one tick at a time); speed sets its
    interval."""
    r = sockviz.replay(echo)
    for _ in range(3):
        r.play.value += 1  # what the browser's Play does on each tick
    assert r.index == 3 and echo.narrate(3) in r.narration.value.replace("&#x27;", "'")
    r.speed.value = 20
    assert r.play.interval == 50
    r.step_button.click()
    assert r.index == 4


def test_replay_filters_hide_lanes_and_steps_skip_them(echo: sockviz.Trace) -> None:
    """Choosing threads redraws with only their lanes; stepping skips the hidden threads' events."""
    r = sockviz.replay(echo)
    before = bytes(r.picture.value)
    r.thread_filter.value = ("alice",)
    assert bytes(r.picture.value) != before and list(r._lane_of) == ["alice"]
    r.index = 0
    landed = []
    while r.index != r.step():
        landed.append(r.current_event.thread)
    assert set(landed) == {"alice"} and len(landed) == len(
        [e for e in echo if e.thread == "alice"]
    ) - (echo[0].thread == "alice")
    r.kind_filter.value = ("meetings",)
    assert bytes(r.picture.value) != before


def test_replay_of_an_empty_trace_says_so() -> None:
    """An empty trace gives a widget that says there is nothing to replay, and never fails."""
    r = sockviz.replay(sockviz.Trace([]))
    assert "no events" in r.narration.value and r.current_event is None
    r.step()
    r.back()


def test_aggregation_merges_within_a_lane_only_and_half_tones_by_coverage() -> None:
    """Bars closer than a pixel merge within their lane (never across), with their covered share."""
    from dataclasses import replace

    from sockviz._views._aggregate import aggregate
    from sockviz._views._geometry import timeline_geometry

    geometry = timeline_geometry(sockviz.Trace([]))
    # lane 0: half covered, gaps far under a pixel
    many = [(0.0, float(x), float(x) + 0.5) for x in range(0, 1000)]
    sparse = [(1.0, 10.0, 11.0), (1.0, 500.0, 501.0), (1.0, 900.0, 901.0)]  # lane 1: far apart
    long = [(2.0, 0.0, 1000.0)]  # lane 2: one bar across everything
    rows = np.array(long + many + sparse)
    geometry = replace(geometry, lanes=["a", "b", "c"], waits=rows, wait_what=["recv"] * len(rows))
    thin = aggregate(geometry, (0.0, 1000.0), pixels=100)
    by_lane = {lane: thin.waits[thin.waits[:, 0] == lane] for lane in (0.0, 1.0, 2.0)}
    assert len(by_lane[0.0]) == 1 and len(by_lane[1.0]) == 3 and len(by_lane[2.0]) == 1
    coverage = dict(zip(thin.waits[:, 0], thin.wait_coverage, strict=True))
    assert coverage[0.0] == pytest.approx(0.5, abs=0.01) and coverage[2.0] == pytest.approx(1.0)


def test_refused_connects_are_marked_on_the_timeline() -> None:
    """A refused connect() changes no mode, yet the timeline marks it where it happened."""

    def server() -> None:
        time.sleep(0.01)
        with socket.create_server(("", 8080)) as listener:
            listener.accept()[0].close()

    def client() -> None:
        for _ in range(100):
            try:
                socket.create_connection(("server", 8080)).close()
                return
            except ConnectionRefusedError:
                time.sleep(0.002)

    # the client comes first
    trace = sockviz.weld({"server": server, "client": client}, semantics="strict", stagger=False)
    refusals = len(trace.of_kind("refused"))
    assert refusals >= 1
    ax = sockviz.plot_timeline(trace, by="order", labels=False)
    (states,) = by_gid(ax, "sockviz-states")
    assert len(states.get_offsets()) == len(trace.of_kind("state")) + refusals


@pytest.mark.parametrize(("name", "seed"), [("echo", 1), ("race", 2), ("backlog", 1)])
def test_a_printed_line_sits_above_a_wait_bar_not_over_its_end(name: str, seed: int) -> None:
    """A quoted line printed just after a wait goes up, clear of the bar, so the student sees
    where the wait ended; only on the top lane, with no room above, may it cover a bar."""
    from tests.scenarios import SCENARIOS

    trace = sockviz.weld(SCENARIOS[name](), schedule=sockviz.Seeded(seed), echo=False)
    ax = sockviz.plot_timeline(trace)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    (bars,) = by_gid(ax, "sockviz-waits")
    bar_boxes = [path.get_extents(ax.transData) for path in bars.get_paths()]
    quotes = [t for t in ax.texts if t.get_gid() == "sockviz-output-label" and t.get_visible()]
    assert quotes
    lifted = 0
    for quote in quotes:
        box = quote.get_window_extent(renderer)
        lane = round(quote.xy[1])
        covered = [bar for bar in bar_boxes if box.overlaps(bar)]
        assert not covered or lane == 0, f"{quote.get_text()} covers a wait bar"
        lifted += quote.xyann[1] > 5  # (higher than the first row above its mark)
    if name == "echo":
        assert lifted, "alice's 'bye' is printed as her recv bar ends: its quote goes above it"


def test_every_printed_line_of_the_demo_gets_its_quote() -> None:
    """A run of `sockviz demo` (recorded): the server's second "accepted a client" line has no
    room for a quote centred on its mark (the cut band's label is there), so it starts at its
    mark instead of being hidden."""
    trace = sockviz.load(pathlib.Path(__file__).parent / "traces" / "demo-echo-strict.jsonl")
    ax = sockviz.plot_timeline(trace)
    ax.figure.canvas.draw()
    quotes = [t for t in ax.texts if t.get_gid() == "sockviz-output-label"]
    assert len(quotes) == 4
    hidden = [q.get_text() for q in quotes if not q.get_visible()]
    assert not hidden, hidden
