"""Zeros added around, or rows cut from, the spatial axes of channels-last data:
``ZeroPadding1D/2D/3D`` and ``Cropping1D/2D/3D``. One class per kind of edit, parametrised by
the number of spatial axes; the backward of padding is a crop and the reverse (``ops.pad`` and
slicing carry their own)."""

from __future__ import annotations

from profond import ops
from profond.layers.base import Layer
from profond.layers.conv import check_data_format

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D",
           "Cropping3D"]

_LAYOUTS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
            3: "(batch, depth, height, width, channels)"}


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def parse_edges(value, rank: int, argument: str, owner: str):
    """``((before, after),) * rank`` from Keras's forms of ``padding``/``cropping``: one int for
    every edge; for one axis, ``(before, after)``; for several, one int per axis (symmetric) or
    one ``(before, after)`` pair per axis."""
    if _is_count(value):
        return ((value, value),) * rank
    try:
        parts = tuple(value)
    except TypeError:
        parts = ()
    if rank == 1 and len(parts) == 2 and all(_is_count(p) for p in parts):
        return (parts,)
    if rank > 1 and len(parts) == rank:
        if all(_is_count(p) for p in parts):
            return tuple((p, p) for p in parts)
        if all(isinstance(p, (tuple, list)) and len(p) == 2 and all(_is_count(v) for v in p)
               for p in parts):
            return tuple(tuple(p) for p in parts)
    forms = ("an int or a tuple of 2 ints (before, after)" if rank == 1 else
             f"an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints")
    raise ValueError(f"The '{argument}' parameter of {owner} must be {forms}, all in [0, inf). "
                     f"Got {value!r} instead.")


class _SpatialEdit(Layer):
    rank = 2
    argument = "padding"

    def __init__(self, edges, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.data_format = check_data_format(data_format, owner)
        setattr(self, self.argument, parse_edges(edges, self.rank, self.argument, owner))
        self.supports_masking = False

    @property
    def _edges(self):
        return getattr(self, self.argument)

    def _check_rank(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             f"rank {self.rank + 2} {_LAYOUTS[self.rank]}. Got input shape "
                             f"{tuple(input_shape)}.")

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        spatial = tuple(None if d is None else self._edited(d, e, input_shape)
                        for d, e in zip(input_shape[1:-1], self._edges))
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def get_config(self):
        edges = self._edges[0] if self.rank == 1 else self._edges
        config = {**super().get_config(), self.argument: [list(e) for e in edges]
                  if self.rank > 1 else list(edges)}
        if self.rank > 1 or self.argument == "padding":
            config["data_format"] = self.data_format
        return config


class _ZeroPadding(_SpatialEdit):
    def _edited(self, size, edges, input_shape):
        return size + edges[0] + edges[1]

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return ops.pad(inputs, ((0, 0),) + tuple(self.padding) + ((0, 0),))


class _Cropping(_SpatialEdit):
    argument = "cropping"

    def _edited(self, size, edges, input_shape):
        if edges[0] + edges[1] >= size:
            raise ValueError(f"The 'cropping' parameter of {type(self).__name__} (layer "
                             f"'{self.name}') must leave at least one row on every spatial "
                             f"axis. Got cropping {self._edges} for input shape "
                             f"{tuple(input_shape)} instead.")
        return size - edges[0] - edges[1]

    def call(self, inputs):
        shape = tuple(inputs.shape)
        self.compute_output_shape(shape)
        index = (slice(None),) + tuple(slice(b, n - a) for (b, a), n in
                                       zip(self.cropping, shape[1:-1])) + (slice(None),)
        return inputs[index]


class ZeroPadding1D(_ZeroPadding):
    """Add zeros at the start and end of sequences ``(batch, steps, channels)``.

    Parameters
    ----------
    padding : int or (int, int), default 1
        The same at both ends, or ``(before, after)``.
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ZeroPadding1D
    >>> ZeroPadding1D((1, 2))(np.ones((1, 3, 1))).numpy()[0, :, 0]
    array([0., 1., 1., 1., 0., 0.], dtype=float32)
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Add rows and columns of zeros around channels-last images.

    Parameters
    ----------
    padding : int, (int, int) or ((int, int), (int, int)), default (1, 1)
        The same on every side; ``(rows, cols)`` symmetric; or
        ``((top, bottom), (left, right))``.
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ZeroPadding2D
    >>> ZeroPadding2D(((1, 0), (2, 2)))(np.ones((1, 3, 3, 1))).shape
    (1, 4, 7, 1)
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Add zeros around volumes ``(batch, depth, height, width, channels)``.

    Parameters
    ----------
    padding : int, 3 ints or 3 pairs of ints, default ((1, 1), (1, 1), (1, 1))
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ZeroPadding3D
    >>> ZeroPadding3D((1, 0, 2))(np.ones((1, 2, 2, 2, 3))).shape
    (1, 4, 2, 6, 3)
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping1D(_Cropping):
    """Cut steps from the start and end of sequences ``(batch, steps, channels)``.

    Parameters
    ----------
    cropping : int or (int, int), default (1, 1)
        The same at both ends, or ``(before, after)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Cropping1D
    >>> Cropping1D(1)(np.arange(6.0).reshape(1, 3, 2)).numpy()
    array([[[2., 3.]]], dtype=float32)
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)


class Cropping2D(_Cropping):
    """Cut rows and columns from the borders of channels-last images.

    Parameters
    ----------
    cropping : int, (int, int) or ((int, int), (int, int)), default ((0, 0), (0, 0))
        The same on every side; ``(rows, cols)`` symmetric; or
        ``((top, bottom), (left, right))``.
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Cropping2D
    >>> Cropping2D(((1, 0), (2, 2)))(np.ones((1, 5, 6, 3))).shape
    (1, 4, 2, 3)
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Cut slices from the borders of volumes ``(batch, depth, height, width, channels)``.

    Parameters
    ----------
    cropping : int, 3 ints or 3 pairs of ints, default ((1, 1), (1, 1), (1, 1))
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Cropping3D
    >>> Cropping3D()(np.ones((1, 4, 4, 4, 2))).shape
    (1, 2, 2, 2, 2)
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
