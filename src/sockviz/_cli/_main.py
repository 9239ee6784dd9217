"""The ``sockviz`` command line: ``demo``, ``explore``, ``summary``, ``export``, ``run``,
``plot``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._parser import build_parser

if TYPE_CHECKING:
    from .._net._manager import Semantics
    from .._trace._trace import Trace

__all__ = ["main"]


def _semantics(args: argparse.Namespace) -> Semantics:
    return "weldr" if args.weldr else "strict"


def _demo(args: argparse.Namespace) -> int:
    from .. import DeadlockError, Seeded, Trace, weld
    from ..scenarios import SCENARIOS

    schedule = Seeded(args.seed) if args.seed is not None else None
    try:
        trace = weld(
            SCENARIOS[args.scenario](),
            semantics=_semantics(args),
            trace_path=args.output,
            schedule=schedule,
        )
        failed = None
    except DeadlockError as exc:
        trace, failed = exc.trace or Trace([]), exc
    print()
    print(trace.summary(detail=args.detail))
    meets = trace.of_kind("meet")
    picture = os.path.splitext(args.output)[0].removesuffix(".jsonl") + ".png"
    _save_plot(trace, picture, "timeline", by="time", style_name="notebook")
    print(
        f"\n{len(meets)} connect/accept meetings; trace written to {args.output}, its timeline to "
        f"{picture}"
    )
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
        workers=args.workers,
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
    how = ", ".join(
        f"{k}={meta[k]}"
        for k in ("recorded_by", "semantics", "buffer_size", "created", "python")
        if meta.get(k) is not None
    )
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
        lines.append(
            f"  #{m.seq:<6} {m.connect_thread} (fd {m.client}) + {m.accept_thread} (fd {m.server}) "
            f"at {m.addr}{first}"
        )
    waits = trace.waits()
    lines.append(f"\nwaits ({len(waits)}):")
    per_thread: dict[str, list[int]] = {}
    for wait in waits:
        per_thread.setdefault(wait.thread, []).append(wait.duration_ns or 0)
    for thread, spans in per_thread.items():
        lines.append(
            f"  {thread:<22} {len(spans):>6} waits, {sum(spans) / 1e6:9.3f} ms in all, longest "
            f"{max(spans) / 1e6:.3f} ms"
        )
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


def _save_plot(trace: Trace, path: str, kind: str, *, by: str, style_name: str) -> None:
    from .._views._figures import save_plot  # (matplotlib is imported only when a figure is drawn)

    save_plot(trace, path, kind, by=by, style_name=style_name)


def _run(args: argparse.Namespace) -> int:
    from .. import (
        ComponentError,
        DeadlockError,
        ExternalBlockError,
        Seeded,
        Trace,
        WeldTimeoutError,
        weld,
    )
    from .._weld._patches import ThreadOutput
    from ._run import parse_spec, script_context

    try:
        components = [parse_spec(spec) for spec in args.components]
        names = [c.name for c in components]
        if len(set(names)) != len(names):
            raise ValueError(
                f"two components have the same name ({', '.join(names)}): name them with NAME="
            )
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
            trace = weld(
                bodies,
                semantics=_semantics(args),
                timeout=args.timeout,
                trace_path=args.output,
                schedule=schedule,
                until=args.until or None,
            )
    except (ComponentError, DeadlockError, ExternalBlockError, WeldTimeoutError) as error:
        failure, trace = error, error.trace or Trace([])
    except (
        KeyboardInterrupt
    ) as interrupt:  # Ctrl-C: the trace so far is summed up and kept, no traceback
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
        print(
            "\nThe run was interrupted (Ctrl-C); the trace holds what happened until then.",
            file=sys.stderr,
        )
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


def _export(args: argparse.Namespace) -> int:
    if not (args.chrome or args.csv or args.mermaid):
        args.subparser.error("say what to write: --chrome, --csv and/or --mermaid")
    trace = _load(args.trace)
    if args.chrome:
        trace.to_chrome_trace(args.chrome)
        print(
            f"wrote {args.chrome} (Chrome trace events: open it in ui.perfetto.dev or chrome://tracing)"
        )
    if args.csv:
        trace.to_csv(args.csv, args.table)
        print(f"wrote {args.csv} (the {args.table} as CSV)")
    if args.mermaid:
        with open(args.mermaid, "w", encoding="utf-8") as out:
            out.write("```mermaid\n" + trace.to_mermaid() + "```\n")
        print(f"wrote {args.mermaid} (a Mermaid sequence diagram)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from .._errors import TraceFormatError

    parser = build_parser(
        {
            "demo": _demo,
            "explore": _explore,
            "summary": _summary,
            "export": _export,
            "run": _run,
            "plot": _plot,
        }
    )
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
