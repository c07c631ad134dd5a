"""Count Keras 3's public names that profond has under the same path.

For each of ``keras.layers``, ``keras.ops``, ``keras.metrics``, ``keras.losses``,
``keras.optimizers``, ``keras.callbacks`` and ``keras.utils`` (and the two submodules scripts
reach into, ``keras.ops.nn`` and ``keras.optimizers.schedules``), the public names are those
``dir()`` lists without a leading underscore. A class or a function counts as present when
profond's module of the same path has a callable of that name; a submodule (``keras.ops.nn``,
``keras.utils.legacy``, ...) counts as one name, present when profond has a module there (its
own names are not counted in its parent's row: the submodules with rows of their own are
counted there). Names that are neither (constants) are left out of both counts.

Usage: KERAS_BACKEND=torch python tools/keras_names.py [--missing]
(KERAS_BACKEND is set to torch when unset; Keras must be installed.)
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import types

NAMESPACES = ["layers", "ops", "metrics", "losses", "optimizers", "callbacks", "utils"]
SUBMODULES = ["ops.nn", "optimizers.schedules"]


def _module(root, path):
    for part in path.split("."):
        root = getattr(root, part, None)
        if not isinstance(root, types.ModuleType):
            return None
    return root


def _kind(obj):
    if isinstance(obj, types.ModuleType):
        return "module"
    return "callable" if callable(obj) else None


def public_names(module) -> dict:
    """Public classes, functions and submodules of ``module``: {name: "callable"|"module"}."""
    names = {}
    for name in dir(module):
        if name.startswith("_"):
            continue
        kind = _kind(getattr(module, name))
        if kind is not None:
            names[name] = kind
    return names


def compare(keras, profond, path):
    """(Keras's names, those profond has, those it lacks) for ``keras.<path>``."""
    theirs = public_names(_module(keras, path))
    ours_module = _module(profond, path)
    ours = {} if ours_module is None else {
        n: _kind(getattr(ours_module, n)) for n in theirs if hasattr(ours_module, n)}
    have = sorted(n for n, kind in theirs.items() if ours.get(n) == kind)
    missing = sorted(n for n in theirs if n not in set(have))
    return sorted(theirs), have, missing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missing", action="store_true", help="list the missing names")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = importlib.import_module("keras")
    profond = importlib.import_module("profond")
    rows = []
    total_theirs = total_have = 0
    for path in NAMESPACES + SUBMODULES:
        theirs, have, missing = compare(keras, profond, path)
        rows.append((path, theirs, have, missing))
        if path in NAMESPACES:
            total_theirs += len(theirs)
            total_have += len(have)
    print(f"Keras {keras.__version__} public names that profond has under the same path\n")
    print(f"| {'namespace':<26} | {'Keras':>5} | {'profond':>7} | {'share':>5} |")
    print(f"|{'-' * 28}|{'-' * 7}|{'-' * 9}|{'-' * 7}|")
    for path, theirs, have, _ in rows:
        share = 100 * len(have) / len(theirs) if theirs else 100.0
        print(f"| {'keras.' + path:<26} | {len(theirs):>5} | {len(have):>7} | {share:>4.0f}% |")
    print(f"| {'total (7 namespaces)':<26} | {total_theirs:>5} | {total_have:>7} | "
          f"{100 * total_have / total_theirs:>4.0f}% |")
    if args.missing:
        for path, _, _, missing in rows:
            print(f"\nkeras.{path}: {len(missing)} missing")
            print("  " + ", ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
