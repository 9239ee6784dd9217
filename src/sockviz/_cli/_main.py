"""The ``sockviz`` command line: ``demo``, ``explore``, ``summary``, ``export``, ``run``, ``plot``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._net._manager import Semantics
    from .._trace._trace import Trace

__all__ = ["main"]

_EPILOG = """examples:
  sockviz demo                          weld an echo server and two clients, print the timeline
  sockviz demo --scenario deadlock      both sides recv() first: watch the deadlock be caught
  sockviz demo --weldr -o t.jsonl       the original weldr model, trace written to t.jsonl
  sockviz demo --seed 7                 one thread at a time, chosen by seed 7: the same run every time
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


def _semantics(args: argparse.Namespace) -> Semantics:
    return "weldr" if args.weldr else "strict"


def _demo(args: argparse.Namespace) -> int:
    from .. import DeadlockError, Seeded, Trace, weld
    from ..scenarios import SCENARIOS

    schedule = Seeded(args.seed) if args.seed is not None else None
    try:
        trace = weld(SCENARIOS[args.scenario](), semantics=_semantics(args), trace_path=args.output, schedule=schedule)
        failed = None
    except DeadlockError as exc:
        trace, failed = exc.trace or Trace([]), exc
    print()
    print(trace.summary(detail=args.detail))
    meets = trace.of_kind("meet")
    picture = os.path.splitext(args.output)[0].removesuffix(".jsonl") + ".png"
    _save_plot(trace, picture, "timeline", by="time", style_name="notebook")
    print(f"\n{len(meets)} connect/accept meetings; trace written to {args.output}, its timeline to {picture}")
    if failed is not None:
        print(f"\nThe weld ended in a {failed}", file=sys.stderr)
        return 1
    return 0


def _explore(args: argparse.Namespace) -> int:
    from .. import explore
    from ..scenarios import OUTCOMES, SCENARIOS

    found = explore(
        SCENARIOS[args.scenario],
        runs=args.runs if args.seeds is None else None,
        seeds=args.seeds,
        outcome=OUTCOMES.get(args.scenario),
        semantics=_semantics(args),
    )
    print(found)
    if args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
        for number, outcome in enumerate(found.outcomes, start=1):
            path = os.path.join(args.output_dir, f"outcome-{number}-seed-{outcome.seeds[0]}.jsonl")
            outcome.trace.save(path)
            print(f"{path}: {outcome.name}")
    return 0


def _load(path: str) -> Trace:
    from .. import load

    return load(path)


def summary_text(trace: Trace) -> str:
    """The tables ``sockviz summary`` prints: how, sockets, meetings, waits."""
    meta = trace.meta
    lines = [f"{len(trace)} events, threads: {', '.join(trace.threads) or '-'}"]
    how = ", ".join(f"{k}={meta[k]}" for k in ("recorded_by", "semantics", "buffer_size", "created", "python") if meta.get(k) is not None)
    if how:
        lines.append(f"recorded: {how}")
    socks = trace.sockets()
    lines.append(f"\nsockets ({len(socks)}):")
    for sock in socks:
        where = f"{sock.local or '-'} -> {sock.peer}" if sock.peer else (sock.local or "-")
        lines.append(f"  fd {sock.fd:<4} {sock.owner:<18} {where:<40} {' > '.join(sock.modes)}")
    meets = trace.meetings()
    lines.append(f"\nmeetings ({len(meets)}):")
    for m in meets:
        first = f", {m.first} came first" if m.first else ""
        lines.append(f"  #{m.seq:<6} {m.connect_thread} (fd {m.client}) + {m.accept_thread} (fd {m.server}) at {m.addr}{first}")
    waits = trace.waits()
    lines.append(f"\nwaits ({len(waits)}):")
    per_thread: dict[str, list[int]] = {}
    for wait in waits:
        per_thread.setdefault(wait.thread, []).append(wait.duration_ns or 0)
    for thread, spans in per_thread.items():
        lines.append(f"  {thread:<22} {len(spans):>6} waits, {sum(spans) / 1e6:9.3f} ms in all, longest {max(spans) / 1e6:.3f} ms")
    unfinished = [w for w in waits if w.outcome in ("unfinished", "stopped")]
    for wait in unfinished:
        lines.append(f"  never woken: {wait.thread}: {wait.waits_for}")
    return "\n".join(lines)


def _summary(args: argparse.Namespace) -> int:
    trace = _load(args.trace)
    if args.threads or args.kinds:
        trace = trace.filter(threads=args.threads, kinds=args.kinds)
    print(summary_text(trace))
    if not args.brief:
        print("\ntimeline:")
        print(trace.summary(detail=args.detail).split("\n", 1)[-1])
    return 0


