"""Categorical preprocessing layers: ``CategoryEncoding``, ``Discretization``,
``IntegerLookup`` and ``StringLookup`` (Keras 3's arguments, indices and outputs).

They turn raw features into what a network takes: integer ids, one-hot, multi-hot or count
vectors. Nothing here is learned by gradient descent; ``adapt(data)`` fits a vocabulary or bin
boundaries from data before training, as Keras's preprocessing layers do.
"""

from __future__ import annotations

import numpy as np

from profond import backend
from profond._validation import check_choice, check_float, check_int
from profond.autograd.tensor import Tensor
from profond.layers.base import Layer

__all__ = ["CategoryEncoding", "Discretization", "encode_categorical"]

_ENCODINGS = ("one_hot", "multi_hot", "count")


def _host(x):
    return backend.to_numpy(x.data) if isinstance(x, Tensor) else np.asarray(x)


def encode_categorical(ids, mode, depth, owner, count_weights=None, idf_weights=None,
                       dtype="float32"):
    """Integer ids in ``[0, depth)`` as one-hot (a new last axis; a last axis of 1 replaced),
    multi-hot or count vectors (over the last axis), or TF-IDF (counts times ``idf_weights``).
    Ids outside ``[0, depth)`` are refused."""
    ids = np.asarray(ids)
    if mode == "int":
        return ids.astype("int64")
    bad = (ids < 0) | (ids >= depth)
    if bad.any():
        raise ValueError(f"The inputs of {owner} must be integer ids in [0, {depth}). Got "
                         f"{ids[bad].ravel()[0].item()!r} (among inputs of shape {ids.shape}) "
                         "instead.")
    if ids.ndim == 0:
        ids = ids[None]
    if mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        return (ids[..., None] == np.arange(depth)).astype(dtype)
    # multi-hot, count, TF-IDF: over the last axis (a rank-1 input is one sample)
    hot = (ids[..., None] == np.arange(depth))
    if mode == "multi_hot":
        return hot.any(axis=-2).astype(dtype)
    hot = hot.astype(dtype)
    if count_weights is not None:
        hot = hot * np.asarray(count_weights, dtype=dtype).reshape(ids.shape)[..., None]
    counts = hot.sum(axis=-2)
    if mode == "tf_idf":
        counts = counts * np.asarray(idf_weights, dtype=dtype)
    return counts


class CategoryEncoding(Layer):
    """Integer ids ``[0, num_tokens)`` as one-hot, multi-hot or count vectors.

    Parameters
    ----------
    num_tokens : int
    output_mode : {"multi_hot", "one_hot", "count"}, default "multi_hot"
        ``"binary"`` is Keras's old name of ``"multi_hot"``.
    sparse : False

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import CategoryEncoding
    >>> CategoryEncoding(4, output_mode="count")(np.array([[0, 1, 1], [3, 3, 3]])).numpy()
    array([[1., 2., 0., 0.],
           [0., 0., 0., 3.]], dtype=float32)
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        self.num_tokens = check_int(num_tokens, "num_tokens", "CategoryEncoding", low=1)
        if output_mode == "binary":
            output_mode = "multi_hot"
        self.output_mode = check_choice(output_mode, "output_mode", "CategoryEncoding",
                                        _ENCODINGS)
        if sparse:
            raise ValueError("The 'sparse' parameter of CategoryEncoding must be False (profond "
                             "has no sparse tensors). Got True instead.")
        self.sparse = False

    def __call__(self, inputs, count_weights=None, **kwargs):
        if count_weights is not None:
            kwargs["count_weights"] = count_weights
        return super().__call__(inputs, **kwargs)

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("The 'count_weights' parameter of CategoryEncoding is only used "
                             f"with output_mode='count'. Got output_mode={self.output_mode!r}.")
        out = encode_categorical(_host(inputs).astype("int64"), self.output_mode,
                                 self.num_tokens, f"layer '{self.name}' (CategoryEncoding)",
                                 None if count_weights is None else _host(count_weights),
                                 dtype=self.compute_dtype)
        return Tensor(out, dtype=out.dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return input_shape + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}


def _quantile_boundaries(values, num_bins, epsilon):
    """Bin boundaries at the ``1/num_bins`` quantiles of ``values``, through the same
    weighted summary as Keras (a subsample every ``epsilon * n`` sorted values, each standing
    for that many; quantiles interpolated on the cumulative weights), so ``adapt`` gives
    Keras's boundaries."""
    values = np.sort(np.asarray(values, dtype="float32").ravel())
    step = max(values.size * epsilon, 1)
    kept = values[int(step - 1)::int(step)]
    weights = np.full(kept.shape, float(step))

    def compress(points, weights, eps):
        if points.size * eps < 1:
            return points, weights
        cumulative = weights.cumsum()
        targets = eps + np.arange(0.0, 1.0, eps)
        at = np.interp(targets, cumulative / cumulative[-1], points)
        return at, np.diff(np.interp(targets, cumulative / cumulative[-1], cumulative),
                           prepend=0.0)

    points, weights = compress(kept, weights, epsilon)
    return compress(points.astype("float32"), weights, 1.0 / num_bins)[0][:-1]


