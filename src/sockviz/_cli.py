"""The ``sockviz`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

_EPILOG = """examples:
  sockviz demo                      weld an echo server and two clients, print the timeline
  sockviz demo --strict -o t.jsonl  the same with Linux semantics, trace written to t.jsonl
"""


def _demo(args: argparse.Namespace) -> int:
    from . import weld
    from ._demo import echo_scenario

    trace = weld(echo_scenario(), semantics="strict" if args.strict else "weldr", trace_path=args.output)
    print()
    print(trace.summary(detail=args.detail))
    meets = trace.of_kind("meet")
    print(f"\n{len(meets)} connect/accept meetings; trace written to {args.output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sockviz",
        description="Watch sockets and threads meet: fake sockets, welded threads, recorded traces.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="weld an echo server and two clients and print the timeline")
    demo.add_argument("-o", "--output", default="sockviz-demo.jsonl", help="trace file to write (default: %(default)s)")
    demo.add_argument("--strict", action="store_true", help="Linux semantics instead of the original weldr ones")
    demo.add_argument("--detail", action="store_true", help="show lock contention and every buffer move too")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except OSError as exc:
        print(f"sockviz: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
