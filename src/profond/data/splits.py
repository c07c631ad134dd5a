"""Splitting samples into training, validation and test sets, and into cross-validation folds.

The deck's advice: keep as much data as possible for training, while holding out enough to
validate (choose epochs, batch size, architecture) and to test (the final, untouched measure).
Stratified splits keep each class's share the same in every part: with ``stratify=y`` the number
of samples of class ``c`` in a part of ``m`` samples out of ``n`` is ``n_c * m / n`` rounded
down or up, never further off, and the parts have exactly the requested sizes.

Everything here is NumPy only and follows scikit-learn's conventions (``train_test_split``,
``KFold``, ``StratifiedKFold``), with randomness drawn from ``seed`` or, when it is None, from
profond's global generator (see :func:`profond.random.seed`).

Examples
--------
>>> import numpy as np
>>> from profond.data import train_val_test_split
>>> x = np.arange(20).reshape(10, 2)
>>> y = np.array([0] * 6 + [1] * 4)
>>> x_tr, x_va, x_te, y_tr, y_va, y_te = train_val_test_split(
...     x, y, val_size=0.2, test_size=0.2, stratify=y, seed=0)
>>> len(y_tr), len(y_va), len(y_te)
(6, 2, 2)
>>> np.bincount(y_te).tolist()
[1, 1]
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from profond import random as prandom
from profond._validation import check_int

__all__ = ["train_test_split", "train_val_test_split", "KFold", "StratifiedKFold"]


# --- helpers -----------------------------------------------------------------------------------
def _check_arrays(arrays, owner):
    """Arrays (lists converted) with a common first axis."""
    if not arrays:
        raise ValueError(f"{owner} needs at least one array to split.")
    out = []
    for i, a in enumerate(arrays):
        if isinstance(a, numbers.Number):
            raise TypeError(f"{owner} got the number {a!r} as array {i}: the sizes are "
                            "keyword-only (e.g. test_size=0.2).")
        if a is None:
            out.append(None)
            continue
        if not (hasattr(a, "shape") and hasattr(a, "__getitem__")):
            a = np.asarray(a)
        if len(a.shape) == 0:
            raise ValueError(f"The arrays given to {owner} must have a sample axis. Got a scalar "
                             f"as array {i} instead.")
        out.append(a)
    lengths = [len(a) for a in out if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError(f"The arrays given to {owner} must have one number of samples. Got "
                         f"inconsistent numbers of samples {lengths} instead.")
    if not lengths:
        raise ValueError(f"{owner} needs at least one array that is not None.")
    return out, lengths[0]


def _size(value, param, owner, n):
    """Number of samples that ``value`` (a fraction in (0, 1) or a count) asks for."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"The '{param}' parameter of {owner} must be a float in (0, 1) or an "
                         f"int in [1, n_samples]. Got {value!r} instead.")
    if isinstance(value, numbers.Integral):
        if not 1 <= value <= n:
            raise ValueError(f"The '{param}' parameter of {owner} must be a float in (0, 1) or "
                             f"an int in [1, {n}] (n_samples={n}). Got {value!r} instead.")
        return int(value)
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"The '{param}' parameter of {owner} must be a float in (0, 1) or an "
                         f"int in [1, n_samples]. Got {value!r} instead.")
    return int(math.ceil(float(value) * n))


def _labels(stratify, n, owner):
    """Integer codes of ``stratify`` (1-D labels, or rows of a 2-D array such as one-hot)."""
    s = np.asarray(stratify)
    if len(s) != n:
        raise ValueError(f"The 'stratify' parameter of {owner} must hold one label per sample "
                         f"({n}). Got {len(s)} labels instead.")
    if s.ndim == 1:
        _, codes = np.unique(s, return_inverse=True)
    else:
        _, codes = np.unique(s.reshape(n, -1), axis=0, return_inverse=True)
    return codes.reshape(-1)


