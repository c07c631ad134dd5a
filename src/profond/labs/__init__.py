"""The deck's lessons as experiments: one lab per lesson, with numbers, plots and a verdict.

Each lab is a module with

- ``NAME`` (``"losses"``), ``TITLE`` and ``CLAIM`` (what the deck says);
- ``run(quick=False, seed=0) -> dict``: the experiment, returning plain data (see
  :mod:`profond.labs._common`): a table of figures, the plotted series, the checks of the claim
  on those numbers, and a verdict written from them (including when they do not bear it out);
- ``plot(result, out_dir) -> list[str]``: the PNG files drawn from a result.

``profond lab list`` lists them, ``profond lab NAME`` runs one, ``profond lab all --out DIR``
runs them all and writes an HTML report (:mod:`profond.labs.report`).

Examples
--------
>>> from profond import labs
>>> result = labs.get("losses").run(quick=True, seed=0)   # doctest: +SKIP
>>> result["holds"], result["verdict"]                      # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os

__all__ = ["LABS", "names", "get", "run_lab"]

# Lab name -> module of profond.labs, in the deck's order.
LABS = {
    "classical-vs-deep": "classical_vs_deep",
    "backprop": "backprop",
    "gradients": "gradients",
    "layers": "layers_lab",
    "activations": "activations",
    "width-vs-depth": "width_vs_depth",
    "fitting": "fitting",
    "losses": "losses",
    "learning-rate": "learning_rate",
    "optimizers": "optimizers",
    "batch-epochs": "batch_epochs",
    "normalization-init": "normalization_init",
    "schedules": "schedules",
    "balancing": "balancing",
    "regularization": "regularization",
}


def _module_name(name: str) -> str:
    return f"profond.labs.{LABS[name]}"


def names(include_missing: bool = False) -> list:
    """The labs, in the deck's order: those that are installed (all of them with
    ``include_missing=True``)."""
    if include_missing:
        return list(LABS)
    return [n for n in LABS if importlib.util.find_spec(_module_name(n)) is not None]


def get(name: str):
    """The module of the lab called ``name`` (``"losses"``, ``"width-vs-depth"`` ...)."""
    key = str(name).replace("_", "-")
    if key == "layers-lab":
        key = "layers"
    if key not in LABS:
        import difflib

        hint = difflib.get_close_matches(key, list(LABS), n=1)
        raise ValueError(f"Unknown lab {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint
                                                    else "") + f". Labs: {names()}.")
    if importlib.util.find_spec(_module_name(key)) is None:
        raise ValueError(f"The lab {key!r} is not available yet: the pieces of profond it "
                         f"shows are still being written. Available labs: {names()}.")
    return importlib.import_module(_module_name(key))


def run_lab(name: str, quick: bool = False, seed: int = 0, out_dir=None) -> dict:
    """Run a lab; with ``out_dir``, also write its plots and ``result.json`` there.

    The lab states its claims on 3 seeds in quick mode and 5 in full mode, from ``seed`` on;
    the table and plots show the run on ``seed`` (see :func:`profond.labs._common.over_seeds`).

    Returns the lab's result with ``"images"`` added: the PNG paths relative to ``out_dir``
    (empty without ``out_dir``).
    """
    from profond import distribution
    from profond._files import atomic_write_text

    module = get(name)
    result = module.run(quick=quick, seed=seed)
    result["images"] = []
    if out_dir is not None and distribution.is_primary():  # under mpiexec, rank 0 writes
        out_dir = os.fspath(out_dir)
        os.makedirs(out_dir, exist_ok=True)
        paths = module.plot(result, out_dir)
        result["images"] = [os.path.relpath(p, out_dir) for p in paths]
        atomic_write_text(os.path.join(out_dir, "result.json"),
                          json.dumps(result, indent=1) + "\n")
    return result
