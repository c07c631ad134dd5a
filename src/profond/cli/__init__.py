"""The ``profond`` command: ``profond train``, and the other subcommands listed in ``main``."""

from profond.cli.main import main

__all__ = ["main"]