def _round_table(counts, sizes, rng):
    """Samples of each class in each part: ``table[c, p]`` is ``counts[c] * sizes[p] / n``
    rounded down or up, with rows summing to ``counts`` and columns to ``sizes``.

    Such a rounding always exists (a flow problem with integral capacities): every cell starts
    at its floor, the cells with a fractional part are offered one extra sample, largest
    fractions first (ties broken by ``rng``), and augmenting paths finish what the greedy pass
    could not.
    """
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(counts.sum())
    product = np.outer(counts, sizes)
    table, rem = product // n, product % n  # integer arithmetic: exact
    row_need = counts - table.sum(axis=1)
    col_need = sizes - table.sum(axis=0)
    extra = np.zeros(table.shape, dtype=bool)
    tie = rng.random(rem.size) if rng is not None else np.zeros(rem.size)
    for cell in np.lexsort((tie, -rem.ravel())):
        c, p = divmod(int(cell), len(sizes))
        if rem[c, p] and row_need[c] > 0 and col_need[p] > 0:
            extra[c, p] = True
            row_need[c] -= 1
            col_need[p] -= 1
    while row_need.sum() > 0:
        start = int(np.flatnonzero(row_need > 0)[0])
        # Breadth-first search: row -> part through a free fractional cell, part -> row
        # through a taken cell (which the path gives back).
        parent = {("r", start): None}
        queue = [("r", start)]
        end = None
        while queue and end is None:
            kind, i = queue.pop(0)
            if kind == "r":
                for p in np.flatnonzero((rem[i] > 0) & ~extra[i]):
                    node = ("p", int(p))
                    if node not in parent:
                        parent[node] = (kind, i)
                        if col_need[p] > 0:
                            end = node
                            break
                        queue.append(node)
            else:
                for c in np.flatnonzero(extra[:, i]):
                    node = ("r", int(c))
                    if node not in parent:
                        parent[node] = (kind, i)
                        queue.append(node)
        if end is None:  # pragma: no cover - impossible for integral margins
            raise RuntimeError("Could not apportion the split sizes.")
        node = end
        while parent[node] is not None:
            prev = parent[node]
            if node[0] == "p":
                extra[prev[1], node[1]] = True
            else:
                extra[node[1], prev[1]] = False
            node = prev
        row_need[start] -= 1
        col_need[end[1]] -= 1
    return table + extra


def _partition(n, sizes, stratify, shuffle, rng, owner):
    """Index arrays, one per entry of ``sizes`` (which sum to ``n``)."""
    if stratify is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        bounds = np.cumsum([0] + list(sizes))
        return [order[bounds[i]:bounds[i + 1]] for i in range(len(sizes))]
    codes = _labels(stratify, n, owner)
    counts = np.bincount(codes)
    table = _round_table(counts, sizes, rng if shuffle else None)
    parts = [[] for _ in sizes]
    for c in range(len(counts)):
        members = np.flatnonzero(codes == c)
        if shuffle:
            members = rng.permutation(members)
        start = 0
        for p in range(len(sizes)):
            parts[p].append(members[start:start + table[c, p]])
            start += table[c, p]
    out = []
    for p in parts:
        idx = np.concatenate(p)
        out.append(rng.permutation(idx) if shuffle else np.sort(idx))
    return out


def _take(a, idx):
    return None if a is None else a[idx]


