"""Merge layers: several tensors in, one out (Keras 3's names, arguments and functional forms).

They join the branches of a functional model: a skip connection is ``add([x, f(x)])``, two
feature sets side by side ``concatenate([a, b])``. The elementwise ones (``Add``, ``Subtract``,
``Multiply``, ``Average``, ``Maximum``, ``Minimum``) take inputs of one rank whose shapes
broadcast (an axis of size 1 stretches); ``Concatenate`` joins along an axis, the other axes
equal; ``Dot`` takes the dot product of two samples along the given axes, as Keras's
``batch_dot``. Masks (of sequences) are combined: a step is kept where every input keeps it,
except along a concatenated time axis, where the masks are joined.

Examples
--------
>>> import numpy as np
>>> from profond import layers
>>> a, b = np.ones((2, 3)), np.full((2, 3), 2.0)
>>> layers.add([a, b]).numpy()
array([[3., 3., 3.],
       [3., 3., 3.]], dtype=float32)
>>> layers.Concatenate()([a, b]).shape
(2, 6)
>>> layers.Dot(axes=1)([a, b]).numpy()
array([[6.],
       [6.]], dtype=float32)
"""

from __future__ import annotations

from profond import ops
from profond.layers.base import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]


def _show(shape):
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _shape_list(layer, input_shape, exactly=None):
    """The inputs' shapes as a list, checked to be a list of at least two (or ``exactly``)."""
    if not isinstance(input_shape, (list, tuple)) or not input_shape or \
            not all(isinstance(s, (list, tuple)) for s in input_shape):
        raise ValueError(f"The 'inputs' parameter of {type(layer).__name__} (layer "
                         f"'{layer.name}') must be a list of tensors. Got one input of shape "
                         f"{input_shape} instead.")
    shapes = [tuple(s) for s in input_shape]
    if exactly is not None and len(shapes) != exactly:
        raise ValueError(f"The 'inputs' parameter of {type(layer).__name__} (layer "
                         f"'{layer.name}') must be a list of exactly {exactly} tensors. Got "
                         f"{len(shapes)} instead.")
    if exactly is None and len(shapes) < 2:
        raise ValueError(f"The 'inputs' parameter of {type(layer).__name__} (layer "
                         f"'{layer.name}') must be a list of at least 2 tensors. Got "
                         f"{len(shapes)} instead.")
    return shapes


class _Merge(Layer):
    """Base of the elementwise merge layers: checks that the shapes broadcast together."""

    _exactly = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        shapes = _shape_list(self, input_shape, self._exactly)
        self._output_shape_of(shapes)
        self.built = True

    def _output_shape_of(self, shapes):
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"The 'inputs' parameter of {type(self).__name__} (layer "
                             f"'{self.name}') must be tensors of one rank. Got shapes "
                             f"{', '.join(_show(s) for s in shapes)} instead.")
        out = []
        for dims in zip(*shapes):
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(f"The 'inputs' parameter of {type(self).__name__} (layer "
                                 f"'{self.name}') must be tensors of shapes that broadcast "
                                 "together. Got shapes "
                                 f"{', '.join(_show(s) for s in shapes)} instead.")
            out.append(known.pop() if known else (None if None in dims else 1))
        return tuple(out)

    def compute_output_shape(self, input_shape):
        return self._output_shape_of(_shape_list(self, input_shape, self._exactly))

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"The 'inputs' parameter of {type(self).__name__} (layer "
                             f"'{self.name}') must be a list of tensors. Got a "
                             f"{type(inputs).__name__} instead.")
        return self._merge(list(inputs))

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)):
            return None
        kept = [m for m in mask if m is not None]
        if not kept:
            return None
        out = kept[0]
        for m in kept[1:]:
            out = out & m
        return out

    def _merge(self, inputs):  # pragma: no cover - abstract
        raise NotImplementedError


class Add(_Merge):
    """The sum of its inputs, elementwise: ``Add()([x, y])`` is ``x + y``."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """The difference of its two inputs, elementwise: ``Subtract()([x, y])`` is ``x - y``."""

    _exactly = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """The product of its inputs, elementwise."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """The mean of its inputs, elementwise."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out * (1.0 / len(inputs))


class Maximum(_Merge):
    """The largest of its inputs, elementwise."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.maximum(out, x)
        return out


class Minimum(_Merge):
    """The smallest of its inputs, elementwise."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.minimum(out, x)
        return out


