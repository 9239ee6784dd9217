"""The command line's grammar: every subcommand, its options and its examples (argparse).

:func:`build_parser` takes the function that runs each subcommand (``_main.py``):
what the command line accepts is here, what it does is there.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

__all__ = ["PLOTS", "build_parser"]

#: what `sockviz plot --kind` draws (see sockviz._views._figures.save_plot)
PLOTS = ("timeline", "sequence", "states", "waits", "buffers")
_RAW = argparse.RawDescriptionHelpFormatter
_SEED = "run one thread at a time, picked by this seed: the same run every time (logical time)"

Handler = Callable[[argparse.Namespace], int]

_EPILOG = """examples:
  sockviz demo                          weld an echo server and two clients, print the timeline
  sockviz demo --scenario deadlock      both sides recv() first: watch the deadlock be caught
  sockviz demo --weldr -o t.jsonl       the original weldr model, trace written to t.jsonl
  sockviz demo --seed 7                 one thread at a time, chosen by seed 7: the same run again
  sockviz explore --scenario race       run 20 seeds and count the outcomes
  sockviz summary t.jsonl               sockets, meetings, waits and the timeline of a trace
  sockviz export t.jsonl --chrome t.json --csv t.csv --mermaid t.md
  sockviz plot t.jsonl -o t.png                       the timeline as a picture (.png, .svg, .pdf)
"""

_RUN_EPILOG = """examples:
  sockviz run server.py client.py -o trace.jsonl
  sockviz run "server.py --port 8080" "client.py --port 8080"      each its own sys.argv
  sockviz run "-m http.server 8000" "fetch.py http://server:8000/" --until fetch
  sockviz run "web=-m http.server 8000" ...                          NAME= names a component

Each component is a thread of one process with fake sockets; a script runs as __main__ with its
own globals; its lines are printed as "[name] line". A component named "server" is reachable as
("server", PORT). --until ends the run once those components are done (servers serve for ever).
"""

_PLOT_EPILOG = """examples:
  sockviz plot sockviz-demo.jsonl -o demo.png
  sockviz plot t.jsonl -o ladder.svg --kind sequence
  sockviz plot t.jsonl -o t.pdf --kind timeline --by order --style paper
"""

_EXPLORE_EPILOG = """examples:
  sockviz explore                             the echo demo under seeds 0..19: its outcomes
  sockviz explore --scenario race --runs 50   who gets the one slot, and how often
  sockviz explore --scenario race -o outcomes/   each outcome's trace as a file
  sockviz explore --seeds 3 8 13              these seeds only
  sockviz explore --runs 5000 --workers 2     on two processes (the same outcomes)

Each run lets one thread move at a time, the next one picked by a seeded random generator:
the same seed gives the same run. Replay any run with: sockviz demo --scenario NAME --seed N
"""

_SUMMARY_EPILOG = """examples:
  sockviz summary sockviz-demo.jsonl
  sockviz summary t.jsonl.gz --brief          the tables only, no timeline
  sockviz summary t.jsonl --threads alice --detail
"""

_EXPORT_EPILOG = """examples:
  sockviz export t.jsonl --chrome t.json      open t.json in ui.perfetto.dev or chrome://tracing
  sockviz export t.jsonl --csv events.csv     one row per event, fields as columns
  sockviz export t.jsonl --csv waits.csv --table waits
  sockviz export t.jsonl --mermaid t.md       a sequence diagram for a Markdown cell