# --- train / test ------------------------------------------------------------------------------
def train_test_split(*arrays, test_size=None, train_size=None, stratify=None, shuffle=True,
                     seed=None):
    """Split arrays into a training and a test part (scikit-learn's ``train_test_split``).

    Parameters
    ----------
    *arrays : array-like, each of shape (n_samples, ...)
        Split together, along the first axis (``x``, ``y``, ``sample_weight`` ...).
    test_size : float in (0, 1) or int, optional
        Fraction (rounded up) or number of test samples; 0.25 when neither size is given.
    train_size : float in (0, 1) or int, optional
        Fraction (rounded down) or number of training samples; the rest by default.
    stratify : array-like of shape (n_samples,) or (n_samples, n_classes), optional
        Labels whose proportions every part keeps exactly (to within one sample per class).
    shuffle : bool, default True
        Shuffle before splitting. Without shuffling the training part is the head of the data.
    seed : int or numpy.random.Generator, optional
        Seed of the shuffle; None draws from profond's global generator.

    Returns
    -------
    list
        ``[a_train, a_test, b_train, b_test, ...]``, two entries per input array.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import train_test_split
    >>> x_tr, x_te = train_test_split(np.arange(10), test_size=0.3, shuffle=False)
    >>> x_tr.tolist(), x_te.tolist()
    ([0, 1, 2, 3, 4, 5, 6], [7, 8, 9])
    """
    owner = "train_test_split"
    arrays, n = _check_arrays(arrays, owner)
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = _size(test_size, "test_size", owner, n) if test_size is not None else None
    n_train = None
    if train_size is not None:
        n_train = _size(train_size, "train_size", owner, n)
        if isinstance(train_size, float):
            n_train = int(math.floor(float(train_size) * n))
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"{owner}: train_size={train_size!r} and test_size={test_size!r} ask "
                         f"for {n_train} + {n_test} samples; there are only {n}.")
    if n_train <= 0 or n_test <= 0:
        empty = "training" if n_train <= 0 else "test"
        raise ValueError(f"{owner}: with n_samples={n}, test_size={test_size!r} and "
                         f"train_size={train_size!r}, the {empty} set would be empty. Adjust "
                         "the sizes.")
    rng = prandom.generator(seed)
    n_rest = n - n_train - n_test
    sizes = [n_train, n_test] + ([n_rest] if n_rest else [])
    idx = _partition(n, sizes, stratify, shuffle, rng, owner)
    out = []
    for a in arrays:
        out.extend([_take(a, idx[0]), _take(a, idx[1])])
    return out


def train_val_test_split(*arrays, val_size, test_size, stratify=None, shuffle=True, seed=None):
    """Split arrays into training, validation and test parts in one call.

    Parameters
    ----------
    *arrays : array-like, each of shape (n_samples, ...)
        Split together along the first axis.
    val_size, test_size : float in (0, 1) or int
        Fraction (rounded up) or number of samples of the validation and test parts; the
        training part gets all the rest. Keyword-only.
    stratify : array-like of shape (n_samples,) or (n_samples, n_classes), optional
        Labels whose proportions every part keeps exactly (to within one sample per class).
    shuffle : bool, default True
        Shuffle before splitting; without shuffling the parts are the head, middle and tail.
    seed : int or numpy.random.Generator, optional
        Seed of the shuffle; None draws from profond's global generator.

    Returns
    -------
    list
        ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]``.

    Raises
    ------
    ValueError
        When a part would be empty or the sizes add up to more than ``n_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import train_val_test_split
    >>> tr, va, te = train_val_test_split(np.arange(10), val_size=2, test_size=3, shuffle=False)
    >>> tr.tolist(), va.tolist(), te.tolist()
    ([0, 1, 2, 3, 4], [5, 6], [7, 8, 9])
    """
    owner = "train_val_test_split"
    arrays, n = _check_arrays(arrays, owner)
    n_val = _size(val_size, "val_size", owner, n)
    n_test = _size(test_size, "test_size", owner, n)
    n_train = n - n_val - n_test
    if n_train <= 0:
        raise ValueError(f"{owner}: with n_samples={n}, val_size={val_size!r} and "
                         f"test_size={test_size!r} take {n_val} + {n_test} samples, which "
                         "leaves an empty training set. Use smaller sizes.")
    rng = prandom.generator(seed)
    idx = _partition(n, [n_train, n_val, n_test], stratify, shuffle, rng, owner)
    out = []
    for a in arrays:
        out.extend(_take(a, i) for i in idx)
    return out


