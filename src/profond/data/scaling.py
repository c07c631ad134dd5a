"""Scaling data near the activations' ranges: min-max, standardisation, division by a number.

The deck's three normalisations, with scikit-learn's conventions: ``fit`` learns from data and
returns ``self``, learned attributes end with ``_``, ``transform`` refuses to run before
``fit``, and ``inverse_transform`` maps back.

.. warning::
   Fit a scaler on the **training split only**, then transform the validation and test splits
   with it. Fitting on all the data lets the test set leak into training (its minimum, maximum,
   mean and spread shape the inputs the model learns from), and the test score is then
   optimistic.

Statistics are per feature by default (``axis=-1``: one value per last-axis entry, reduced over
all the other axes), which is per column for tables ``(n_samples, n_features)`` and per channel
for channels-last images ``(n_samples, height, width, channels)``. ``axis`` names the axes that
keep their own statistics (Keras's ``Normalization`` convention), e.g. ``axis=(1, 2, 3)`` for one
statistic per pixel and channel, or ``None`` for a single statistic over everything.

Data are read in chunks of samples, so a ``numpy.memmap`` larger than memory can be fitted;
``partial_fit`` accumulates statistics over batches the caller provides. Constant features are
left unscaled (their scale is 1), and NaN or infinite values raise a clear error.

Examples
--------
>>> import numpy as np
>>> from profond.data import StandardScaler, train_test_split
>>> x = np.arange(20.0).reshape(10, 2)
>>> x_train, x_test = train_test_split(x, test_size=0.2, seed=0)
>>> scaler = StandardScaler().fit(x_train)          # training split only
>>> x_train_s, x_test_s = scaler.transform(x_train), scaler.transform(x_test)
>>> bool(np.allclose(x_train_s.mean(axis=0), 0.0))
True
>>> bool(np.allclose(scaler.inverse_transform(x_test_s), x_test))
True
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["MinMaxScaler", "StandardScaler", "Rescaler", "NotFittedError"]

# Elements read per chunk while fitting (32 MiB of float64).
_CHUNK_ELEMENTS = 1 << 22


class NotFittedError(ValueError, AttributeError):
    """Raised when ``transform`` or ``inverse_transform`` is called before ``fit``."""


def _as_data(x, owner, method):
    """``x`` as an array (memmaps kept as they are) with a sample axis and numeric values."""
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"The 'x' parameter of {owner}.{method} must hold numbers. Got an "
                        f"array of dtype {x.dtype} instead.")
    if x.ndim < 1:
        raise ValueError(f"The 'x' parameter of {owner}.{method} must have a sample axis, e.g. "
                         f"shape (n_samples, n_features). Got a scalar instead.")
    if len(x) == 0:
        raise ValueError(f"The 'x' parameter of {owner}.{method} must hold at least one sample. "
                         f"Got an empty array of shape {tuple(x.shape)} instead.")
    return x


def _check_finite(chunk, start, owner, method):
    if not np.isfinite(chunk).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(chunk))[0])
        kind = "NaN" if np.isnan(chunk[bad]) else "inf"
        where = (start + bad[0],) + bad[1:]
        raise ValueError(f"The 'x' parameter of {owner}.{method} must hold finite numbers. Got "
                         f"{kind} at index {where} (the first) instead; impute or drop missing "
                         "values before scaling.")


def _chunks(x, owner, method):
    """Float64 chunks of samples of ``x`` (checked finite), with their start index."""
    per_sample = max(1, int(np.prod(x.shape[1:], dtype=np.int64)))
    step = max(1, _CHUNK_ELEMENTS // per_sample)
    for start in range(0, len(x), step):
        chunk = np.asarray(x[start:start + step], dtype=np.float64)
        _check_finite(chunk, start, owner, method)
        yield start, chunk


def _out_dtype(x):
    return x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _normalize_axis(axis, ndim, owner):
    """Kept axes as a sorted tuple of non-negative ints (the sample axis 0 excluded)."""
    if axis is None:
        return ()
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise ValueError(f"The 'axis' parameter of {owner} must be an int, a tuple of ints "
                             f"or None. Got {axis!r} instead.")
        b = int(a) + ndim if a < 0 else int(a)
        if not 1 <= b < ndim:
            raise ValueError(f"The 'axis' parameter of {owner} must name feature axes of the "
                             f"data (1 to {ndim - 1} for data of rank {ndim}; the sample axis 0 "
                             f"cannot keep its own statistics). Got {axis!r} instead.")
        out.append(b)
    if len(set(out)) != len(out):
        raise ValueError(f"The 'axis' parameter of {owner} repeats an axis. Got {axis!r} "
                         "instead.")
    return tuple(sorted(out))


class _FittedScaler:
    """Shared machinery: axis handling, chunked fitting, fitted checks, broadcasting."""

    def __init__(self, axis=-1):
        if axis is not None and not isinstance(axis, (numbers.Integral, tuple, list)):
            raise ValueError(f"The 'axis' parameter of {type(self).__name__} must be an int, a "
                             f"tuple of ints or None. Got {axis!r} instead.")
        self.axis = tuple(axis) if isinstance(axis, list) else axis

    # --- layout ----------------------------------------------------------------------------
    def _layout(self, x, method):
        """Kept axes, reduced axes and the kept shape for data ``x``."""
        owner = type(self).__name__
        kept = _normalize_axis(self.axis, x.ndim, owner)
        reduced = tuple(a for a in range(x.ndim) if a not in kept)
        return kept, reduced, tuple(x.shape[a] for a in kept)

    def _broadcast(self, value, ndim):
        """A learned statistic of the kept shape, reshaped to broadcast against the data."""
        shape = [1] * ndim
        for a, size in zip(self.kept_axes_, self.feature_shape_):
            shape[a] = size
        return np.reshape(value, shape)

    def _check_fitted(self, method):
        if not hasattr(self, "n_samples_seen_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 f"'fit' with the training data before using '{method}'.")

    def _check_layout(self, x, method):
        owner = type(self).__name__
        if x.ndim != self.ndim_:
            raise ValueError(f"The 'x' parameter of {owner}.{method} must have rank {self.ndim_}, "
                             f"as the data the scaler was fitted on. Got shape {x.shape} "
                             "instead.")
        shape = tuple(x.shape[a] for a in self.kept_axes_)
        if shape != self.feature_shape_:
            raise ValueError(f"The 'x' parameter of {owner}.{method} must have the feature "
                             f"shape {self.feature_shape_} on axes {self.kept_axes_}, as the data "
                             f"the scaler was fitted on. Got {shape} instead.")

    # --- public API ------------------------------------------------------------------------
    def fit(self, x, y=None):
        """Learn the statistics of ``x`` (its training split only). Returns ``self``.

        Parameters
        ----------
        x : array-like of shape (n_samples, ...)
            Read in chunks of samples: a ``numpy.memmap`` is never loaded whole.
        y : ignored
            Present for the scikit-learn API.
        """
        self._reset()
        return self.partial_fit(x)

    def partial_fit(self, x, y=None):
        """Update the statistics with one more batch of samples. Returns ``self``."""
        owner = type(self).__name__
        x = _as_data(x, owner, "partial_fit")
        kept, reduced, feature_shape = self._layout(x, "partial_fit")
        if hasattr(self, "n_samples_seen_"):
            self._check_layout(x, "partial_fit")
        else:
            self.kept_axes_, self.feature_shape_, self.ndim_ = kept, feature_shape, x.ndim
            self.n_features_in_ = int(np.prod(feature_shape, dtype=np.int64))
            self.n_samples_seen_ = 0
            self._init_stats(feature_shape)
        for _, chunk in _chunks(x, owner, "fit"):
            self._update(chunk, reduced)
            self.n_samples_seen_ += len(chunk)
        self._finalize()
        return self

    def transform(self, x):
        """Scale ``x`` with the learned statistics.

        Returns
        -------
        ndarray of the same shape, float32 for float32 input, else float64
        """
        return self._map_chunks(x, "transform", self._forward)

    def inverse_transform(self, x):
        """Map scaled data back to the original units (``inverse_transform(transform(x)) == x``
        up to rounding)."""
        return self._map_chunks(x, "inverse_transform", self._backward)

    def _map_chunks(self, x, method, fn):
        """``fn`` applied chunk by chunk (memmaps never loaded whole) into a new array."""
        owner = type(self).__name__
        self._check_fitted(method)
        x = _as_data(x, owner, method)
        self._check_layout(x, method)
        out = np.empty(x.shape, dtype=_out_dtype(x))
        for start, chunk in _chunks(x, owner, method):
            out[start:start + len(chunk)] = fn(chunk)
        return out

    def fit_transform(self, x, y=None):
        """``fit(x).transform(x)``: for the training split only."""
        return self.fit(x).transform(x)

    def _reset(self):
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)


class MinMaxScaler(_FittedScaler):
    """Scale each feature to ``feature_range`` using its minimum and maximum.

    ``x_scaled = x * scale_ + min_`` with ``scale_ = (high - low) / (data_max_ - data_min_)``.
    A constant feature has ``scale_ = 1`` and is shifted to ``low``. Fit on the training split
    only (see the module's warning); values outside the training range map outside
    ``feature_range`` unless ``clip=True``.

    Parameters
    ----------
    feature_range : tuple (low, high), default (0, 1)
    axis : int, tuple of int or None, default -1
        Axes with their own minimum and maximum (last axis: per feature or per channel).
    clip : bool, default False
        Clip transformed values to ``feature_range``.

    Attributes
    ----------
    data_min_, data_max_, data_range_ : ndarray of shape feature_shape_
    scale_, min_ : ndarray of shape feature_shape_
    n_samples_seen_ : int
    n_features_in_ : int
    feature_shape_ : tuple
        Shape of the statistics (the sizes of the kept axes).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import MinMaxScaler
    >>> scaler = MinMaxScaler(feature_range=(-1, 1)).fit(np.array([[0.0, 10.0], [2.0, 30.0]]))
    >>> scaler.transform(np.array([[1.0, 20.0]])).tolist()
    [[0.0, 0.0]]
    """

    def __init__(self, feature_range=(0, 1), axis=-1, clip=False):
        super().__init__(axis)
        try:
            low, high = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            low, high = 0.0, 0.0
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"The 'feature_range' parameter of MinMaxScaler must be a tuple "
                             f"(low, high) of finite numbers with low < high. Got "
                             f"{feature_range!r} instead.")
        self.feature_range = (low, high)
        self.clip = bool(clip)

    def _init_stats(self, shape):
        self.data_min_ = np.full(shape, np.inf)
        self.data_max_ = np.full(shape, -np.inf)

    def _update(self, chunk, reduced):
        self.data_min_ = np.asarray(np.minimum(self.data_min_, chunk.min(axis=reduced)))
        self.data_max_ = np.asarray(np.maximum(self.data_max_, chunk.max(axis=reduced)))

    def _finalize(self):
        low, high = self.feature_range
        self.data_range_ = self.data_max_ - self.data_min_
        # A constant feature (zero range, or one lost in rounding) is not scaled.
        span = np.where(self.data_range_ < 10 * np.finfo(np.float64).eps, 1.0,
                        self.data_range_)
        self.scale_ = (high - low) / span
        self.min_ = low - self.data_min_ * self.scale_

    def _forward(self, chunk):
        out = chunk * self._broadcast(self.scale_, chunk.ndim) + \
            self._broadcast(self.min_, chunk.ndim)
        if self.clip:
            np.clip(out, *self.feature_range, out=out)
        return out

    def _backward(self, chunk):
        return (chunk - self._broadcast(self.min_, chunk.ndim)) / \
            self._broadcast(self.scale_, chunk.ndim)


class StandardScaler(_FittedScaler):
    """Standardise each feature: ``(x - mean_) / scale_``, with ``scale_`` the standard deviation.

    The variance is the population variance (divided by ``n``), as in scikit-learn, accumulated
    chunk by chunk with Chan et al.'s parallel update (1979), so memmaps stream. A constant
    feature has ``scale_ = 1``. Fit on the training split only (see the module's warning).

    Parameters
    ----------
    with_mean : bool, default True
        Subtract the mean.
    with_std : bool, default True
        Divide by the standard deviation.
    axis : int, tuple of int or None, default -1
        Axes with their own mean and deviation (last axis: per feature or per channel).

    Attributes
    ----------
    mean_ : ndarray of shape feature_shape_, or None when ``with_mean=False``
    var_ : ndarray of shape feature_shape_, or None when ``with_std=False``
    scale_ : ndarray of shape feature_shape_, or None when ``with_std=False``
    n_samples_seen_ : int
    n_features_in_ : int
    feature_shape_ : tuple

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import StandardScaler
    >>> scaler = StandardScaler().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> scaler.mean_.tolist(), scaler.scale_.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    >>> scaler.transform(np.array([[3.0, 6.0]])).tolist()
    [[1.0, 1.0]]
    """

    def __init__(self, with_mean=True, with_std=True, axis=-1):
        super().__init__(axis)
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)

    def _init_stats(self, shape):
        self._count = 0
        self._mean = np.zeros(shape)
        self._m2 = np.zeros(shape)

    def _update(self, chunk, reduced):
        m = int(np.prod([chunk.shape[a] for a in reduced], dtype=np.int64))
        mean_b = chunk.mean(axis=reduced)
        m2_b = ((chunk - chunk.mean(axis=reduced, keepdims=True)) ** 2).sum(axis=reduced)
        n = self._count
        delta = mean_b - self._mean
        total = n + m
        self._mean = self._mean + delta * (m / total)
        self._m2 = self._m2 + m2_b + delta ** 2 * (n * m / total)
        self._count = total

    def _finalize(self):
        mean = np.asarray(self._mean)
        var = np.asarray(self._m2 / self._count)
        self.mean_ = mean.copy() if self.with_mean else None
        if self.with_std:
            self.var_ = var
            # scikit-learn's test for a constant feature: a variance within rounding of zero.
            eps = np.finfo(np.float64).eps
            n = self._count
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.scale_ = np.where(constant | (var == 0), 1.0, np.sqrt(var))
        else:
            self.var_ = None
            self.scale_ = None

    def _forward(self, chunk):
        out = chunk
        if self.with_mean:
            out = out - self._broadcast(self.mean_, chunk.ndim)
        if self.with_std:
            out = out / self._broadcast(self.scale_, chunk.ndim)
        return out

    def _backward(self, chunk):
        out = chunk
        if self.with_std:
            out = out * self._broadcast(self.scale_, chunk.ndim)
        if self.with_mean:
            out = out + self._broadcast(self.mean_, chunk.ndim)
        return out

    def _reset(self):
        super()._reset()
        for name in ("_count", "_mean", "_m2"):
            self.__dict__.pop(name, None)


class Rescaler:
    """Multiply by ``scale`` and add ``offset``: the deck's "division by an integer".

    ``Rescaler(1 / 255)`` maps 8-bit pixels to [0, 1]; ``Rescaler(1 / 127.5, -1)`` to [-1, 1]
    (Keras's ``Rescaling``). Nothing is learned, so ``transform`` works without ``fit``;
    ``fit`` only checks the data and returns ``self``, for pipelines that call it.

    Parameters
    ----------
    scale : float
        Non-zero, finite factor.
    offset : float, default 0.0

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import Rescaler
    >>> pixels = np.array([[0, 51, 255]], dtype=np.uint8)
    >>> Rescaler(1 / 255).transform(pixels).tolist()
    [[0.0, 0.2, 1.0]]
    """

    def __init__(self, scale, offset=0.0):
        for name, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                    not np.isfinite(value):
                raise ValueError(f"The '{name}' parameter of Rescaler must be a finite number. "
                                 f"Got {value!r} instead.")
        if scale == 0:
            raise ValueError("The 'scale' parameter of Rescaler must be a non-zero finite "
                             "number (it would erase the data and cannot be inverted). Got 0 "
                             "instead.")
        self.scale = float(scale)
        self.offset = float(offset)

    def fit(self, x, y=None):
        """Check ``x`` (numbers, finite); nothing is learned. Returns ``self``."""
        x = _as_data(x, "Rescaler", "fit")
        for _ in _chunks(x, "Rescaler", "fit"):
            pass
        return self

    partial_fit = fit

    def _apply(self, x, method, fn):
        x = _as_data(x, "Rescaler", method)
        out = np.empty(x.shape, dtype=_out_dtype(x))
        for start, chunk in _chunks(x, "Rescaler", method):
            out[start:start + len(chunk)] = fn(chunk)
        return out

    def transform(self, x):
        """``x * scale + offset``, float32 for float32 input, else float64."""
        return self._apply(x, "transform", lambda c: c * self.scale + self.offset)

    def inverse_transform(self, x):
        """``(x - offset) / scale``."""
        return self._apply(x, "inverse_transform", lambda c: (c - self.offset) / self.scale)

    def fit_transform(self, x, y=None):
        return self.transform(x)

    def __repr__(self):
        return f"Rescaler(scale={self.scale!r}, offset={self.offset!r})"
