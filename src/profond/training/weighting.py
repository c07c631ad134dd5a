"""Turning ``class_weight`` into per-sample weights."""

from __future__ import annotations

import numpy as np

from profond import backend
from profond.training.structure import flatten

__all__ = ["class_weight_to_sample_weight"]


def _labels(y):
    """Integer class of each target: sparse labels as they are, one-hot by argmax."""
    y = backend.to_numpy(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        return y.argmax(axis=-1)
    if y.ndim >= 2 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError("class_weight needs class labels (integers or one-hot); y holds "
                             "non-integer values.")
    return y.astype(np.int64)


def class_weight_to_sample_weight(class_weight, y, sample_weight=None):
    """Per-sample weights ``class_weight[label]`` (times ``sample_weight`` when given).

    Works for targets of any rank: sparse labels ``(n,)``, one-hot ``(n, k)``, per-time-step
    labels ``(n, t)`` or ``(n, t, k)`` (the weights then have shape ``(n, t)``).
    """
    leaves = flatten(y)
    if len(leaves) != 1:
        raise ValueError("class_weight as a single dict applies to single-output models; give "
                         "sample_weight per output for several outputs.")
    labels = _labels(leaves[0])
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class: weight}}. Got "
                        f"{type(class_weight).__name__}.")
    present = np.unique(labels)
    missing = [int(c) for c in present if int(c) not in class_weight]
    if missing:
        raise ValueError(f"class_weight has no weight for classes {missing} found in y "
                         f"(it has {sorted(class_weight)}).")
    for c, w in class_weight.items():
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"class_weight[{c!r}] must be a finite non-negative number. Got "
                             f"{w!r}.")
    table = np.zeros(int(max(max(class_weight), labels.max())) + 1)
    for c, w in class_weight.items():
        table[int(c)] = float(w)
    weights = table[labels]
    if sample_weight is not None:
        sw = backend.to_numpy(flatten(sample_weight)[0]).astype(np.float64)
        while sw.ndim < weights.ndim:
            sw = sw[..., None]
        weights = weights * sw
    return weights
