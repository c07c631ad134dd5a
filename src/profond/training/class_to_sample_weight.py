"""Turning ``class_weight`` into per-sample weights, for targets of any rank and any number of
outputs.

A class weight multiplies the loss of every target of that class: for labels of shape
``(n,)`` (sparse) or ``(n, k)`` (one-hot) one weight per sample, for per-time-step labels
``(n, t)`` or ``(n, t, k)`` one weight per sample and step, shape ``(n, t)``. ``"balanced"``
gives class ``c`` the weight ``n_targets / (n_classes * count_c)`` (King & Zeng, 2001, as in
scikit-learn), so that every class carries the same total weight. Given together, class and
sample weights multiply.

How labels are read depends on the loss: sparse cross-entropy takes integer indices, categorical
cross-entropy takes one-hot rows (their argmax), binary cross-entropy takes 0/1 values. With any
other loss the labels are guessed: arrays whose last axis holds one-hot rows (0/1, one 1 per row)
are one-hot, other whole-valued arrays are indices.

Labels are read in chunks of samples, so a memory-mapped ``y`` is not loaded whole; the weights
(one per target) are built in memory.
"""

from __future__ import annotations

import numbers

import numpy as np

from profond import backend
from profond.training.structure import flatten

__all__ = ["class_weight_to_sample_weight", "labels_of", "balanced_class_weight",
           "label_kind", "target_names"]

_CHUNK_ELEMENTS = 1 << 22
_KINDS = ("sparse", "onehot", "binary", None)


def label_kind(loss):
    """How a loss reads its targets: ``"sparse"``, ``"onehot"``, ``"binary"`` or None."""
    from profond import losses

    if loss is None:
        return None
    try:
        loss = losses.get(loss)
    except (ValueError, TypeError):
        return None
    fn = getattr(loss, "fn", None)
    if fn is losses.sparse_categorical_crossentropy:
        return "sparse"
    if fn is losses.categorical_crossentropy:
        return "onehot"
    if fn is losses.binary_crossentropy:
        return "binary"
    return None


def _guess_kind(y):
    """``"sparse"`` or ``"onehot"`` for targets read by an unknown (custom) loss."""
    if y.ndim >= 2 and y.shape[-1] > 1 and np.isin(y, (0, 1)).all() and \
            np.all(y.sum(axis=-1) == 1):
        return "onehot"
    return "sparse"


def _label_chunk(y, kind):
    """Integer labels of one chunk of targets (see :func:`labels_of`)."""
    y = backend.to_numpy(y)
    if kind == "onehot":
        if y.ndim < 2:
            raise ValueError(f"class_weight: one-hot targets need a class axis; got targets of "
                             f"shape {y.shape}.")
        return y.argmax(axis=-1)
    if y.ndim >= 2 and y.shape[-1] == 1:
        y = y[..., 0]
    elif kind == "binary" and y.ndim >= 2:
        raise ValueError(f"class_weight: binary targets of shape {y.shape} hold several labels "
                         "per sample (multi-label), so a class weight cannot be given to each "
                         "sample's loss. Pass sample_weight instead.")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError("class_weight needs class labels (integers or one-hot rows); the "
                         "targets hold non-integer values.")
    return y.astype(np.int64)


