"""Lab ``layers``: Dense vs convolutional networks on images (parameters vs accuracy);
SimpleRNN vs GRU vs LSTM on a task that needs a long memory.

1. **Dense vs CNN.** Multilayer perceptrons (``Flatten`` then ``Dense`` layers, ``MLPS``) and
   small convolutional networks (two ``Conv2D`` 3 x 3 + ``MaxPooling2D`` stages, then
   ``Flatten`` and one ``Dense`` softmax, ``CNNS``) are trained on the same images with the same
   optimizer and epochs: the bundled 8 x 8 digits in quick mode, a subset of Fashion-MNIST
   (28 x 28) in full mode. The figures: each network's parameter count against its test
   accuracy.
2. **Memory.** Each sequence has ``T`` steps of random signs (channel 0); one step, at a random
   place, is marked (channel 1); the label is the sign at the marked step. The training
   sequences have the mark anywhere, so the short gaps teach the cells what to remember; the
   long-gap test has the mark in the first 10 steps, so the sign must be kept for 30 to 40 steps
   while 30+ new signs arrive through the same input (the task of ``tests/test_gates_memory.py``).
   ``SimpleRNN``, ``GRU`` and ``LSTM`` with the same number of units (``UNITS``), optimizer,
   data and epochs, and a ``SimpleRNN`` widened to about the LSTM's parameter count; a gated
   cell can open its input gate at the mark and then stop overwriting its memory, a SimpleRNN
   has no such switch. The figures: accuracy against the gap between the mark and the end of
   the sequence (chance is 0.5).

The lab runs on one BLAS thread (when ``threadpoolctl`` is installed, as it is with
scikit-learn): its matrices are small, and several threads on a busy machine make them many
times slower without changing a number.
"""

from __future__ import annotations

import sys

import numpy as np

from profond import backend
from profond.labs._common import (Stopwatch, above, all_ok, bears_out, below, fmt, make_result, ok,
                                  over_seeds, pyplot, save, seed_everything)

NAME = "layers"
TITLE = "Dense vs CNN; SimpleRNN vs GRU vs LSTM"
CLAIM = ("The main layers: Dense layers connect every input to every unit; convolutional layers "
         "(CNN) slide small shared filters over an image, and on images reach the accuracy of "
         "dense networks with far fewer parameters. Recurrent networks (RNNs) keep a short-term "
         "memory within a sequence; GRU and LSTM add gates to forget data and to keep data in "
         "long-term memory.")

MLPS = ((32,), (128,), (256, 256))          # hidden units of each MLP
CNNS = ((8, 16), (16, 32))                  # filters of the two convolution stages
LEARNING_RATE = 0.003
N_FASHION = 20000                           # Fashion-MNIST training images used in full mode
T = 40                                      # steps per sequence (long-memory task)
T_SHORT = 10                                # steps per sequence (short-memory task)
UNITS = 8
LONG_GAP_FIRST = 10                         # long-gap test: the mark in steps 0..9
CELLS = ("SimpleRNN", "GRU", "LSTM")
CHANCE = 0.5
GATED_MIN = 0.9                             # a cell "remembers" at this long-gap accuracy
NEAR_CHANCE = 0.75                          # a cell "stays near chance" below this one
MATCH = 0.01                                # "matches": within this accuracy


# --- 1. Dense vs CNN -----------------------------------------------------------------------

