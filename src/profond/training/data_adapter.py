"""fit's data adapter: what the caller passes to ``fit``, ``evaluate`` and ``predict``, turned
into epochs of batches.

Data come in two kinds:

- **arrays**: ``x``, ``y`` and ``sample_weight``, each one array or a list/tuple/dict of arrays
  (one per input or output; a dict keyed by input or output name, a list by position). Each
  argument is converted and flattened once into its leaves; every check (dtype, sample count,
  NaN and inf, non-negative weights), the ``validation_split`` and the batching then work on
  those leaves, and each batch is rebuilt in the caller's structure. Arrays stay where they
  are: a ``numpy.memmap`` is read a chunk at a time by the checks and a batch at a time by
  :class:`~profond.training.batching.ArrayBatches`.
- **a source of batches**: a generator, iterator, iterable or Keras-style sequence yielding
  ``(x, y)`` or ``(x, y, sample_weight)`` batches (or ``x`` alone for ``predict``), each
  checked as arrays are when it arrives (:class:`~profond.training.batching.GeneratorBatches`).

``class_weight`` becomes per-sample weights (:mod:`profond.training.class_to_sample_weight`) on the training
part only, after ``validation_split`` (Keras's: the last fraction of the samples, taken before
shuffling), so ``"balanced"`` counts the training labels.

Examples
--------
>>> import numpy as np
>>> from profond.training.data_adapter import fit_data
>>> x = {"image": np.zeros((10, 4)), "meta": np.ones((10, 2))}
>>> data = fit_data(x, np.arange(10) % 2, batch_size=4, shuffle=False, validation_split=0.2)
>>> data.samples, data.steps, data.validation.n
(8, 2, 2)
>>> xb, yb, swb = data.batches.first()
>>> sorted(xb), xb["meta"].shape, yb.tolist(), swb
(['image', 'meta'], (4, 2), [0, 1, 0, 1], None)
"""

from __future__ import annotations

import math

import numpy as np

from profond import backend
from profond._validation import check_float, check_int
from profond.autograd.tensor import Tensor
from profond.training.batching import ArrayBatches, GeneratorBatches, StepBatches, is_batch_source
from profond.training.structure import flatten, unflatten
from profond.training.class_to_sample_weight import class_weight_to_sample_weight

__all__ = ["FitData", "fit_data", "evaluate_data", "predict_data", "single_batch",
           "batch_length"]

# Elements read per chunk (16 MiB of float32): bounded memory whatever the sample size.
_CHUNK_ELEMENTS = 1 << 22


# --- one argument, flattened once ---------------------------------------------------------------
def _to_array(a, name):
    if isinstance(a, Tensor):
        return a.data
    if hasattr(a, "__array__") or isinstance(a, (list, tuple)):
        arr = a if hasattr(a, "shape") and hasattr(a, "dtype") else np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"The '{name}' argument must hold numbers (bool, int or float). "
                            f"Got an array of dtype {arr.dtype}.")
        if arr.ndim == 0:
            raise ValueError(f"The '{name}' argument must have a sample axis; got a scalar.")
        return arr
    raise TypeError(f"The '{name}' argument must be an array (or a list/dict of arrays). "
                    f"Got {type(a).__name__}.")


def _is_one_array(x) -> bool:
    """A list or tuple that is one array written out (numbers, or nested lists of numbers),
    rather than one array per input or output."""
    return isinstance(x, (list, tuple)) and bool(x) and not any(
        hasattr(v, "shape") or isinstance(v, dict) or
        (isinstance(v, (list, tuple)) and any(hasattr(w, "shape") for w in v)) for v in x)


