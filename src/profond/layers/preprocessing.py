"""Preprocessing inside the model: ``Normalization`` (Keras's), which standardises its inputs
with a mean and variance learned by ``adapt``.

Because the statistics are (non-trainable) weights of the model, a saved model carries its
scaling: whoever loads it feeds raw data, and nobody has to keep a scaler beside the weights
file. As with any scaler, adapt on the training split only.
"""

from __future__ import annotations

import numbers

import numpy as np

from profond import backend
from profond.autograd.tensor import Tensor
from profond.layers.base import Layer

__all__ = ["Normalization"]

# Keras's backend.epsilon(): the smallest standard deviation divided by.
EPSILON = 1e-7
_CHUNK_ELEMENTS = 1 << 22


class Normalization(Layer):
    """Standardise inputs: ``(x - mean) / max(sqrt(variance), 1e-7)`` (Keras 3's layer).

    Parameters
    ----------
    axis : int, tuple of int or None, default -1
        Axes that keep their own mean and variance (the last: per feature, or per channel of
        channels-last images); the statistics are reduced over all other axes. None: one mean
        and one variance for everything.
    mean, variance : float or array-like, optional
        Fixed statistics, broadcastable to the kept axes. When given, the layer has no weights
        and the values live in its config; otherwise call :meth:`adapt`.
    invert : bool, default False
        Apply the inverse, ``mean + x * sqrt(variance)`` (to map predictions back).

    Attributes
    ----------
    adapt_mean, adapt_variance : Variable
        The adapted statistics (non-trainable weights named ``mean`` and ``variance``, of the
        kept axes' shape), saved with the model's weights.
    count : Variable
        Keras's third weight (int64, shape ``()``): the number of samples ``adapt`` read (Keras 3
        keeps it for its older files and leaves it at 0). Weight lists and files of two arrays,
        written before profond kept it, still load (it is then left as it is).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Normalization
    >>> x_train = np.array([[0.0, 10.0], [2.0, 30.0]])
    >>> norm = Normalization()
    >>> norm.adapt(x_train)          # the training split only
    >>> norm(x_train).numpy().tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> [w.tolist() for w in norm.get_weights()]
    [[1.0, 20.0], [1.0, 100.0], 2]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            self.axis = ()
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = (int(axis),)
        elif isinstance(axis, (tuple, list)) and all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            self.axis = tuple(int(a) for a in axis)
        else:
            raise ValueError(f"The 'axis' parameter of Normalization must be an int, a tuple of "
                             f"ints or None. Got {axis!r} instead.")
        if (mean is None) != (variance is None):
            raise ValueError("The 'mean' and 'variance' parameters of Normalization must be both "
                             "given, or neither (then call adapt()). Got "
                             f"mean={mean!r}, variance={variance!r} instead.")
        if variance is not None and np.any(np.asarray(variance, dtype=np.float64) < 0):
            raise ValueError(f"The 'variance' parameter of Normalization must be non-negative. "
                             f"Got {variance!r} instead.")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        self.adapt_mean = None
        self.adapt_variance = None
        self.count = None
        self._keep = None

    # --- shapes ------------------------------------------------------------------------------
    def _kept_axes(self, ndim):
        kept = []
        for a in self.axis:
            b = a + ndim if a < 0 else a
            if not 1 <= b < ndim:
                raise ValueError(f"The 'axis' parameter of Normalization must name axes in [1, "
                                 f"{ndim}) for inputs of rank {ndim} (the batch axis 0 cannot "
                                 f"keep its own statistics). Got axis {a} instead.")
            kept.append(b)
        return tuple(sorted(set(kept)))

    def build(self, input_shape):
        ndim = len(input_shape)
        self._keep = self._kept_axes(ndim)
        stats_shape = tuple(input_shape[a] for a in self._keep)
        if any(d is None for d in stats_shape):
            raise ValueError(f"Input of layer '{self.name}' (Normalization) must have known sizes "
                             f"on the kept axes {self._keep}. Got input shape {input_shape} "
                             "instead.")
        self._broadcast_shape = tuple(input_shape[a] if a in self._keep else 1
                                      for a in range(ndim))
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(stats_shape, "zeros", trainable=False, name="mean")
            self.adapt_variance = self.add_weight(stats_shape, "ones", trainable=False,
                                                  name="variance")
            self.count = self.add_weight((), "zeros", dtype="int64", trainable=False,
                                         name="count")
        self.built = True

    # --- adapt -------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of ``data`` (the training split only).

        Parameters
        ----------
        data : array-like of shape (n_samples, ...), or an iterable of such batches
            Arrays (memmaps included) are read in chunks; an iterable (e.g. a generator of
            batches) is consumed once, or for ``steps`` batches.
        batch_size : int, optional
            Samples per chunk when ``data`` is an array.
        steps : int, optional
            Batches to draw when ``data`` is an iterable.
        """
        if self.input_mean is not None:
            raise ValueError("This Normalization layer was given a fixed mean and variance; "
                             "adapt() would ignore them. Create it without mean/variance.")
        count, mean, m2, shape, samples = 0, None, None, None, 0
        for batch in self._adapt_batches(data, batch_size, steps):
            batch = np.asarray(backend.to_numpy(batch.data if isinstance(batch, Tensor)
                                                else batch), dtype=np.float64)
            if batch.ndim == 1:
                batch = batch[:, None]
            if not np.isfinite(batch).all():
                raise ValueError("The 'data' parameter of Normalization.adapt must hold finite "
                                 "numbers. Got NaN or inf instead; clean them first.")
            if shape is None:
                shape = batch.shape
                keep = self._kept_axes(batch.ndim)
                reduce = tuple(a for a in range(batch.ndim) if a not in keep)
            elif batch.shape[1:] != shape[1:]:
                raise ValueError(f"The 'data' parameter of Normalization.adapt must give batches "
                                 f"of one shape beyond the sample axis. Got batches of shape "
                                 f"{shape} and {batch.shape} instead.")
            m = int(np.prod([batch.shape[a] for a in reduce]))
            if m == 0:
                continue
            samples += batch.shape[0]
            b_mean = batch.mean(axis=reduce)
            b_m2 = ((batch - batch.mean(axis=reduce, keepdims=True)) ** 2).sum(axis=reduce)
            if mean is None:
                count, mean, m2 = m, b_mean, b_m2
            else:  # Chan, Golub & LeVeque's parallel update (1979)
                delta = b_mean - mean
                total = count + m
                mean = mean + delta * (m / total)
                m2 = m2 + b_m2 + delta ** 2 * (count * m / total)
                count = total
        if mean is None:
            raise ValueError("The 'data' parameter of Normalization.adapt must hold at least one "
                             "sample. Got an empty array or iterable instead.")
        if not self.built:
            self._build_input_shape = (None,) + tuple(shape[1:])
            self.build(self._build_input_shape)
        expected = tuple(self.adapt_mean.shape)
        if tuple(np.shape(mean)) != expected:
            raise ValueError(f"Normalization.adapt: the data give statistics of shape "
                             f"{np.shape(mean)}, but the layer was built for {expected}.")
        self.adapt_mean.assign(np.asarray(mean))
        self.adapt_variance.assign(np.asarray(m2 / count))
        self.count.assign(np.asarray(samples, dtype=np.int64))

    def set_weights(self, weights) -> None:
        """Set ``[mean, variance, count]`` (Keras's order), or ``[mean, variance]`` as lists
        written before the count was kept (the count is then left as it is)."""
        weights = list(weights)
        if self.count is not None and len(weights) == 2:
            weights.append(self.count.numpy())
        super().set_weights(weights)

    @staticmethod
    def _adapt_batches(data, batch_size, steps):
        if hasattr(data, "shape") and hasattr(data, "__getitem__") or isinstance(data, list) \
                and data and not hasattr(data[0], "shape"):
            if not hasattr(data, "shape"):
                data = np.asarray(data)
            per_sample = max(1, int(np.prod(data.shape[1:], dtype=np.int64)))
            step = int(batch_size) if batch_size else max(1, _CHUNK_ELEMENTS // per_sample)
            for start in range(0, len(data), step):
                yield data[start:start + step]
            return
        for i, batch in enumerate(data):
            if steps is not None and i >= steps:
                return
            if isinstance(batch, tuple):  # (x, y) pairs: adapt on x
                batch = batch[0]
            yield batch

    # --- call --------------------------------------------------------------------------------
    def _stats(self, dtype):
        if self.input_mean is not None:
            mean = np.broadcast_to(np.asarray(self.input_mean, dtype=np.float64),
                                   tuple(self._broadcast_shape[a] for a in self._keep))
            var = np.broadcast_to(np.asarray(self.input_variance, dtype=np.float64), mean.shape)
        else:
            mean, var = self.adapt_mean.numpy(), self.adapt_variance.numpy()
        std = np.maximum(np.sqrt(np.asarray(var, dtype=np.float64)), EPSILON)
        xp = backend.xp()
        return (xp.asarray(np.reshape(mean, self._broadcast_shape), dtype=dtype),
                xp.asarray(np.reshape(std, self._broadcast_shape), dtype=dtype))

    def call(self, inputs):
        mean, std = self._stats(inputs.dtype if inputs.dtype.kind == "f" else backend.floatx())
        if inputs.dtype.kind != "f":
            inputs = Tensor(inputs.data.astype(backend.floatx()))
        if self.invert:
            return inputs * std + mean
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        def plain(v):
            return v if v is None or isinstance(v, (int, float)) else \
                np.asarray(v, dtype=np.float64).tolist()

        return {**super().get_config(), "axis": list(self.axis) if self.axis else None,
                "mean": plain(self.input_mean), "variance": plain(self.input_variance),
                "invert": self.invert}
