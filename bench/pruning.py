"""Structured pruning on real data: a Fashion-MNIST MLP made smaller and faster.

Target (issue 8): an MLP 784-512-512-10 pruned to half or fewer of its hidden units keeps its
test accuracy within 1 point after fine-tuning, and its ``predict`` runs >= 1.6x faster.

1. train the MLP (ReLU, softmax, Adam 1e-3, batch 128) for ``--epochs`` epochs;
2. remove ``--amount`` of the units of both hidden layers, those with the smallest L2 norm of
   incoming weights (``prune_neurons``), in one shot, or with ``--gradual`` in ``--steps``
   steps during fine-tuning (``NeuronPruning``);
3. fine-tune the smaller model for ``--fine-tune-epochs`` epochs;
4. print the report (parameters, FLOPs, file size, ``predict`` time over the 10,000 test
   images at Keras's default batch size 32, accuracy) and the verdict on the target.

Run: python bench/pruning.py [--epochs 10] [--fine-tune-epochs 3] [--amount 0.5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import profond
from profond import datasets, layers
from profond.pruning import NeuronPruning, prune_neurons, report


def load():
    (x, y), (xt, yt) = datasets.load_fashion_mnist()
    scale = np.float32(1 / 255)
    return x.reshape(len(x), -1) * scale, y, xt.reshape(len(xt), -1) * scale, yt


def mlp(seed):
    profond.random.seed(seed)
    model = profond.Sequential([
        layers.Input((784,)),
        layers.Dense(512, activation="relu", kernel_initializer="he_normal", name="hidden_1"),
        layers.Dense(512, activation="relu", kernel_initializer="he_normal", name="hidden_2"),
        layers.Dense(10, activation="softmax", name="output")])
    model.compile(optimizer=profond.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def accuracy(model, x, y):
    return float(np.mean(model.predict(x, batch_size=256, verbose=0).argmax(axis=1) == y))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--fine-tune-epochs", type=int, default=3)
    p.add_argument("--amount", type=float, default=0.5)
    p.add_argument("--criterion", default="l2")
    p.add_argument("--gradual", action="store_true",
                   help="prune in --steps steps during fine-tuning instead of in one shot")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    x, y, xt, yt = load()
    model = mlp(args.seed)
    t0 = time.perf_counter()
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
    print(f"trained 784-512-512-10 for {args.epochs} epochs in {time.perf_counter() - t0:.0f}s:"
          f" test accuracy {100 * accuracy(model, xt, yt):.2f} %")

    t0 = time.perf_counter()
    if args.gradual:
        # A copy of the trained model to prune in place while fine-tuning.
        small = prune_neurons(model, threshold=-1.0)   # removes nothing: a compiled copy
        pruner = NeuronPruning(final_amount=args.amount, steps=args.steps,
                               criterion=args.criterion, verbose=1)
        small.fit(x, y, epochs=args.fine_tune_epochs, batch_size=args.batch_size, verbose=0,
                  callbacks=[pruner])
    else:
        small = prune_neurons(model, amount=args.amount, criterion=args.criterion)
        print(f"pruned to {[layer.units for layer in small.layers]}: test accuracy before "
              f"fine-tuning {100 * accuracy(small, xt, yt):.2f} %")
        small.fit(x, y, epochs=args.fine_tune_epochs, batch_size=args.batch_size, verbose=0)
    print(f"{'gradual pruning and ' if args.gradual else ''}fine-tuning, "
          f"{args.fine_tune_epochs} epochs: {time.perf_counter() - t0:.0f}s")

    r = report(model, small, xt, yt, batch_size=32, repeats=args.repeats,
               names=("784-512-512-10", "-".join(str(s) for s in
                                                 [784] + [la.units for la in small.layers])))
    print()
    print(r)
    d = r.to_dict()
    timing = next(k for k in d if k.startswith("predict"))
    speedup = d[timing]["before"] / d[timing]["after"]
    drop = 100 * (d["accuracy"]["before"] - d["accuracy"]["after"])
    hidden = [la.units for la in small.layers[:-1]]
    print()
    print(f"hidden units kept: {hidden} of [512, 512] "
          f"({'ok' if all(h <= 256 for h in hidden) else 'MISSED'}: <= half)")
    print(f"accuracy drop: {drop:+.2f} points ({'ok' if drop <= 1.0 else 'MISSED'}: <= 1)")
    print(f"predict speed-up: {speedup:.2f}x ({'ok' if speedup >= 1.6 else 'MISSED'}: >= 1.6x)")


if __name__ == "__main__":
    main()