class _Arrays:
    """One argument (``x``, ``y`` or ``sample_weight``): its structure, its arrays in
    :func:`~profond.training.structure.flatten` order, and a label for each."""

    __slots__ = ("labels", "leaves", "name", "template")

    def __init__(self, name, template, leaves, labels):
        self.name, self.template, self.leaves, self.labels = name, template, leaves, labels

    @classmethod
    def of(cls, value, name):
        if value is None:
            return None
        leaves, labels = [], []

        def convert(v, label):  # one walk, in flatten's order (dict keys sorted)
            if isinstance(v, dict):
                return {k: convert(v[k], f"{label}['{k}']") for k in sorted(v)}
            if isinstance(v, (list, tuple)) and not _is_one_array(v):
                return type(v)(convert(item, f"{label}[{i}]") for i, item in enumerate(v))
            leaves.append(_to_array(v, name))
            labels.append(label)
            return leaves[-1]

        template = convert(value, name)
        # Errors name ``x`` alone, ``x['image']`` by key, ``x[0]`` by position.
        return cls(name, template, leaves, labels if len(leaves) > 1 else [name])

    def rows(self, start, stop):
        """The samples ``start:stop`` of every leaf (views, nothing copied)."""
        leaves = [a[start:stop] for a in self.leaves]
        return _Arrays(self.name, unflatten(self.template, leaves), leaves, self.labels)

    def named(self):
        return zip(self.labels, self.leaves)


def _templates(*args):
    return tuple(None if a is None else a.template for a in args)