# --- cross-validation --------------------------------------------------------------------------
class KFold:
    """K consecutive folds; each serves once as the test part (scikit-learn's ``KFold``).

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds (at least 2). The first ``n_samples % n_splits`` folds have one more
        sample than the others.
    shuffle : bool, default False
        Shuffle the samples before cutting the folds.
    seed : int or numpy.random.Generator, optional
        Seed of the shuffle (only used with ``shuffle=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import KFold
    >>> [test.tolist() for _, test in KFold(n_splits=3).split(np.arange(7))]
    [[0, 1, 2], [3, 4], [5, 6]]
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed=None):
        self.n_splits = check_int(n_splits, "n_splits", type(self).__name__, low=2)
        self.shuffle = bool(shuffle)
        self.seed = seed

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return self.n_splits

    def _n(self, x):
        n = len(x)
        if self.n_splits > n:
            raise ValueError(f"The 'n_splits' parameter of {type(self).__name__} must be at most "
                             f"the number of samples (n_samples={n}). Got {self.n_splits} "
                             "instead.")
        return n

    def _test_folds(self, x, y):
        n = self._n(x)
        order = prandom.generator(self.seed).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        bounds = np.cumsum(np.concatenate([[0], sizes]))
        return [order[bounds[i]:bounds[i + 1]] for i in range(self.n_splits)]

    def split(self, x, y=None, groups=None):
        """Yield ``(train_index, test_index)`` for each fold.

        Parameters
        ----------
        x : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,), optional
            Needed by :class:`StratifiedKFold`; ignored here.

        Yields
        ------
        train_index, test_index : ndarray of int
            Sorted sample indices.
        """
        n = len(x)
        for test in self._test_folds(x, y):
            mask = np.ones(n, dtype=bool)
            mask[test] = False
            yield np.flatnonzero(mask), np.sort(test)

    def __repr__(self):
        return (f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
                f"seed={self.seed!r})")


class StratifiedKFold(KFold):
    """K folds that keep each class's share: fold sizes differ by at most one, and so do the
    numbers of samples of each class in any two folds.

    Parameters
    ----------
    n_splits : int, default 5
    shuffle : bool, default False
        Shuffle each class's samples before dealing them into folds.
    seed : int or numpy.random.Generator, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import StratifiedKFold
    >>> y = np.array([0] * 6 + [1] * 3)
    >>> [np.bincount(y[test]).tolist() for _, test in StratifiedKFold(3).split(y, y)]
    [[2, 1], [2, 1], [2, 1]]
    """

    def _test_folds(self, x, y):
        if y is None:
            raise ValueError("The 'y' parameter of StratifiedKFold.split must be the labels "
                             "(split(x, y)); the split needs the labels. Got None instead.")
        n = self._n(x)
        codes = _labels(y, n, "StratifiedKFold.split")
        counts = np.bincount(codes)
        if counts.min() < self.n_splits:
            warnings.warn(f"The least populated class has only {counts.min()} members, fewer "
                          f"than n_splits={self.n_splits}: some folds will miss it.",
                          UserWarning, stacklevel=3)
        # Deal the samples, sorted by class, round-robin into folds (scikit-learn's scheme):
        # allocation[f, c] is the number of samples of class c in fold f.
        dealt = np.sort(codes)
        allocation = np.stack([np.bincount(dealt[f::self.n_splits], minlength=len(counts))
                               for f in range(self.n_splits)])
        rng = prandom.generator(self.seed) if self.shuffle else None
        fold_of = np.empty(n, dtype=np.int64)
        for c in range(len(counts)):
            members = np.flatnonzero(codes == c)
            if rng is not None:
                members = rng.permutation(members)
            fold_of[members] = np.repeat(np.arange(self.n_splits), allocation[:, c])
        return [np.flatnonzero(fold_of == f) for f in range(self.n_splits)]