def _images(quick, seed):
    """``(name, x_tr, x_te, y_tr, y_te)``: pixels in [0, 1], channels-last."""
    from profond import data as pdata
    from profond import datasets

    if not quick:
        try:
            (x_tr, y_tr), (x_te, y_te) = datasets.load_fashion_mnist()
        except FileNotFoundError:
            x_tr = None
        if x_tr is not None:
            keep = np.random.default_rng(seed).permutation(len(x_tr))[:N_FASHION]
            x_tr, y_tr = x_tr[keep], y_tr[keep]
            return ("Fashion-MNIST", np.divide(x_tr[..., None], 255, dtype=np.float32),
                    np.divide(x_te[..., None], 255, dtype=np.float32), np.asarray(y_tr),
                    np.asarray(y_te))
    x, y = datasets.load_digits(images=True)
    x_tr, x_te, y_tr, y_te = pdata.train_test_split((x / 16.0).astype(np.float32), y,
                                                    test_size=0.25, stratify=y, seed=seed)
    return ("digits" if quick else "digits (Fashion-MNIST not found)", x_tr, x_te,
            np.asarray(y_tr), np.asarray(y_te))


def _mlp(shape, hidden):
    from profond import Sequential, layers

    return Sequential([layers.Input(shape), layers.Flatten()]
                      + [layers.Dense(u, activation="relu", kernel_initializer="he_normal")
                         for u in hidden]
                      + [layers.Dense(10, activation="softmax")])


def _cnn(shape, filters):
    from profond import Sequential, layers

    stages = []
    for f in filters:
        stages += [layers.Conv2D(f, 3, padding="same", activation="relu",
                                 kernel_initializer="he_normal"), layers.MaxPooling2D()]
    return Sequential([layers.Input(shape), *stages, layers.Flatten(),
                       layers.Dense(10, activation="softmax")])


def _image_runs(quick, seed, epochs):
    import profond
    from profond import optimizers

    name, x_tr, x_te, y_tr, y_te = _images(quick, seed)
    specs = [(f"MLP {'-'.join(map(str, h))}", "MLP", lambda h=h: _mlp(x_tr.shape[1:], h))
             for h in MLPS]
    specs += [(f"CNN {'-'.join(map(str, f))}", "CNN", lambda f=f: _cnn(x_tr.shape[1:], f))
              for f in CNNS]
    runs = {}
    for label, kind, build in specs:
        profond.random.seed(seed)
        model = build()
        model.compile(optimizer=optimizers.Adam(LEARNING_RATE),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        with Stopwatch() as sw:
            h = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0).history
        test = model.evaluate(x_te, y_te, batch_size=512, verbose=0, return_dict=True)
        runs[label] = {"kind": kind, "parameters": int(model.count_params()),
                       "train_accuracy": float(h["accuracy"][-1]),
                       "test_accuracy": float(test["accuracy"]), "seconds": sw.seconds}
    return {"dataset": name, "image_shape": list(x_tr.shape[1:]), "n_train": len(x_tr),
            "n_test": len(x_te), "epochs": epochs, "runs": runs}


# --- 2. SimpleRNN vs GRU vs LSTM -------------------------------------------------------------

def memory_task(n, rng, first=0, last=T, steps=T):
    """``n`` sequences of ``steps`` random signs with one marked step in ``[first, last)``.

    Returns
    -------
    x : ndarray of float32, shape (n, steps, 2)
        Channel 0: the signs (+1 or -1); channel 1: 1 at the marked step, else 0.
    y : ndarray of int64, shape (n,)
        1 if the sign at the marked step is +1, else 0.
    gap : ndarray of int64, shape (n,)
        Steps from the mark to the end of the sequence (``steps - position``).
    """
    x = np.zeros((n, steps, 2), np.float32)
    x[:, :, 0] = rng.choice([-1.0, 1.0], (n, steps))
    pos = rng.integers(first, last, n)
    x[np.arange(n), pos, 1] = 1.0
    return x, (x[np.arange(n), pos, 0] > 0).astype(np.int64), steps - pos


def _cell_params(cls, units):
    from profond import Sequential, layers

    return int(Sequential([layers.Input((T, 2)), cls(units)]).count_params())