# --- checks: clear errors before any work is done ------------------------------------------------
def _rows_per_chunk(a) -> int:
    return max(1, _CHUNK_ELEMENTS // max(math.prod(int(d) for d in a.shape[1:]), 1))


def _check_finite_array(a, label):
    if len(a) == 0:
        raise ValueError(f"The '{label}' argument is empty (0 samples): nothing to train on "
                         "or evaluate.")
    if a.dtype.kind != "f":
        return
    xp = backend.get_array_module(a)
    step = _rows_per_chunk(a)
    ones = xp.ones(math.prod(a.shape[1:]), dtype=a.dtype)
    for start in range(0, len(a), step):
        chunk = a[start:start + step]
        # One read of the data and no boolean temporary: NaN and inf propagate through sums,
        # so finite row sums prove finite data; a non-finite one (possibly an overflow of
        # large finite values) sends the chunk to the exact test. The row sums are a
        # matrix-vector product: BLAS reads the chunk on every core.
        with np.errstate(over="ignore", invalid="ignore"):
            total = (chunk.reshape(len(chunk), -1) @ ones).sum()
        if bool(xp.isfinite(total)) or bool(xp.isfinite(chunk).all()):
            continue
        values = backend.to_numpy(chunk)
        bad = np.argwhere(~np.isfinite(values))[0]
        where = (start + int(bad[0]),) + tuple(int(b) for b in bad[1:])
        kind = "NaN" if np.isnan(values[tuple(bad)]) else "inf"
        raise ValueError(f"The '{label}' argument contains {kind} (first at index {where}). "
                         "Clean or impute the data first.")


def _check_sample_weight(sample_weight):
    """Raise unless every weight is finite and non-negative (read in chunks)."""
    for name, w in sample_weight.named():
        if w.dtype.kind == "f":
            _check_finite_array(w, name)
        xp = backend.get_array_module(w)
        step = _rows_per_chunk(w)
        for start in range(0, len(w), step):
            chunk = w[start:start + step]
            if bool((chunk < 0).any()):
                raise ValueError(f"The '{name}' argument must be non-negative. Got a minimum of "
                                 f"{float(xp.min(chunk))} (at or after index {start}).")


def _sample_count(*args) -> int:
    """The common number of samples; raises naming each array, its length and its shape."""
    named = [(label, a) for arg in args if arg is not None for label, a in arg.named()]
    lengths = {len(a) for _, a in named}
    if len(lengths) > 1:
        counts = ", ".join(f"'{label}' has {len(a)}" for label, a in named)
        shapes = ", ".join(f"'{label}': {tuple(a.shape)}" for label, a in named)
        raise ValueError(f"The arguments must have the same number of samples (first "
                         f"dimension). Got {counts} (shapes {shapes}).")
    return lengths.pop() if lengths else 0


def _checked(x, y=None, sample_weight=None):
    """``x``, ``y`` and ``sample_weight`` converted, flattened once and checked."""
    x, y = _Arrays.of(x, "x"), _Arrays.of(y, "y")
    sample_weight = _Arrays.of(sample_weight, "sample_weight")
    n = _sample_count(x, y, sample_weight)
    for arg in (x, y):
        if arg is not None:
            for label, a in arg.named():
                _check_finite_array(a, label)
    if sample_weight is not None:
        _check_sample_weight(sample_weight)
    return x, y, sample_weight, n


def batch_length(x) -> int:
    """The number of samples in a batch ``x`` (an array or a list/dict of arrays)."""
    return len(x) if hasattr(x, "shape") else len(flatten(x)[0])


# --- batches ---------------------------------------------------------------------------------
def _array_batches(x, y, sample_weight, n, batch_size, shuffle=False):
    args = (x, y, sample_weight)
    return ArrayBatches.from_leaves(_templates(*args), [[] if a is None else a.leaves
                                                       for a in args], n,
                                    batch_size=batch_size, shuffle=shuffle)


def _source_batches(source, steps, what, class_weight=None, loss=None, targets=True):
    """Batches from a caller's source, each checked (and class-weighted) as arrays are."""
    if class_weight is not None and "balanced" in (
            [class_weight] if isinstance(class_weight, str) else list(class_weight.values())):
        raise ValueError("class_weight='balanced' needs all the labels up front; with a "
                         "generator, compute the weights on the training labels with "
                         "profond.data.compute_class_weight(y, 'balanced') and pass the "
                         "dict.")

    def prepare(bx, by, bsw):
        bx, by, bsw = _templates(*_checked(bx, by, bsw)[:3])
        if class_weight is not None:
            bsw = class_weight_to_sample_weight(class_weight, by, bsw, loss=loss, strict=False)
        return bx, by, bsw

    return GeneratorBatches(source, steps=steps, targets=targets, prepare=prepare, what=what)


def _split_tail(arrays, n, fraction):
    """Keras's ``validation_split``: the last ``fraction`` of the samples, before shuffling."""
    cut = int(n * (1.0 - fraction))
    if cut <= 0 or cut >= n:
        raise ValueError(f"validation_split={fraction} leaves an empty training or validation "
                         f"set for {n} samples.")
    head = tuple(None if a is None else a.rows(0, cut) for a in arrays)
    tail = tuple(None if a is None else a.rows(cut, n) for a in arrays)
    return head, cut, tail, n - cut


class FitData:
    """What :func:`fit_data` gives ``fit``.

    Attributes
    ----------
    batches : ArrayBatches, StepBatches or GeneratorBatches
        One epoch per iteration, each batch an ``(x, y, sample_weight)`` tuple of backend
        arrays in the caller's structure; ``batches.first()`` builds a model.
    validation : ArrayBatches, GeneratorBatches or None
    batch_size : int
        Samples per batch of arrays (what a source of batches yields may differ).
    steps : int or None
        Batches per epoch (None: a generator's, unknown).
    samples : int or None
        Training samples (None for a source of batches).
    arrays : tuple or None
        ``(x, y, sample_weight)`` of the training part, class weights applied (what the
        divergence guard probes on); None for a source of batches.
    """

    def __init__(self, batches, validation, batch_size, steps, samples, arrays):
        self.batches, self.validation, self.batch_size = batches, validation, batch_size
        self.steps, self.samples, self.arrays = steps, samples, arrays

    @property
    def from_source(self) -> bool:
        return self.arrays is None


def fit_data(x, y=None, sample_weight=None, class_weight=None, batch_size=None, shuffle=True,
             steps_per_epoch=None, validation_split=0.0, validation_data=None,
             validation_batch_size=None, validation_steps=None, loss=None) -> FitData:
    """Turn ``fit``'s data arguments into epochs of training (and validation) batches.

    Parameters
    ----------
    x, y, sample_weight, class_weight, batch_size, shuffle, steps_per_epoch, validation_split,
    validation_data, validation_batch_size, validation_steps
        As :meth:`profond.Model.fit` takes them.
    loss : loss spec, optional
        The compiled loss (one, or one per output), which says how ``class_weight`` reads the
        labels.

    Returns
    -------
    FitData
    """
    batch_size = check_int(32 if batch_size is None else batch_size, "batch_size", "fit",
                           low=1)
    validation_split = check_float(validation_split, "validation_split", "fit", low=0, high=1,
                                   high_open=True)
    if validation_data is not None and validation_split:
        raise ValueError("Give validation_data or validation_split, not both.")
    steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", "fit", low=1,
                                allow_none=True)
    if is_batch_source(x):
        if y is not None or sample_weight is not None or validation_split:
            raise ValueError("fit() got a source of batches as x: targets and sample weights "
                             "come in its (x, y) or (x, y, sample_weight) batches, so y, "
                             "sample_weight and validation_split must be left out.")
        batches = _source_batches(x, steps_per_epoch, "fit", class_weight, loss)
        validation = _validation_batches(validation_data, validation_batch_size or batch_size,
                                         validation_steps)
        return FitData(batches, validation, batch_size, batches.known_length, None, None)
    if y is None:
        raise ValueError("fit() needs targets: pass y (arrays with one target per sample).")
    x, y, sample_weight, n = _checked(x, y, sample_weight)
    validation = None
    if validation_split:
        (x, y, sample_weight), n, tail, n_val = _split_tail((x, y, sample_weight), n,
                                                            validation_split)
        validation = _array_batches(*tail, n_val, validation_batch_size or batch_size)
    else:
        validation = _validation_batches(validation_data, validation_batch_size or batch_size,
                                         validation_steps)
    if class_weight is not None:
        weights = class_weight_to_sample_weight(class_weight, y.template,
                                                None if sample_weight is None else
                                                sample_weight.template, loss=loss)
        sample_weight = _Arrays.of(weights, "sample_weight")
    batches = _array_batches(x, y, sample_weight, n, batch_size, shuffle)
    if steps_per_epoch is not None:
        batches = StepBatches(batches, steps_per_epoch)
    return FitData(batches, validation, batch_size, len(batches), n,
                   _templates(x, y, sample_weight))


