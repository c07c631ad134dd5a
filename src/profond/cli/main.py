"""Entry point of the ``profond`` command.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``, which registers
its arguments and sets ``func`` (called with the parsed arguments, returning an exit code).
A subcommand checks every option before it starts any work, so that a wrong value costs no
training time.

No traceback reaches the user: an error prints one line, ``profond COMMAND: error: ...``, and
the command exits with status 2; a closed output pipe (``profond ... | head``) ends the command
quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Modules of profond.cli that provide a subcommand, in the order --help lists them.
SUBCOMMANDS = ["train", "lab", "datasets", "prune", "export"]

# The exit status of an error (argparse's, for a wrong option).
USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with its usage errors on one line (the usage is one --help away)."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from profond import __version__

    parser = _Parser(
        prog="profond",
        description="profond: deep learning from first principles. Train networks, run the "
                    "course's experiments, inspect datasets.",
    )
    parser.add_argument("--version", action="version", version=f"profond {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"profond.cli.{name}").add_parser(sub)
    return parser


def _silence_stdout():
    # The reader of our output has gone: point stdout at the null device, so that Python's
    # own flush at exit does not raise BrokenPipeError again (the recipe of Python's
    # documentation on SIGPIPE).
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass


def main(argv=None) -> int:
    """Run the ``profond`` command with ``argv`` (``sys.argv[1:]`` when None); return its
    exit status: 0 on success, 2 on an error (printed as one line on stderr)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        print(f"profond {args.command}: interrupted.", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - a CLI user gets one line, never a traceback
        print(f"profond {args.command}: error: {_one_line(err)}", file=sys.stderr)
        from profond import distribution

        if distribution.size() > 1:  # under mpiexec: the other ranks must not wait for this one
            distribution.abort(f"rank {distribution.rank()} of profond {args.command} failed")
        return USAGE_ERROR


def _one_line(err) -> str:
    text = " ".join(str(err).split())
    # The type says what went wrong when the message alone does not (KeyError: 'x').
    if isinstance(err, (ValueError, TypeError, OSError)) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