class Concatenate(Layer):
    """Its inputs joined along ``axis``; the other axes must be equal.

    Parameters
    ----------
    axis : int, default -1
        The axis to join along (not the batch axis).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"The 'axis' parameter of Concatenate must be an int. Got "
                             f"{axis!r} instead.")
        self.axis = axis
        self.supports_masking = True

    def _axis(self, rank):
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or axis == 0:
            raise ValueError(f"The 'axis' parameter of Concatenate (layer '{self.name}') must "
                             f"be an axis of the inputs other than the batch axis (rank "
                             f"{rank}). Got {self.axis} instead.")
        return axis

    def compute_output_shape(self, input_shape):
        shapes = _shape_list(self, input_shape)
        rank = len(shapes[0])
        axis = self._axis(rank)
        bad = any(len(s) != rank for s in shapes) or any(
            len({d for d in dims if d is not None}) > 1
            for i, dims in enumerate(zip(*shapes)) if i not in (0, axis))
        if bad:
            raise ValueError(f"The 'inputs' parameter of Concatenate (layer '{self.name}') must "
                             f"be tensors of equal shapes except on axis {self.axis}. Got shapes "
                             f"{', '.join(_show(s) for s in shapes)} instead.")
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self._axis(inputs[0].ndim))

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or \
                all(m is None for m in mask):
            return None
        import numpy as np

        full = [np.ones(tuple(x.shape[:2]), dtype=bool) if m is None else m
                for x, m in zip(inputs, mask)]
        if self._axis(inputs[0].ndim) == 1:  # joined along time: so are the masks
            return np.concatenate(full, axis=1)
        out = full[0]
        for m in full[1:]:
            out = out & m
        return out

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Layer):
    """The dot product of two inputs, sample by sample, along ``axes`` (Keras's ``batch_dot``).

    Parameters
    ----------
    axes : int or tuple of two ints
        The axis (of both inputs, or one of each) summed over; not the batch axis.
    normalize : bool, default False
        Scale both inputs to unit L2 norm along ``axes`` first: the output is then the cosine
        similarity.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import layers
    >>> x = np.arange(6.0).reshape(1, 2, 3)
    >>> layers.Dot(axes=(2, 2))([x, x]).shape
    (1, 2, 2)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(axes, int) and not isinstance(axes, bool) or \
            isinstance(axes, (list, tuple)) and len(axes) == 2 and \
            all(isinstance(a, int) and not isinstance(a, bool) for a in axes)
        if not ok:
            raise ValueError("The 'axes' parameter of Dot must be an int or a tuple of two "
                             f"ints. Got {axes!r} instead.")
        self.axes = list(axes) if isinstance(axes, (list, tuple)) else axes
        self.normalize = bool(normalize)

    def _axes(self, shapes):
        axes = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        out = []
        for a, shape in zip(axes, shapes):
            rank = len(shape)
            if not -rank <= a < rank or a % rank == 0:
                raise ValueError(f"The 'axes' parameter of Dot (layer '{self.name}') must name "
                                 f"axes of the inputs other than the batch axis. Got {self.axes} "
                                 f"for inputs of shapes {', '.join(_show(s) for s in shapes)} "
                                 "instead.")
            out.append(a % rank)
        return out

    def compute_output_shape(self, input_shape):
        shapes = _shape_list(self, input_shape, exactly=2)
        a1, a2 = self._axes(shapes)
        n1, n2 = shapes[0][a1], shapes[1][a2]
        if n1 is not None and n2 is not None and n1 != n2:
            raise ValueError(f"The 'inputs' parameter of Dot (layer '{self.name}') must have "
                             f"equal sizes on the axes {self.axes}. Got shapes "
                             f"{', '.join(_show(s) for s in shapes)} instead.")
        rest = [d for i, d in enumerate(shapes[0]) if i not in (0, a1)] + \
            [d for i, d in enumerate(shapes[1]) if i not in (0, a2)]
        return (shapes[0][0],) + (tuple(rest) if rest else (1,))

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs):
        x, y = inputs
        a1, a2 = self._axes([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        # (batch, rest of x, k) @ (batch, k, rest of y): one batched GEMM
        rest1 = [d for i, d in enumerate(x.shape) if i not in (0, a1)]
        rest2 = [d for i, d in enumerate(y.shape) if i not in (0, a2)]
        batch, k = x.shape[0], x.shape[a1]
        xm = ops.reshape(ops.transpose(x, *([0] + [i for i in range(1, x.ndim) if i != a1]
                                            + [a1])), (batch, -1, k))
        ym = ops.reshape(ops.transpose(y, *([0, a2] + [i for i in range(1, y.ndim) if i != a2])),
                         (batch, k, -1))
        out = ops.matmul(xm, ym)
        return ops.reshape(out, (batch,) + tuple(rest1 + rest2 or [1]))

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x, axis, epsilon=1e-12):
    """``x / max(||x||, sqrt(epsilon))`` along ``axis``, as Keras's ``l2_normalize``."""
    squares = ops.sum(x * x, axis=axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(squares, epsilon))


def _functional(cls, doc_name):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    merge.__name__ = doc_name
    merge.__qualname__ = doc_name
    merge.__doc__ = (f"``{cls.__name__}(**kwargs)(inputs)``: the functional form of "
                     f":class:`{cls.__name__}`.")
    return merge


add = _functional(Add, "add")
subtract = _functional(Subtract, "subtract")
multiply = _functional(Multiply, "multiply")
average = _functional(Average, "average")
maximum = _functional(Maximum, "maximum")
minimum = _functional(Minimum, "minimum")


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``: the functional form of
    :class:`Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """``Dot(axes, normalize, **kwargs)(inputs)``: the functional form of :class:`Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