def _validation_batches(validation_data, batch_size, steps):
    if validation_data is None:
        return None
    if is_batch_source(validation_data):
        return _source_batches(validation_data, steps, "validation")
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                         "(x_val, y_val, sample_weight_val).")
    vx, vy, vsw = (tuple(validation_data) + (None,))[:3]
    vx, vy, vsw, n = _checked(vx, vy, vsw)
    return _array_batches(vx, vy, vsw, n, batch_size)


def evaluate_data(x, y=None, sample_weight=None, batch_size=None, steps=None):
    """Batches for ``evaluate``: arrays in order, or ``steps`` batches of a source.

    Returns
    -------
    ArrayBatches or GeneratorBatches
    """
    batch_size = check_int(32 if batch_size is None else batch_size, "batch_size", "evaluate",
                           low=1)
    if is_batch_source(x):
        if y is not None or sample_weight is not None:
            raise ValueError("evaluate() got a source of batches as x: its batches carry "
                             "the targets, so y and sample_weight must be left out.")
        return _source_batches(x, check_int(steps, "steps", "evaluate", low=1,
                                            allow_none=True), "evaluate")
    if y is None:
        raise ValueError("evaluate() needs targets: pass y.")
    x, y, sample_weight, n = _checked(x, y, sample_weight)
    return _array_batches(x, y, sample_weight, n, batch_size)


def predict_data(x, batch_size=None, steps=None):
    """Batches for ``predict``, each a one-item tuple ``(x,)``.

    Returns
    -------
    ArrayBatches or GeneratorBatches
    """
    batch_size = check_int(32 if batch_size is None else batch_size, "batch_size", "predict",
                           low=1)
    if is_batch_source(x):
        return _source_batches(x, check_int(steps, "steps", "predict", low=1, allow_none=True),
                               "predict", targets=False)
    # One pass over all the data up front: cheaper than checking batch by batch (a batch is a
    # view whose first read comes from memory either way, plus Python).
    x, _, _, n = _checked(x)
    return ArrayBatches.from_leaves((x.template,), [x.leaves], n, batch_size=batch_size)


def single_batch(x, y=None, sample_weight=None):
    """``(x, y, sample_weight)`` checked and moved to the backend as one batch (what
    ``train_on_batch``, ``test_on_batch`` and ``predict_on_batch`` run on)."""
    x, y, sample_weight, n = _checked(x, y, sample_weight)
    return _array_batches(x, y, sample_weight, n, max(n, 1)).first()
