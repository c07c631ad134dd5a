"""Entry point of the ``profond`` command.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``, which registers
its arguments and sets ``func`` (called with the parsed arguments, returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules of profond.cli that provide a subcommand, in the order --help lists them.
SUBCOMMANDS = ["train", "lab", "datasets", "prune", "export"]


def build_parser() -> argparse.ArgumentParser:
    from profond import __version__

    parser = argparse.ArgumentParser(
        prog="profond",
        description="profond: deep learning from first principles. Train networks, run the "
                    "course's experiments, inspect datasets.",
    )
    parser.add_argument("--version", action="version", version=f"profond {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"profond.cli.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, TypeError) as err:
        print(f"profond {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