def labels_of(y, kind=None):
    """Integer class of each target, read in chunks (memmaps stay on disk).

    Parameters
    ----------
    y : array-like of shape (n, ...)
        Sparse labels ``(n,)``, ``(n, 1)``, ``(n, t)``; one-hot ``(n, k)`` or ``(n, t, k)``.
    kind : {"sparse", "onehot", "binary", None}
        How to read ``y`` (see the module); None guesses.

    Returns
    -------
    ndarray of int64, shape (n,) or (n, t)
    """
    if kind not in _KINDS:
        raise ValueError(f"The 'kind' parameter of labels_of must be one of {list(_KINDS)}. "
                         f"Got {kind!r} instead.")
    if not hasattr(y, "shape"):
        y = np.asarray(y)
    if len(y.shape) == 0:
        raise ValueError("class_weight: the targets must have a sample axis; got a scalar.")
    per_sample = max(1, int(np.prod(y.shape[1:], dtype=np.int64)))
    step = max(1, _CHUNK_ELEMENTS // per_sample)
    if kind is None:  # decided once, on the first chunk, so that chunks agree
        kind = _guess_kind(backend.to_numpy(y[:step]))
    parts = [_label_chunk(y[s:s + step], kind) for s in range(0, len(y), step)]
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def balanced_class_weight(labels, classes=None) -> dict:
    """``{c: n / (n_classes * count_c)}`` over ``classes`` (default: the labels present)."""
    labels = np.asarray(labels).reshape(-1)
    present, counts = np.unique(labels, return_counts=True)
    if classes is None:
        classes = present
    classes = np.asarray(classes)
    absent = sorted(set(classes.tolist()) - set(present.tolist()))
    if absent:
        raise ValueError(f"class_weight='balanced' needs every class to occur in y; classes "
                         f"{absent} do not occur (a class with no samples has no balanced "
                         "weight). Give a dict, or drop those classes.")
    extra = sorted(set(present.tolist()) - set(classes.tolist()))
    if extra:
        raise ValueError(f"y holds classes {extra} that are not in classes={classes.tolist()}.")
    count = dict(zip(present.tolist(), counts.tolist()))
    n, k = labels.size, len(classes)
    return {c: n / (k * count[c]) for c in classes.tolist()}


def _check_class_weight(class_weight, labels, n_classes, where, strict=True):
    """Validate a ``{class: weight}`` dict against the labels; return a lookup table."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight{where} must be a dict {{class_index: weight}} or "
                        f"'balanced'. Got {type(class_weight).__name__}: {class_weight!r}.")
    for c, w in class_weight.items():
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or c < 0:
            raise ValueError(f"class_weight{where} keys must be class indices (non-negative "
                             f"ints). Got the key {c!r}.")
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not np.isfinite(w) or \
                w < 0:
            raise ValueError(f"class_weight{where}[{c!r}] must be a finite non-negative number. "
                             f"Got {w!r}.")
    present = np.unique(labels)
    if present.size and present.min() < 0:
        raise ValueError(f"class_weight{where}: y holds negative labels "
                         f"{present[present < 0].tolist()}; labels must be class indices.")
    if n_classes is not None:
        unknown = sorted(int(c) for c in class_weight if c >= n_classes)
        if unknown:
            raise ValueError(f"class_weight{where} names classes {unknown} that do not exist: "
                             f"the one-hot targets have {n_classes} classes (0 to "
                             f"{n_classes - 1}).")
    elif strict:
        unknown = sorted(int(c) for c in class_weight if c not in set(present.tolist()))
        if unknown:
            raise ValueError(f"class_weight{where} names classes {unknown} that do not occur in "
                             f"y (its classes are {present.tolist()}).")
    missing = sorted(int(c) for c in present if int(c) not in class_weight)
    if missing:
        raise ValueError(f"class_weight{where} has no weight for classes {missing} found in y "
                         f"(it has {sorted(class_weight)}).")
    table = np.zeros(max(max(class_weight), int(present.max()) if present.size else 0) + 1)
    for c, w in class_weight.items():
        table[int(c)] = float(w)
    return table


def _weights_for(class_weight, y, kind, where, strict=True):
    labels = labels_of(y, kind)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight{where} must be a dict or 'balanced'. Got "
                             f"{class_weight!r} instead.")
        class_weight = balanced_class_weight(labels)
    onehot = labels.ndim == len(y.shape) - 1 and y.shape[-1] > 1
    table = _check_class_weight(class_weight, labels, y.shape[-1] if onehot else None, where,
                                strict)
    return table[labels]


def target_names(y) -> list | None:
    """Output names of a target structure: dict keys, ``output_i`` for lists, None for one."""
    if isinstance(y, dict):
        return sorted(y)
    if isinstance(y, (list, tuple)):
        return [f"output_{i}" for i in range(len(y))]
    return None


def _multiply(weights, sample_weight):
    if sample_weight is None:
        return weights
    sw = np.asarray(backend.to_numpy(sample_weight), dtype=np.float64)
    if sw.ndim > weights.ndim and sw.shape[-1] == 1:
        sw = sw[..., 0]
    while sw.ndim < weights.ndim:
        sw = sw[..., None]
    return weights * sw


def class_weight_to_sample_weight(class_weight, y, sample_weight=None, loss=None, strict=True):
    """Per-target weights ``class_weight[label]``, times ``sample_weight`` when given.

    Parameters
    ----------
    class_weight : dict, "balanced", or dict of those per output name
        ``{class_index: weight}`` or ``"balanced"`` for a single output; for several outputs
        ``{output_name: {class_index: weight} or "balanced"}`` (outputs left out get no class
        weights). List outputs are named ``output_0``, ``output_1``...
    y : array or list/dict of arrays
        The targets, as given to ``fit``.
    sample_weight : array or list/dict of arrays, optional
        Multiplied in (per output when given per output).
    loss : loss spec, optional
        The compiled loss (one, or one per output), which says how to read the labels.
    strict : bool, default True
        Refuse weights for classes that do not occur in ``y`` (sparse labels). False for one
        batch of a generator, which need not hold every class.

    Returns
    -------
    ndarray, or dict of ndarrays per output name
        Weights of shape ``(n,)`` or ``(n, t)`` per output.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.training.class_to_sample_weight import class_weight_to_sample_weight
    >>> class_weight_to_sample_weight({0: 1.0, 1: 3.0}, np.array([0, 1, 1])).tolist()
    [1.0, 3.0, 3.0]
    """
    names = target_names(y)
    if names is None:
        if isinstance(class_weight, dict) and class_weight and \
                all(isinstance(k, str) for k in class_weight):
            raise ValueError("The 'class_weight' parameter of fit must map class indices "
                             "(non-negative ints) to weights, e.g. {0: 1.0, 1: 2.0}, or be "
                             f"'balanced'. Got {class_weight!r} instead: its keys are strings, "
                             "which name outputs, and the model has one output.")
        if isinstance(sample_weight, (dict, list, tuple)):
            sample_weight = flatten(sample_weight)[0]
        return _multiply(_weights_for(class_weight, y, label_kind(loss), "", strict),
                         sample_weight)

    if not isinstance(class_weight, dict) or not all(isinstance(k, str) for k in class_weight):
        raise ValueError(f"The model has {len(names)} outputs {names}: give class_weight per "
                         "output name, e.g. {'" + names[0] + "': 'balanced'}. Got "
                         f"{class_weight!r}.")
    unknown = sorted(set(class_weight) - set(names))
    if unknown:
        raise ValueError(f"class_weight names unknown outputs {unknown}; the outputs are "
                         f"{names}.")
    targets = y if isinstance(y, dict) else dict(zip(names, y))
    if isinstance(loss, dict):
        losses = loss
    elif isinstance(loss, (list, tuple)):
        losses = dict(zip(names, loss))
    else:
        losses = {n: loss for n in names}
    if isinstance(sample_weight, dict):
        given = sample_weight
    elif isinstance(sample_weight, (list, tuple)):
        given = dict(zip(names, sample_weight))
    else:
        given = {n: sample_weight for n in names}
    out = {}
    for name in names:
        sw = given.get(name)
        if name in class_weight:
            out[name] = _multiply(_weights_for(class_weight[name], targets[name],
                                               label_kind(losses.get(name)), f"['{name}']",
                                               strict), sw)
        elif sw is not None:
            out[name] = np.asarray(backend.to_numpy(sw), dtype=np.float64)
    return out