def _train_cell(cls, units, seed, x, y, epochs):
    import profond
    from profond import Sequential, layers, losses, optimizers

    profond.random.seed(seed)
    model = Sequential([layers.Input(x.shape[1:]), cls(units), layers.Dense(2)])
    model.compile(optimizer=optimizers.Adam(0.01),
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    with Stopwatch() as sw:
        h = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0).history
    return model, float(h["accuracy"][-1]), sw.seconds


def _accuracy(model, x, y) -> float:
    return float((np.asarray(model.predict(x, batch_size=512, verbose=0)).argmax(axis=-1)
                  == y).mean())


def _memory_runs(seed, n_train, epochs, repeats):
    from profond import layers

    rng = np.random.default_rng([seed, 0])
    x_short, y_short, _ = memory_task(n_train, rng, 0, T_SHORT, steps=T_SHORT)
    xt_short, yt_short, _ = memory_task(1024, rng, 0, T_SHORT, steps=T_SHORT)
    long_tasks = []
    for r in range(repeats):       # each repeat: its own sequences and initial weights
        rng = np.random.default_rng([seed, r + 1])
        long_tasks.append((memory_task(n_train, rng), memory_task(1024, rng),
                           memory_task(512, rng, 0, LONG_GAP_FIRST)))
    lstm_params = _cell_params(layers.LSTM, UNITS)
    wide = min(range(UNITS, 8 * UNITS), key=lambda u: abs(_cell_params(layers.SimpleRNN, u)
                                                           - lstm_params))
    specs = [(c, getattr(layers, c), UNITS) for c in CELLS]
    specs.append((f"SimpleRNN {wide} units", layers.SimpleRNN, wide))
    buckets = [(lo, lo + 4) for lo in range(1, T + 1, 5)]     # gaps 1-5, 6-10, ...
    runs = {}
    for label, cls, units in specs:
        short, short_train, short_seconds = _train_cell(cls, units, seed, x_short, y_short,
                                                        epochs)
        train_acc, long_acc, by_gap, seconds = [], [], [], 0.0
        for r, ((x, y, _), (x_any, y_any, gap_any), (x_long, y_long, _)) in \
                enumerate(long_tasks):
            model, acc, sec = _train_cell(cls, units, seed * 1000 + r, x, y, epochs)
            hit = np.asarray(model.predict(x_any, batch_size=512, verbose=0)).argmax(axis=-1) \
                == y_any
            train_acc.append(acc)
            long_acc.append(_accuracy(model, x_long, y_long))
            by_gap.append([float(hit[(gap_any >= lo) & (gap_any <= hi)].mean())
                           for lo, hi in buckets])
            seconds += sec
        runs[label] = {"cell": cls.__name__, "units": units,
                       "parameters": int(model.count_params()),
                       "short_accuracy": _accuracy(short, xt_short, yt_short),
                       "short_train_accuracy": short_train, "short_seconds": short_seconds,
                       "train_accuracy": float(np.median(train_acc)),
                       "long_gap_accuracies": long_acc,
                       "long_gap_accuracy": float(np.median(long_acc)),
                       "successes": int(sum(a >= GATED_MIN for a in long_acc)),
                       "accuracy_by_gap": np.mean(by_gap, axis=0).tolist(),
                       "seconds": seconds / len(long_tasks)}
    return {"steps": T, "short_steps": T_SHORT, "n_train": n_train, "epochs": epochs,
            "units": UNITS, "repeats": repeats,
            "gap_buckets": [f"{lo}-{hi}" for lo, hi in buckets], "runs": runs}


def _beats(a, b) -> str:
    return "beats" if a["test_accuracy"] > b["test_accuracy"] else "does NOT beat"


