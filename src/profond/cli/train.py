"""``profond train [RECIPE.toml]``: train what a recipe describes and write a run folder."""

from __future__ import annotations

import argparse

HELP = """\
Train a model from a recipe (a TOML file: data, model, compile, fit).
With no RECIPE, trains the default recipe: an MLP on scikit-learn's bundled handwritten digits.

The run folder (--out, default runs/<name>-<time>) receives:
  recipe.json              the recipe as run (overrides included), written first
  checkpoint.safetensors   model, optimizer and random state after each epoch
  history.csv              loss and metrics per epoch, train and validation
  learning_curves.png      the same as plots
  model.safetensors        the trained model (profond.load_model reads it)
  results.json             test metrics, parameter count, training time

An interrupted run (Ctrl-C, a crash, even SIGKILL) continues where its last checkpoint
left it with `profond train --resume RUN_FOLDER`, and ends with the same weights, history
and results as a run that was never interrupted (callbacks' counters, best values and best
weights included). With --resume:
  --epochs N      extends the run to N epochs (the same as a run started with N); fewer
                  epochs than the run has done are refused
  --quiet         as usual
  --show-recipe   prints the run's recipe
  --seed, --batch-size, --out and RECIPE are refused unless they repeat the run's own
A run that finished (all its epochs, or stopped early) is left untouched: the command says
so and prints its results.
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a model from a recipe (default: digits MLP)",
                              description=HELP, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("recipe", nargs="?", default=None,
                   help="path to a recipe .toml file (default: the digits MLP recipe)")
    p.add_argument("--epochs", type=int, default=None,
                   help="override the recipe's [fit] epochs")
    p.add_argument("--batch-size", type=int, default=None,
                   help="override the recipe's [fit] batch_size")
    p.add_argument("--seed", type=int, default=None,
                   help="override the recipe's seed (same seed: same run, bit for bit)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run folder to write (default: runs/<name>-<time>)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar; print only the results")
    p.add_argument("--resume", default=None, metavar="RUN_FOLDER",
                   help="continue an interrupted run from its folder (its recipe.json and "
                        "checkpoint); --epochs N extends it, options that contradict the "
                        "run are refused")
    p.add_argument("--show-recipe", action="store_true",
                   help="print the recipe that would run, and exit")
    p.set_defaults(func=run)


OWNER = "profond train"


def check_args(args) -> None:
    """Refuse a wrong option before any work starts (``ValueError`` in the usual form)."""
    from profond._validation import check_int

    # None means "not given": the recipe's value (the message need not offer it).
    for value, option, low in ((args.epochs, "--epochs", 1), (args.batch_size, "--batch-size", 1),
                               (args.seed, "--seed", 0)):
        if value is not None:
            check_int(value, option, OWNER, low=low)
    if args.out is not None:
        check_out_dir(args.out, "--out", OWNER)


def check_out_dir(path, param, owner) -> None:
    """A run folder must be a folder, or not exist yet (with a parent that can hold it)."""
    import os

    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"The '{param}' parameter of {owner} must be a folder (new or "
                         f"existing). Got {path!r}, an existing file, instead.")


def run(args) -> int:
    import json

    from profond.recipe import load_recipe, run_recipe

    from profond import distribution

    check_args(args)
    # Under mpiexec: the recipe's fit is data-parallel over the ranks, and rank 0 reports.
    if distribution.size() > 1 and distribution.distribution() is None:
        distribution.set_distribution(distribution.DataParallel())
    if args.resume:
        return _resume(args)
    source = args.recipe or "default recipe (digits_mlp)"
    recipe = load_recipe(args.recipe)
    if args.show_recipe:
        print(json.dumps(recipe, indent=2))
        return 0
    results = run_recipe(recipe, out_dir=args.out, verbose=0 if args.quiet else 1,
                         epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                         source=source)
    return _print_results(results)


def _resume(args) -> int:
    """``--resume RUN_FOLDER``: continue the run, refusing options that contradict it."""
    import json
    import os

    from profond.recipe import parse_recipe, run_recipe

    path = os.path.join(args.resume, "recipe.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{args.resume!r} is not a run folder: it has no "
                                "recipe.json.")
    with open(path, encoding="utf-8") as fh:
        recipe = parse_recipe(json.load(fh), source=path)
    fit = recipe.get("fit", {})
    contradictions = []
    if args.recipe is not None:
        contradictions.append(f"RECIPE {args.recipe!r} (the run's recipe is its recipe.json)")
    for flag, given, own in (("--seed", args.seed, recipe.get("seed")),
                             ("--batch-size", args.batch_size, fit.get("batch_size"))):
        if given is not None and given != own:
            contradictions.append(f"{flag} {given} (the run's is {own})")
    if args.out is not None and os.path.abspath(args.out) != os.path.abspath(args.resume):
        contradictions.append(f"--out {args.out!r} (the run folder is {args.resume!r})")
    if contradictions:
        raise ValueError("--resume continues the run in its folder as it was started; these "
                         "options contradict it: " + "; ".join(contradictions) + ".")
    if args.show_recipe:
        print(json.dumps(recipe, indent=2))
        return 0
    results = run_recipe(recipe, out_dir=args.resume, verbose=0 if args.quiet else 1,
                         epochs=args.epochs, source=path, resume=True)
    if results.get("already_finished"):
        more = " (more epochs would not change an early-stopped run)" if \
            args.epochs is not None and "early" in results["finished_because"] else ""
        print(f"{results['recipe']}: the run in {args.resume} had finished "
              f"({results['finished_because']}){more}: nothing to do; its results:")
    return _print_results(results)


def _print_results(results) -> int:
    from profond import distribution

    if not distribution.is_primary():
        return 0
    metrics = {k: v for k, v in results.items() if k.startswith("test_")}
    shown = "  ".join(f"{k[5:]}={v:.4f}" for k, v in metrics.items())
    print(f"{results['recipe']}: {results['params']:,} parameters, {_epochs_line(results)}")
    print(f"test: {shown}")
    print(f"run folder: {results['out_dir']}")
    return 0


def _epochs_line(results) -> str:
    """"30 epochs in 2.1s", or after a resume "5 epochs in 0.2s (resumed after epoch 55; 60
    in all)": the time is that of the epochs this command ran."""
    ran = results.get("epochs_this_run", results["epochs_run"])
    line = f"{ran} epoch{'s' if ran != 1 else ''} in {results['train_seconds']:.1f}s"
    first = results.get("initial_epoch", 0)
    if first:
        line += f" (resumed after epoch {first}; {results['epochs_run']} in all)"
    return line