"""


def build_parser(handlers: Mapping[str, Handler]) -> argparse.ArgumentParser:
    """``sockviz`` and its subcommands; each sets ``run`` (its handler) and ``subparser``."""
    from ..scenarios import SCENARIOS

    parser = argparse.ArgumentParser(
        prog="sockviz",
        description="Watch sockets and threads meet: fake sockets, welded threads, traces.",
        epilog=_EPILOG,
        formatter_class=_RAW,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scenarios = sorted(SCENARIOS)
    _demo(
        _command(
            commands, handlers, "demo", "weld a demo scenario and print its timeline", _EPILOG
        ),
        scenarios,
    )
    what = "run a demo scenario under many seeds and count its outcomes"
    _explore(_command(commands, handlers, "explore", what, _EXPLORE_EPILOG), scenarios)
    what = "sockets, meetings, waits and timeline of a trace file"
    _summary(_command(commands, handlers, "summary", what, _SUMMARY_EPILOG, reads_trace=True))
    what = "write a trace as Chrome trace events, CSV or Mermaid"
    _export(_command(commands, handlers, "export", what, _EXPORT_EPILOG, reads_trace=True))
    what = "run unmodified scripts or modules as welded components"
    _run(_command(commands, handlers, "run", what, _RUN_EPILOG))
    what = "draw a trace file as a picture (.png, .svg, .pdf)"
    _plot(_command(commands, handlers, "plot", what, _PLOT_EPILOG, reads_trace=True))
    return parser


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    handlers: Mapping[str, Handler],
    name: str,
    what: str,
    epilog: str,
    *,
    reads_trace: bool = False,
) -> argparse.ArgumentParser:
    """A subcommand with its examples; ``reads_trace``: its first argument is a trace file."""
    sub = commands.add_parser(name, help=what, epilog=epilog, formatter_class=_RAW)
    sub.set_defaults(run=handlers[name], subparser=sub)
    if reads_trace:
        sub.add_argument("trace", help="a trace file (.jsonl or .jsonl.gz)")
    return sub


def _semantics_flags(sub: argparse.ArgumentParser) -> None:
    flags = sub.add_mutually_exclusive_group()
    flags.add_argument(
        "--weldr",
        action="store_true",
        help="the original weldr model: connect() waits until the server accepts",
    )
    flags.add_argument("--strict", action="store_true", help="Linux semantics (the default)")


def _output(sub: argparse.ArgumentParser, default: str) -> None:
    sub.add_argument(
        "-o", "--output", default=default, help="trace file to write (default: %(default)s)"
    )


def _demo(sub: argparse.ArgumentParser, scenarios: list[str]) -> None:
    _output(sub, "sockviz-demo.jsonl")
    what = "what to run (default: %(default)s)"
    sub.add_argument("--scenario", choices=scenarios, default="echo", help=what)
    _semantics_flags(sub)
    what = "show lock contention and every buffer move too"
    sub.add_argument("--detail", action="store_true", help=what)
    sub.add_argument("--seed", type=int, metavar="N", help=_SEED)


def _explore(sub: argparse.ArgumentParser, scenarios: list[str]) -> None:
    what = "what to run (default: %(default)s)"
    sub.add_argument("--scenario", choices=scenarios, default="echo", help=what)
    what = "seeds 0..RUNS-1 (default: %(default)s)"
    sub.add_argument("--runs", type=int, default=20, help=what)
    what = "these seeds instead of --runs"
    sub.add_argument("--seeds", type=int, nargs="+", metavar="N", help=what)
    what = "make the runs in N processes (default: %(default)s)"
    sub.add_argument("--workers", type=int, default=1, metavar="N", help=what)
    _semantics_flags(sub)
    what = "write each outcome's trace into DIR"
    sub.add_argument("-o", "--output-dir", metavar="DIR", help=what)


def _summary(sub: argparse.ArgumentParser) -> None:
    what = "the tables only, without the timeline"
    sub.add_argument("--brief", action="store_true", help=what)
    what = "the timeline with lock contention and every buffer move"
    sub.add_argument("--detail", action="store_true", help=what)
    what = "only these threads (a component takes its children)"
    sub.add_argument("--threads", nargs="+", metavar="NAME", help=what)
    what = "only these event kinds (a family like 'lock' takes all of it)"
    sub.add_argument("--kinds", nargs="+", metavar="KIND", help=what)


def _export(sub: argparse.ArgumentParser) -> None:
    what = "Chrome Trace Event JSON (Perfetto, chrome://tracing)"
    sub.add_argument("--chrome", metavar="OUT.json", help=what)
    sub.add_argument("--csv", metavar="OUT.csv", help="a table as CSV (see --table)")
    tables = ["events", "waits", "meetings", "sockets"]
    what = "which table --csv writes (default: %(default)s)"
    sub.add_argument("--table", choices=tables, default="events", help=what)
    what = "a Mermaid sequence diagram in a Markdown file"
    sub.add_argument("--mermaid", metavar="OUT.md", help=what)


def _run(sub: argparse.ArgumentParser) -> None:
    what = 'a script with its arguments ("client.py --port 8080") or "-m MODULE ARGS"'
    sub.add_argument("components", nargs="+", metavar="COMPONENT", help=what)
    _output(sub, "sockviz-run.jsonl")
    _semantics_flags(sub)
    what = "give up after this many seconds (default: %(default)s)"
    sub.add_argument("--timeout", type=float, default=30.0, help=what)
    what = "end the run when these components are done"
    sub.add_argument("--until", nargs="+", metavar="NAME", default=[], help=what)
    sub.add_argument("--seed", type=int, metavar="N", help=_SEED)


def _plot(sub: argparse.ArgumentParser) -> None:
    what = "the picture to write: .png, .svg or .pdf"
    sub.add_argument("-o", "--output", required=True, metavar="OUT", help=what)
    what = "which plot (default: %(default)s)"
    sub.add_argument("--kind", choices=PLOTS, default="timeline", help=what)
    what = "x axis of the timeline: real time or event order"
    sub.add_argument("--by", choices=["time", "order"], default="time", help=what)
    what = "fonts and line widths (default: %(default)s)"
    styles = ["notebook", "lecture", "paper"]
    sub.add_argument("--style", choices=styles, default="notebook", help=what)