#: what `sockviz plot --kind` draws (see sockviz._views._figures.save_plot)
PLOTS = ("timeline", "sequence", "states", "waits", "buffers")


def _save_plot(trace: Trace, path: str, kind: str, *, by: str, style_name: str) -> None:
    from .._views._figures import save_plot  # (matplotlib is imported only when a figure is drawn)

    save_plot(trace, path, kind, by=by, style_name=style_name)


def _run(args: argparse.Namespace) -> int:
    from .. import ComponentError, DeadlockError, ExternalBlockError, Seeded, Trace, WeldTimeoutError, weld
    from .._weld._patches import ThreadOutput
    from ._run import parse_spec, script_context

    try:
        components = [parse_spec(spec) for spec in args.components]
        names = [c.name for c in components]
        if len(set(names)) != len(names):
            raise ValueError(f"two components have the same name ({', '.join(names)}): name them with NAME=")
        unknown = sorted(set(args.until) - set(names))
        if unknown:
            raise ValueError(f"--until names no component: {', '.join(unknown)}")
        bodies = {c.name: c.body() for c in components}
    except (ValueError, FileNotFoundError) as error:
        print(f"sockviz run: {error}", file=sys.stderr)
        return 2
    failure: BaseException | None = None
    ThreadOutput.prefix = True
    try:
        with script_context(components):
            schedule = Seeded(args.seed) if args.seed is not None else None
            # fmt: off
            trace = weld(
                bodies, semantics=_semantics(args), timeout=args.timeout, trace_path=args.output, schedule=schedule,
                until=args.until or None,
            )
            # fmt: on
    except (ComponentError, DeadlockError, ExternalBlockError, WeldTimeoutError) as error:
        failure, trace = error, error.trace or Trace([])
    except KeyboardInterrupt as interrupt:  # Ctrl-C: the trace so far is summed up and kept, no traceback
        failure, trace = interrupt, getattr(interrupt, "trace", None) or Trace([])
    finally:
        ThreadOutput.prefix = False
    print()
    print(summary_text(trace))
    print(f"\ntrace written to {args.output}")
    if isinstance(failure, ComponentError):
        print(f"\n{len(failure.exceptions)} component(s) failed:", file=sys.stderr)
        import traceback

        for thread, problem in zip(failure.threads, failure.exceptions, strict=False):
            print(f"--- {thread} ---", file=sys.stderr)
            traceback.print_exception(problem, file=sys.stderr)
        return 1
    if isinstance(failure, KeyboardInterrupt):
        print("\nThe run was interrupted (Ctrl-C); the trace holds what happened until then.", file=sys.stderr)
        return 130  # as a shell reports a program ended by SIGINT
    if failure is not None:
        print(f"\nThe run ended: {failure}", file=sys.stderr)
        return 1
    return 0


def _plot(args: argparse.Namespace) -> int:
    suffix = os.path.splitext(args.output)[1].lower()
    if suffix not in (".png", ".svg", ".pdf"):
        print(f"sockviz: cannot write {args.output!r}: name it .png, .svg or .pdf", file=sys.stderr)
        return 2
    trace = _load(args.trace)
    _save_plot(trace, args.output, args.kind, by=args.by, style_name=args.style)
    print(f"wrote {args.output} (the {args.kind} of {len(trace):,} events)")
    return 0


def _export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not (args.chrome or args.csv or args.mermaid):
        parser.error("say what to write: --chrome, --csv and/or --mermaid")
    trace = _load(args.trace)
    if args.chrome:
        trace.to_chrome_trace(args.chrome)
        print(f"wrote {args.chrome} (Chrome trace events: open it in ui.perfetto.dev or chrome://tracing)")
    if args.csv:
        trace.to_csv(args.csv, args.table)
        print(f"wrote {args.csv} (the {args.table} as CSV)")
    if args.mermaid:
        with open(args.mermaid, "w", encoding="utf-8") as out:
            out.write("```mermaid\n" + trace.to_mermaid() + "```\n")
        print(f"wrote {args.mermaid} (a Mermaid sequence diagram)")
    return 0


