"""Compare a model before and after pruning: parameters, FLOPs, file size, speed, accuracy."""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import numpy as np

from profond._validation import check_int

__all__ = ["PruningReport", "count_flops", "nonzero_params", "report", "weights_file_size"]


def _leaf_layers(model):
    stack, out = [model], []
    while stack:
        layer = stack.pop()
        subs = layer.layers
        if subs:
            stack.extend(reversed(subs))
        elif layer is not model:
            out.append(layer)
    return out


def _prod(shape) -> int:
    return int(np.prod([1 if d is None else int(d) for d in shape], dtype=np.int64))


def _layer_flops(layer, in_shape, out_shape) -> int:
    """Floating-point operations of one sample through ``layer`` (a multiply-add is 2)."""
    kind = type(layer).__name__
    if not layer.weights:
        return 0
    if kind == "Dense":
        positions = _prod(in_shape[1:-1])
        return positions * layer.units * (2 * int(in_shape[-1]) + (1 if layer.use_bias else 0))
    if kind in ("Conv1D", "Conv2D", "Conv3D"):
        positions = _prod(out_shape[1:-1])
        taps = _prod(layer.kernel_size) * int(in_shape[-1])
        return positions * layer.filters * (2 * taps + (1 if layer.use_bias else 0))
    if kind in ("SimpleRNN", "GRU", "LSTM"):
        gates = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}[kind]
        steps = int(in_shape[1]) if in_shape[1] is not None else 1
        width = gates * layer.units
        return steps * (2 * (int(in_shape[-1]) + layer.units) * width + 2 * width)
    if kind == "BatchNormalization":
        return 2 * _prod(in_shape[1:])
    # Any other layer with weights: one multiply-add per weight and position.
    return 2 * layer.count_params() * max(_prod(in_shape[1:-1]), 1)


def count_flops(model, input_shape=None) -> int:
    """Floating-point operations of ``predict`` for one sample (multiply and add counted apart).

    Counts Dense, convolution, recurrent and batch-normalisation layers exactly (matrix
    products and biases); activations and pooling are left out, as most FLOP counters do.

    Parameters
    ----------
    model : Model
        A built model.
    input_shape : tuple, optional
        Shape of one sample (needed for unknown axes, such as the number of time steps).

    Examples
    --------
    >>> import profond
    >>> from profond import layers
    >>> from profond.pruning import count_flops
    >>> model = profond.Sequential([layers.Input((784,)), layers.Dense(512), layers.Dense(10)])
    >>> count_flops(model)  # 512 * (2 * 784 + 1) + 10 * (2 * 512 + 1)
    813578
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built: build it before counting FLOPs.")
    from profond.models.sequential import Sequential

    total = 0
    if isinstance(model, Sequential):
        shape = (1,) + tuple(input_shape) if input_shape is not None else \
            (1,) + tuple(model.input_shape[1:])
        for layer in model.layers:
            out = tuple(layer.compute_output_shape(shape))
            total += _layer_flops(layer, shape, out)
            shape = (1,) + out[1:]
        return int(total)
    for layer in _leaf_layers(model):
        shape = getattr(layer, "_build_input_shape", None)
        if shape is None or not isinstance(shape, tuple) or \
                any(isinstance(s, tuple) for s in shape):
            continue
        shape = (1,) + tuple(shape[1:])
        total += _layer_flops(layer, shape, tuple(layer.compute_output_shape(shape)))
    return int(total)


def weights_file_size(model) -> int:
    """Size in bytes of ``model``'s weights saved with safetensors (in a temporary folder)."""
    from profond.io.weights_file import save_weights

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.safetensors")
        save_weights(model, path)
        return os.path.getsize(path)


def nonzero_params(model) -> int:
    """Number of weights that are not exactly zero."""
    return int(sum(np.count_nonzero(v.numpy()) for v in model.weights))


def _accuracy(y, pred) -> float:
    y = np.asarray(y)
    pred = np.asarray(pred)
    if pred.ndim >= 2 and pred.shape[-1] > 1:
        labels = pred.argmax(axis=-1)
        truth = y.argmax(axis=-1) if y.ndim == pred.ndim else y
    else:
        cut = 0.5 if pred.min() >= 0 and pred.max() <= 1 else 0.0  # probabilities or logits
        labels = (pred.reshape(len(pred), -1) > cut).astype(np.int64).ravel()
        truth = y.reshape(len(y), -1).ravel()
    return float(np.mean(labels == truth))