@over_seeds
def run(quick: bool = False, seed: int = 0, epochs: int | None = None,
        rnn_epochs: int | None = None, n_sequences: int | None = None,
        repeats: int | None = None):
    """Train the image networks and the recurrent cells.

    Parameters
    ----------
    quick : bool
        Digits images (15 epochs) and 768 training sequences (10 epochs), instead of
        ``N_FASHION`` Fashion-MNIST images (6 epochs) and 1,536 sequences (10 epochs).
    seed : int
        Seeds the split, the initial weights and the sequences.
    epochs : int, optional
        Epochs of every image network.
    rnn_epochs : int, optional
        Epochs of every recurrent network.
    n_sequences : int, optional
        Training sequences of the memory task.
    repeats : int, optional
        Independent runs (sequences and initial weights) of each cell on the long-memory
        task, 3 in quick mode and 5 in full mode: a cell's figure is their median, since a
        SimpleRNN now and then finds a way to latch the sign, and a gated cell now and then
        fails to learn in the budget.

    Returns
    -------
    dict
        The lab's result (see :mod:`profond.labs._common`); ``data["images"]["runs"]`` and
        ``data["memory"]["runs"]`` hold each network's figures.
    """
    seed_everything(seed)
    epochs = epochs or (15 if quick else 6)
    rnn_epochs = rnn_epochs or 10
    n_sequences = n_sequences or (768 if quick else 1536)
    repeats = repeats or (3 if quick else 5)
    with Stopwatch() as sw, backend.blas_threads(1):
        images = _image_runs(quick, seed, epochs)
        memory = _memory_runs(seed, n_sequences, rnn_epochs, repeats)

    img = images["runs"]
    mlps = {k: r for k, r in img.items() if r["kind"] == "MLP"}
    cnns = {k: r for k, r in img.items() if r["kind"] == "CNN"}
    best_mlp = max(mlps, key=lambda k: mlps[k]["test_accuracy"])
    best_cnn = max(cnns, key=lambda k: cnns[k]["test_accuracy"])
    # each CNN against the smallest MLP that has at least as many parameters
    pairs = {}
    for k, r in cnns.items():
        bigger = [m for m in mlps if mlps[m]["parameters"] >= r["parameters"]]
        if bigger:
            pairs[k] = min(bigger, key=lambda m: mlps[m]["parameters"])
    mem = memory["runs"]
    gated = [k for k in mem if mem[k]["cell"] != "SimpleRNN"]
    simple = [k for k in mem if mem[k]["cell"] == "SimpleRNN"]
    checks = {
        "best_cnn_matches_best_mlp": above(
            img[best_cnn]["test_accuracy"] - img[best_mlp]["test_accuracy"], -MATCH,
            "test accuracy, best CNN minus best MLP", strict=False),
        "best_cnn_has_at_most_a_fifth_of_its_parameters": img[best_cnn]["parameters"]
        <= img[best_mlp]["parameters"] / 5,
        "each_cnn_beats_the_mlp_of_the_next_size_up": bool(pairs) and all(
            img[c]["test_accuracy"] > img[m]["test_accuracy"] for c, m in pairs.items()),
        "gru_and_lstm_remember_over_30_steps": above(
            min(mem[k]["long_gap_accuracy"] for k in gated), GATED_MIN,
            "worse gated cell's long-gap accuracy", strict=False),
        "simple_rnn_stays_near_chance_over_30_steps": below(
            max(mem[k]["long_gap_accuracy"] for k in simple), NEAR_CHANCE,
            "better SimpleRNN's long-gap accuracy"),
        "every_cell_keeps_a_short_term_memory": above(
            min(r["short_accuracy"] for r in mem.values()), GATED_MIN,
            "worst cell's short-gap accuracy", strict=False),
    }
    holds = all_ok(checks)
    rows = [[k, "images: " + images["dataset"], r["parameters"], round(r["train_accuracy"], 4),
             round(r["test_accuracy"], 4), round(r["seconds"], 2)] for k, r in img.items()]
    for k, r in mem.items():
        rows.append([k, (f"memory: mark 1-{T_SHORT} steps before the end ({T_SHORT}-step "
                         "sequences)"), r["parameters"], round(r["short_train_accuracy"], 4),
                     round(r["short_accuracy"], 4), round(r["short_seconds"], 2)])
        rows.append([k, (f"memory: mark {T - LONG_GAP_FIRST + 1}-{T} steps before the end "
                         f"({T}-step sequences)"), r["parameters"], round(r["train_accuracy"], 4),
                     round(r["long_gap_accuracy"], 4), round(r["seconds"], 2)])
    verdict = (bears_out(holds) + f"on {images['dataset']} ({images['n_train']} training and "
               f"{images['n_test']} test images, {epochs} epochs), "
               + ", ".join(f"{k} ({r['parameters']:,} parameters) reaches "
                           f"{fmt(r['test_accuracy'])}" for k, r in img.items())
               + f"; the best CNN ({best_cnn}) "
               + ("matches or beats" if ok(checks["best_cnn_matches_best_mlp"]) else
                  "falls short of")
               + f" the best MLP ({best_mlp}) with "
               + f"{fmt(img[best_mlp]['parameters'] / img[best_cnn]['parameters'])}x fewer "
               "parameters, and "
               + "; ".join(f"{c} {_beats(img[c], img[m])} {m} ("
                           f"{fmt(img[c]['test_accuracy'])} vs "
                           f"{fmt(img[m]['test_accuracy'])})" for c, m in pairs.items())
               + f". Memory ({n_sequences} training sequences, {rnn_epochs} epochs, {UNITS} "
               f"units; chance {CHANCE}): on {T_SHORT}-step sequences (a short memory), "
               + ", ".join(f"{k} ({r['parameters']} parameters) {fmt(r['short_accuracy'])}"
                           for k, r in mem.items())
               + f"; trained on {T}-step sequences and tested with the mark "
               f"{T - LONG_GAP_FIRST + 1}-{T} steps before the end (median of {repeats} runs; "
               f"runs at {GATED_MIN} or more), "
               + ", ".join(f"{k} {fmt(r['long_gap_accuracy'])} ({r['successes']}/{repeats})"
                           for k, r in mem.items())
               + ". On those long sequences the SimpleRNN does not even learn the short gaps "
               "(median training accuracy "
               + ", ".join(f"{k} {fmt(mem[k]['train_accuracy'])}" for k in simple)
               + "; mean test accuracy with the mark 1-5 steps before the end "
               + ", ".join(f"{k} {fmt(mem[k]['accuracy_by_gap'][0])}" for k in simple)
               + "): the many steps it cannot bridge swamp its gradient.")
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["network", "task", "parameters", "train acc", "test acc",
                                "train seconds"],
                       rows=rows, data={"images": images, "memory": memory},
                       checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``layers.png``: test accuracy against parameters (log scale) for the MLPs and CNNs;
    accuracy against the gap between the mark and the end of the sequence for each cell."""
    plt = pyplot()
    d = result["data"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    ax = axes[0]
    for kind, marker in (("MLP", "o"), ("CNN", "s")):
        runs = {k: r for k, r in d["images"]["runs"].items() if r["kind"] == kind}
        xs = [r["parameters"] for r in runs.values()]
        ys = [r["test_accuracy"] for r in runs.values()]
        ax.plot(xs, ys, marker=marker, label=kind)
        for k, x, y in zip(runs, xs, ys):
            ax.annotate(k, (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Dense vs CNN on {d['images']['dataset']}")
    ax.grid(alpha=0.3)
    ax.legend()
    ax = axes[1]
    m = d["memory"]
    for k, r in m["runs"].items():
        ax.plot(m["gap_buckets"], r["accuracy_by_gap"], marker="o",
                label=f"{k} ({r['parameters']} params)")
    ax.axhline(CHANCE, color="grey", ls="--", lw=1, label="chance")
    ax.set_ylim(0.3, 1.05)
    ax.set_xlabel("steps between the mark and the end of the sequence")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Remembering one sign over {m['steps']} steps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return [save(fig, out_dir, "layers.png")]
