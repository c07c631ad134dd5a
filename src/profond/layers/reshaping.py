"""Layers that only move data around: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``.
None of them has weights or anything to learn (padding, cropping and up-sampling are in
:mod:`profond.layers.padding` and :mod:`profond.layers.upsampling`)."""

from __future__ import annotations

from profond import ops
from profond._validation import check_int
from profond.layers.base import Layer
from profond.layers.conv import check_data_format

__all__ = ["Flatten", "Reshape", "Permute", "RepeatVector"]


def _prod(values):
    out = 1
    for v in values:
        out *= v
    return out


class Flatten(Layer):
    """Collapse every axis but the batch axis: ``(batch, d1, d2, ...)`` to ``(batch, d1*d2*...)``.

    Parameters
    ----------
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Flatten
    >>> Flatten()(np.zeros((2, 5, 5, 64))).shape
    (2, 1600)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, "Flatten")

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0], -1) if inputs.ndim > 1 else (-1, 1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        return (input_shape[0], None if any(d is None for d in rest) else _prod(rest))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Give each sample the shape ``target_shape`` (the batch axis is kept).

    Parameters
    ----------
    target_shape : tuple of int
        Shape of one sample; one entry may be -1 (inferred).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Reshape
    >>> Reshape((4, 3))(np.zeros((2, 12))).shape
    (2, 4, 3)
    >>> Reshape((-1, 2)).compute_output_shape((None, 6, 2))
    (None, 6, 2)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, int) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        try:
            shape = tuple(target_shape)
        except TypeError:
            shape = None
        if shape is None or any(isinstance(d, bool) or not isinstance(d, int)
                                or (d < 1 and d != -1) for d in shape) \
                or sum(d == -1 for d in shape) > 1:
            raise ValueError("The 'target_shape' parameter of Reshape must be a tuple of ints in "
                             "[1, inf), with at most one -1 (inferred). Got "
                             f"{target_shape!r} instead.")
        self.target_shape = shape

    def _resolve(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = _prod(rest)
        known = _prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or size % known:
                self._fail(input_shape)
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            self._fail(input_shape)
        return self.target_shape

    def _fail(self, input_shape):
        raise ValueError(f"Layer '{self.name}' (Reshape) cannot reshape input of shape "
                         f"{tuple(input_shape)} ({_prod(input_shape[1:])} values per sample) to "
                         f"target shape {self.target_shape}.")

    def build(self, input_shape):
        self._resolve(tuple(input_shape))
        self.built = True

    def call(self, inputs):
        shape = self._resolve(tuple(inputs.shape))
        return ops.reshape(inputs, (inputs.shape[0],) + shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(tuple(input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorder the axes of each sample; the batch axis stays first.

    Parameters
    ----------
    dims : tuple of int
        A permutation of ``1 .. rank - 1`` (the batch axis is axis 0 and is not named):
        ``(2, 1)`` swaps the two axes of a sequence ``(batch, steps, features)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Permute
    >>> Permute((2, 1))(np.zeros((4, 10, 64))).shape
    (4, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            dims = (dims,)
        if sorted(d if isinstance(d, int) and not isinstance(d, bool) else -1
                  for d in dims) != list(range(1, len(dims) + 1)):
            raise ValueError("The 'dims' parameter of Permute must be a permutation of 1 .. n "
                             f"(the axes after the batch axis). Got {dims!r} instead.")
        self.dims = dims
        self.supports_masking = False

    def _check_rank(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"Input of layer '{self.name}' (Permute) must have rank "
                             f"{len(self.dims) + 1} to be permuted by dims {self.dims}. Got input "
                             f"shape {tuple(input_shape)}.")

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Repeat each sample's vector ``n`` times: ``(batch, features)`` to
    ``(batch, n, features)`` (how an encoder's summary feeds a decoder's every step).

    Parameters
    ----------
    n : int
        Number of repetitions.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RepeatVector
    >>> RepeatVector(3)(np.array([[1.0, 2.0]])).numpy()
    array([[[1., 2.],
            [1., 2.],
            [1., 2.]]], dtype=float32)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_int(n, "n", "RepeatVector", low=1)

    def _check_rank(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"Input of layer '{self.name}' (RepeatVector) must have rank 2 "
                             f"(batch, features). Got input shape {tuple(input_shape)}.")

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        n, f = inputs.shape
        # A broadcast view, copied by reshape: its backward sums the n copies' gradients.
        return ops.broadcast_to(ops.reshape(inputs, (n, 1, f)), (n, self.n, f))

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