class PruningReport:
    """The table of :func:`report`: one row per figure, before and after.

    Attributes
    ----------
    rows : list of tuple
        ``(name, before, after)`` with numbers in the units the names say.
    """

    def __init__(self, rows, before_name, after_name):
        self.rows = list(rows)
        self.before_name = before_name
        self.after_name = after_name

    def to_dict(self) -> dict:
        """``{name: {"before": value, "after": value}}``."""
        return {name: {"before": b, "after": a} for name, b, a in self.rows}

    def __getitem__(self, name):
        return self.to_dict()[name]

    @staticmethod
    def _fmt(name, v):
        if v is None:
            return "-"
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        if name.startswith("accuracy"):
            return f"{100 * v:.2f} %"
        return f"{v:,.3f}" if v < 100 else f"{v:,.1f}"

    @staticmethod
    def _change(name, b, a):
        if b is None or a is None:
            return ""
        if name.startswith("accuracy"):
            return f"{100 * (a - b):+.2f} pt"
        if name.startswith("predict"):
            return f"{b / a:.2f}x faster" if a > 0 else ""
        return f"{a / b:.2f}x" if b else ""

    def __str__(self) -> str:
        head = ("", self.before_name, self.after_name, "after vs before")
        lines = [head] + [(n, self._fmt(n, b), self._fmt(n, a), self._change(n, b, a))
                          for n, b, a in self.rows]
        widths = [max(len(line[i]) for line in lines) for i in range(4)]
        out = []
        for j, line in enumerate(lines):
            out.append("  ".join([line[0].ljust(widths[0])] +
                                 [c.rjust(w) for c, w in zip(line[1:], widths[1:])]).rstrip())
            if j == 0:
                out.append("-" * len(out[0]))
        return "\n".join(out)

    __repr__ = __str__


def report(before, after, x, y=None, batch_size=32, repeats=5, names=("before", "after")):
    """Compare two models on the same data: size, cost, speed and accuracy.

    Parameters
    ----------
    before, after : Model
        Typically a model and its pruned version (any two built models with the same inputs).
    x : array-like, shape (n_samples, ...)
        Data for ``predict``.
    y : array-like, shape (n_samples,) or (n_samples, n_classes), optional
        Class labels (or one-hot rows) for the accuracy row; without it, no accuracy.
    batch_size : int, default 32
        ``predict``'s batch size (Keras's default).
    repeats : int, default 5
        ``predict`` runs per model, alternating the two after one warm-up run each; the
        median time is reported.
    names : tuple of str
        Column titles.

    Returns
    -------
    PruningReport
        ``print(r)`` shows the table; ``r.to_dict()`` gives the numbers. Rows: parameters,
        non-zero parameters, FLOPs per sample, weights file size (safetensors, KiB), predict time
        (ms, over all of ``x``), and accuracy.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.pruning import prune_neurons, report
    >>> model = profond.Sequential([layers.Input((8,)), layers.Dense(64, activation="relu"),
    ...                             layers.Dense(3, activation="softmax")])
    >>> small = prune_neurons(model, amount=0.5)
    >>> x = np.random.default_rng(0).normal(size=(100, 8))
    >>> r = report(model, small, x, np.zeros(100, dtype=int), repeats=1)
    >>> r["parameters"]
    {'before': 771, 'after': 387}
    >>> print(r)  # doctest: +SKIP
    """
    repeats = check_int(repeats, "repeats", "report", low=1)
    batch_size = check_int(batch_size, "batch_size", "report", low=1)
    x = np.asarray(x) if not isinstance(x, (list, tuple, dict)) else x
    sample_shape = tuple(np.asarray(x).shape[1:]) if not isinstance(x, (list, tuple, dict)) \
        else None
    models = (before, after)
    preds = [m.predict(x, batch_size=batch_size, verbose=0) for m in models]  # warm-up
    times = ([], [])
    for _ in range(repeats):
        for i, m in enumerate(models):
            t0 = time.perf_counter()
            m.predict(x, batch_size=batch_size, verbose=0)
            times[i].append(time.perf_counter() - t0)
    rows = [("parameters", before.count_params(), after.count_params()),
            ("non-zero parameters", nonzero_params(before), nonzero_params(after)),
            ("FLOPs per sample", count_flops(before, sample_shape),
             count_flops(after, sample_shape)),
            ("weights file (KiB)", weights_file_size(before) / 1024,
             weights_file_size(after) / 1024),
            (f"predict (ms, {len(preds[0])} samples)", 1000 * statistics.median(times[0]),
             1000 * statistics.median(times[1]))]
    if y is not None:
        rows.append(("accuracy", _accuracy(y, preds[0]), _accuracy(y, preds[1])))
    return PruningReport(rows, *names)