def _parser() -> argparse.ArgumentParser:
    from ..scenarios import SCENARIOS

    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="sockviz",
        description="Watch sockets and threads meet: fake sockets, welded threads, recorded traces.",
        epilog=_EPILOG,
        formatter_class=raw,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, what: str, epilog: str, *, reads_trace: bool = False) -> argparse.ArgumentParser:
        """A subcommand with its examples; ``reads_trace``: its first argument is a trace file."""
        sub = commands.add_parser(name, help=what, epilog=epilog, formatter_class=raw)
        if reads_trace:
            sub.add_argument("trace", help="a trace file (.jsonl or .jsonl.gz)")
        return sub

    def semantics_flags(sub: argparse.ArgumentParser) -> None:
        flags = sub.add_mutually_exclusive_group()
        flags.add_argument("--weldr", action="store_true", help="the original weldr model: connect() waits until the server accepts")
        flags.add_argument("--strict", action="store_true", help="Linux semantics (the default)")

    demo = command("demo", "weld a demo scenario and print its timeline", _EPILOG)
    demo.add_argument("-o", "--output", default="sockviz-demo.jsonl", help="trace file to write (default: %(default)s)")
    demo.add_argument("--scenario", choices=sorted(SCENARIOS), default="echo", help="what to run (default: %(default)s)")
    semantics_flags(demo)
    demo.add_argument("--detail", action="store_true", help="show lock contention and every buffer move too")
    seed = "run one thread at a time, picked by this seed: the same run every time (logical time)"
    demo.add_argument("--seed", type=int, metavar="N", help=seed)
    demo.set_defaults(run=_demo)

    exploring = command("explore", "run a demo scenario under many seeds and count its outcomes", _EXPLORE_EPILOG)
    exploring.add_argument("--scenario", choices=sorted(SCENARIOS), default="echo", help="what to run (default: %(default)s)")
    exploring.add_argument("--runs", type=int, default=20, help="seeds 0..RUNS-1 (default: %(default)s)")
    exploring.add_argument("--seeds", type=int, nargs="+", metavar="N", help="these seeds instead of --runs")
    semantics_flags(exploring)
    exploring.add_argument("-o", "--output-dir", metavar="DIR", help="write each outcome's trace into DIR")
    exploring.set_defaults(run=_explore)

    summary = command("summary", "sockets, meetings, waits and timeline of a trace file", _SUMMARY_EPILOG, reads_trace=True)
    summary.add_argument("--brief", action="store_true", help="the tables only, without the timeline")
    summary.add_argument("--detail", action="store_true", help="the timeline with lock contention and every buffer move")
    summary.add_argument("--threads", nargs="+", metavar="NAME", help="only these threads (a component takes its children)")
    summary.add_argument("--kinds", nargs="+", metavar="KIND", help="only these event kinds (a family like 'lock' takes all of it)")
    summary.set_defaults(run=_summary)

    export = command("export", "write a trace as Chrome trace events, CSV or Mermaid", _EXPORT_EPILOG, reads_trace=True)
    export.add_argument("--chrome", metavar="OUT.json", help="Chrome Trace Event JSON (Perfetto, chrome://tracing)")
    export.add_argument("--csv", metavar="OUT.csv", help="a table as CSV (see --table)")
    tables = ["events", "waits", "meetings", "sockets"]
    export.add_argument("--table", choices=tables, default="events", help="which table --csv writes (default: %(default)s)")
    export.add_argument("--mermaid", metavar="OUT.md", help="a Mermaid sequence diagram in a Markdown file")
    export.set_defaults(run=lambda args: _export(args, export))

    run = command("run", "run unmodified scripts or modules as welded components", _RUN_EPILOG)
    what = 'a script with its arguments ("client.py --port 8080") or "-m MODULE ARGS"'
    run.add_argument("components", nargs="+", metavar="COMPONENT", help=what)
    run.add_argument("-o", "--output", default="sockviz-run.jsonl", help="trace file to write (default: %(default)s)")
    semantics_flags(run)
    run.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds (default: %(default)s)")
    run.add_argument("--until", nargs="+", metavar="NAME", default=[], help="end the run when these components are done")
    run.add_argument("--seed", type=int, metavar="N", help=seed)
    run.set_defaults(run=_run)

    plot = command("plot", "draw a trace file as a picture (.png, .svg, .pdf)", _PLOT_EPILOG, reads_trace=True)
    plot.add_argument("-o", "--output", required=True, metavar="OUT", help="the picture to write: .png, .svg or .pdf")
    plot.add_argument("--kind", choices=PLOTS, default="timeline", help="which plot (default: %(default)s)")
    plot.add_argument("--by", choices=["time", "order"], default="time", help="x axis of the timeline: real time or event order")
    styles = ["notebook", "lecture", "paper"]
    plot.add_argument("--style", choices=styles, default="notebook", help="fonts and line widths (default: %(default)s)")
    plot.set_defaults(run=_plot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .._errors import TraceFormatError

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except TraceFormatError as exc:
        print(f"sockviz: not a trace this sockviz can read: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"sockviz: no such file: {exc.filename}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"sockviz: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # e.g. explore --runs 0
        print(f"sockviz: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C in any other command (run sums up its trace itself)
        print(f"sockviz {args.command}: interrupted (Ctrl-C)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
