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
left it with `profond train --resume RUN_FOLDER`, and ends with the same weights as a run
that was never interrupted.
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
                        "checkpoint); other options are ignored")
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

    check_args(args)
    if args.resume:
        import os

        from profond.recipe import parse_recipe

        path = os.path.join(args.resume, "recipe.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{args.resume!r} is not a run folder: it has no "
                                    "recipe.json.")
        with open(path, encoding="utf-8") as fh:
            recipe = parse_recipe(json.load(fh), source=path)
        results = run_recipe(recipe, out_dir=args.resume, verbose=0 if args.quiet else 1,
                             source=path, resume=True)
        return _print_results(results)
    source = args.recipe or "default recipe (digits_mlp)"
    recipe = load_recipe(args.recipe)
    if args.show_recipe:
        print(json.dumps(recipe, indent=2))
        return 0
    results = run_recipe(recipe, out_dir=args.out, verbose=0 if args.quiet else 1,
                         epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                         source=source)
    return _print_results(results)


def _print_results(results) -> int:
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