class Discretization(Layer):
    """Bucket continuous values: ``bin_boundaries [b0, b1, ...]`` give bins ``x < b0``,
    ``b0 <= x < b1``, ... as ids (or one-hot, multi-hot, count vectors).

    Parameters
    ----------
    bin_boundaries : list of float, optional
    num_bins : int, optional
        Instead of ``bin_boundaries``: the boundaries are quantiles found by ``adapt``.
    epsilon : float, default 0.01
        Precision of the quantile summary of ``adapt``.
    output_mode : {"int", "one_hot", "multi_hot", "count"}, default "int"
    sparse : False

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Discretization
    >>> Discretization(bin_boundaries=[0.0, 1.0])(np.array([[-0.5, 0.0, 0.5, 2.0]])).numpy()
    array([[0, 1, 1, 2]])
    >>> layer = Discretization(num_bins=4)
    >>> layer.adapt(np.arange(100.0))
    >>> layer.bin_boundaries  # Keras's quantile summary: the 25th, 50th, 75th of 100 values
    [24.0, 49.0, 74.0]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, **kwargs):
        super().__init__(**kwargs)
        if (bin_boundaries is None) == (num_bins is None):
            raise ValueError("The 'bin_boundaries' and 'num_bins' parameters of Discretization: "
                             "exactly one must be given. Got bin_boundaries="
                             f"{bin_boundaries!r} and num_bins={num_bins!r} instead.")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in bin_boundaries]
            if any(b >= c for b, c in zip(bin_boundaries, bin_boundaries[1:])):
                raise ValueError("The 'bin_boundaries' parameter of Discretization must be "
                                 f"increasing. Got {bin_boundaries!r} instead.")
        self.bin_boundaries = bin_boundaries
        self.num_bins = check_int(num_bins, "num_bins", "Discretization", low=2,
                                  allow_none=True)
        self.epsilon = check_float(epsilon, "epsilon", "Discretization", low=0, low_open=True,
                                   high=1)
        self.output_mode = check_choice(output_mode, "output_mode", "Discretization",
                                        ("int",) + _ENCODINGS)
        if sparse:
            raise ValueError("The 'sparse' parameter of Discretization must be False. Got True "
                             "instead.")
        self.sparse = False

    def adapt(self, data):
        """Set ``bin_boundaries`` to the quantiles of ``data`` (an array, or batches)."""
        if self.num_bins is None:
            raise ValueError(f"Layer '{self.name}' (Discretization) was given bin_boundaries; "
                             "adapt needs num_bins instead.")
        arrays = [data] if isinstance(data, (np.ndarray, Tensor)) else list(data)
        values = np.concatenate([_host(a).astype("float32").ravel() for a in arrays])
        self.bin_boundaries = _quantile_boundaries(values, self.num_bins,
                                                   self.epsilon).tolist()

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"Layer '{self.name}' (Discretization) has no bin boundaries: give "
                             "bin_boundaries or call adapt(data) first.")
        ids = np.digitize(_host(inputs), self.bin_boundaries)
        out = encode_categorical(ids, self.output_mode, len(self.bin_boundaries) + 1,
                                 f"layer '{self.name}' (Discretization)", dtype=self.compute_dtype)
        return Tensor(out, dtype=out.dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None \
            else self.num_bins
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return (input_shape[0],) + input_shape[2:] + (depth,) if len(input_shape) >= 2 \
            else (depth,)

    def get_config(self):
        # Keras's Discretization takes no 'trainable' (nothing to train)
        config = {k: v for k, v in super().get_config().items() if k != "trainable"}
        return {**config, "bin_boundaries": self.bin_boundaries,
                "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        boundaries = config.pop("bin_boundaries", None)
        if boundaries is not None and config.get("num_bins") is not None:
            layer = cls(**config)   # an adapted layer: num_bins and its found boundaries
            layer.bin_boundaries = list(boundaries)
            return layer
        return cls(bin_boundaries=boundaries, **config)
