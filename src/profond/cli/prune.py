"""``profond prune [MODEL]``: remove units from a model and print the before/after report."""

from __future__ import annotations

import argparse

HELP = """\
Remove whole units (structured pruning) from a Sequential model, optionally fine-tune the
smaller model, and print a report: parameters, FLOPs, weights-file size, predict time and
accuracy, before and after.

MODEL is a file written by model.save(path) (a compiled model is needed to fine-tune).
With no MODEL, a demo: trains an MLP 64-256-256-10 on scikit-learn's handwritten digits,
removes half of its hidden units and fine-tunes it (its layers: hidden_1, hidden_2, output).
Every option is checked before any data is read or any model trained.

Data (--data): "digits" (pixels / 16), "fashion_mnist" (pixels / 255, the test set for the
report, the training set for fine-tuning), or an .npz file with arrays x, y (report) and
optionally x_train, y_train (fine-tuning). x is reshaped to the model's input shape.

Examples:
  profond prune                                   # the digits demo
  profond prune model.safetensors --data fashion_mnist --amount 0.5 --fine-tune-epochs 2
  profond prune model.safetensors --threshold 0   # remove exactly dead units only
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("prune", help="remove units from a model and report the gains",
                              description=HELP, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("model", nargs="?", default=None,
                   help="model file from model.save (default: train the digits demo MLP)")
    p.add_argument("--data", default="digits",
                   help="digits, fashion_mnist or a .npz file (default: digits)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--amount", type=float, default=None,
                     help="fraction of each layer's units to remove, in [0, 1) (default 0.5)")
    how.add_argument("--threshold", type=float, default=None,
                     help="remove the units scoring <= THRESHOLD (0: exactly dead units)")
    p.add_argument("--criterion", default="l2", help="l1, l2, mean_abs or max_abs (default l2)")
    p.add_argument("--layers", default=None,
                   help="comma-separated names of the layers to prune (default: all hidden)")
    p.add_argument("--fine-tune-epochs", type=int, default=None,
                   help="epochs of fine-tuning after pruning (default: 0, or 5 in the demo)")
    p.add_argument("--batch-size", type=int, default=32, help="for fine-tuning and predict")
    p.add_argument("--repeats", type=int, default=5, help="predict timings per model")
    p.add_argument("--seed", type=int, default=0, help="seed for the demo and data split")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="save the pruned model there (model.save format, .safetensors)")
    p.set_defaults(func=run)


def _prepare_data(name, seed):
    """``(x_train, y_train, x_test, y_test)`` with pixels scaled to [0, 1]."""
    import os

    import numpy as np

    from profond import datasets

    if name == "digits":
        from profond.data import train_test_split

        x, y = datasets.load_digits()
        x_tr, x_te, y_tr, y_te = train_test_split(x / 16.0, y, test_size=0.2, stratify=y,
                                                  seed=seed)
        return x_tr, y_tr, x_te, y_te
    if name == "fashion_mnist":
        (x_tr, y_tr), (x_te, y_te) = datasets.load_fashion_mnist()
        return x_tr / np.float32(255), y_tr, x_te / np.float32(255), y_te
    if name.endswith(".npz"):
        if not os.path.exists(name):
            raise FileNotFoundError(f"--data {name!r} does not exist.")
        with np.load(name, allow_pickle=False) as f:
            if "x" not in f or "y" not in f:
                raise ValueError(f"The '--data' option of profond prune must name a .npz file "
                                 f"holding arrays 'x' and 'y' (and optionally 'x_train', "
                                 f"'y_train'). Got {name!r}, which holds {sorted(f.files)}, "
                                 "instead.")
            train = (f["x_train"], f["y_train"]) if "x_train" in f else (None, None)
            return train[0], train[1], f["x"], f["y"]
    raise ValueError(f"The '--data' option of profond prune must be 'digits', 'fashion_mnist' "
                     f"or a .npz file. Got {name!r} instead.")


def _fit_shape(x, model):
    if x is None:
        return None
    shape = tuple(model._build_input_shape[1:])
    if tuple(x.shape[1:]) != shape:
        x = x.reshape((len(x),) + shape)
    return x.astype("float32")


def _demo_model(x, y, seed):
    """The demo MLP, compiled but not trained yet (its layer names are checked first)."""
    import profond
    from profond import layers

    profond.random.seed(seed)
    model = profond.Sequential([
        layers.Input((x.shape[1],)),
        layers.Dense(256, activation="relu", kernel_initializer="he_normal", name="hidden_1"),
        layers.Dense(256, activation="relu", kernel_initializer="he_normal", name="hidden_2"),
        layers.Dense(int(y.max()) + 1, activation="softmax", name="output")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


OWNER = "profond prune"


def check_args(args) -> None:
    """Refuse a wrong option before any data is read or any model trained."""
    import os

    from profond._validation import check_choice, check_float, check_int
    from profond.pruning import CRITERIA

    if args.amount is not None:
        check_float(args.amount, "--amount", OWNER, low=0, high=1, high_open=True)
    if args.threshold is not None:
        check_float(args.threshold, "--threshold", OWNER, low=0)
    check_choice(args.criterion, "--criterion", OWNER, sorted(CRITERIA))
    if args.fine_tune_epochs is not None:
        check_int(args.fine_tune_epochs, "--fine-tune-epochs", OWNER, low=0)
    check_int(args.batch_size, "--batch-size", OWNER, low=1)
    check_int(args.repeats, "--repeats", OWNER, low=1)
    check_int(args.seed, "--seed", OWNER, low=0)
    if args.data not in ("digits", "fashion_mnist") and not (
            args.data.endswith(".npz") and os.path.isfile(args.data)):
        raise ValueError(f"The '--data' parameter of {OWNER} must be 'digits', "
                         f"'fashion_mnist' or an existing .npz file. Got {args.data!r} instead.")
    if args.model is not None and not os.path.isfile(args.model):
        raise ValueError(f"The 'MODEL' parameter of {OWNER} must be a model file written by "
                         f"model.save. Got {args.model!r}, which is not a file, instead.")
    if args.out is not None and (not args.out.endswith(".safetensors")
                                 or os.path.isdir(args.out)):
        raise ValueError(f"The '--out' parameter of {OWNER} must be a file name ending in "
                         f"'.safetensors'. Got {args.out!r} instead.")
    if args.layers is not None and not [n for n in args.layers.split(",") if n.strip()]:
        raise ValueError(f"The '--layers' parameter of {OWNER} must be comma-separated layer "
                         f"names. Got {args.layers!r} instead.")


def _check_layers(names, criterion, model) -> None:
    """Refuse ``--layers`` (and ``--criterion``) as pruning would, before any training: a
    pruning that removes nothing checks them on the model as it is, in milliseconds."""
    from profond.pruning import prune_neurons

    prune_neurons(model, amount=0.0, criterion=criterion, layers=names)


def run(args) -> int:
    import profond
    from profond.pruning import prune_neurons, report

    check_args(args)
    layers = [n.strip() for n in args.layers.split(",") if n.strip()] if args.layers else None
    if args.model is not None:  # read and checked before the data, which may be large
        model = profond.load_model(args.model)
        _check_layers(layers, args.criterion, model)
    x_tr, y_tr, x_te, y_te = _prepare_data(args.data, args.seed)
    if args.model is None:
        model = _demo_model(x_tr.reshape(len(x_tr), -1), y_tr, args.seed)
        _check_layers(layers, args.criterion, model)
        print(f"demo: training an MLP 64-256-256-10 on {args.data} (20 epochs) ...")
        model.fit(x_tr.reshape(len(x_tr), -1), y_tr, epochs=20, batch_size=args.batch_size,
                  verbose=0)
        epochs = 5 if args.fine_tune_epochs is None else args.fine_tune_epochs
    else:
        epochs = args.fine_tune_epochs or 0
    if epochs and x_tr is None:
        raise ValueError("Fine-tuning needs training data: the .npz file has no x_train, "
                         "y_train.")
    if epochs and getattr(model, "optimizer", None) is None:
        raise ValueError(f"{args.model} holds an uncompiled model: it cannot be fine-tuned "
                         "(save it after compile, or use --fine-tune-epochs 0).")
    x_tr, x_te = _fit_shape(x_tr, model), _fit_shape(x_te, model)
    amount = 0.5 if args.amount is None and args.threshold is None else args.amount
    small = prune_neurons(model, threshold=args.threshold, amount=amount,
                          criterion=args.criterion, layers=layers)
    changes = [f"{a.name} {_size(a)}->{_size(b)}" for a, b in zip(model.layers, small.layers)
               if _size(a) != _size(b)]
    print("pruned: " + (", ".join(changes) if changes else "nothing (no unit selected)"))
    if epochs:
        small.fit(x_tr, y_tr, epochs=epochs, batch_size=args.batch_size, verbose=0)
        print(f"fine-tuned for {epochs} epoch(s)")
    print()
    print(report(model, small, x_te, y_te, batch_size=args.batch_size, repeats=args.repeats,
                 names=("original", "pruned")))
    if args.out:
        small.save(args.out)
        print(f"\npruned model saved to {args.out}")
    return 0


def _size(layer):
    return getattr(layer, "units", None) or getattr(layer, "filters", None)
