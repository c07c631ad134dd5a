"""The dtype attributes every layer has (Keras 3's): its dtype policy, the dtype of its weights
(``dtype``, ``variable_dtype``) and of its computations (``compute_dtype``), and the casts of
its inputs to the latter (Keras's autocast), written once for all layers in this mixin of
:class:`~profond.layers.Layer`.

A layer given a ``dtype`` creates its weights in it and casts every floating tensor among its
arguments to it before ``call``, so it computes and returns that dtype whatever it is given;
integer tensors (an ``Embedding``'s indices) are left alone. A layer given none follows the
default float dtype (:func:`profond.config.floatx`) when it creates its weights and casts
nothing, as before dtype policies (its gradient checks build it in ``floatx_scope("float64")``
and call it with float64 data). A model casts nothing itself: each of its layers casts its own
inputs, so a float64 layer inside a float32 model computes in float64.
"""

from __future__ import annotations

import numpy as np

from profond import backend, dtype_policies
from profond._structure import map_structure
from profond.autograd.elementwise import cast
from profond.autograd.tensor import Tensor

__all__ = ["DTypeAttributes"]


class DTypeAttributes:
    """Keras's ``dtype_policy``, ``dtype``, ``compute_dtype``, ``variable_dtype``, and the
    casts of the inputs, for :class:`~profond.layers.Layer`."""

    # Whether __call__ casts floating inputs to the compute dtype (Keras's autocast). A model
    # leaves it to each of its layers, so that a float64 layer inside sees float64 data.
    _autocast = True

    def _init_dtype(self, dtype) -> None:
        """Resolve the constructor's ``dtype`` (None: follow floatx(), cast nothing)."""
        self._dtype_policy = None if dtype is None else dtype_policies.get(
            dtype, "dtype", type(self).__name__)

    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's :class:`~profond.dtype_policies.DTypePolicy` (Keras's attribute).

        Examples
        --------
        >>> from profond import layers
        >>> dense = layers.Dense(2, dtype="float64")
        >>> dense.dtype_policy, dense.dtype, dense.compute_dtype, dense.variable_dtype
        (<DTypePolicy "float64">, 'float64', 'float64', 'float64')
        """
        return self._dtype_policy or dtype_policies.DTypePolicy(backend.floatx())

    @dtype_policy.setter
    def dtype_policy(self, value):
        self._dtype_policy = dtype_policies.get(value, "dtype_policy", type(self).__name__)

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations and outputs; floating inputs are cast to it."""
        policy = self._dtype_policy
        return backend.floatx() if policy is None else policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the weights the layer creates."""
        policy = self._dtype_policy
        return backend.floatx() if policy is None else policy.variable_dtype

    dtype = variable_dtype  # Keras: ``layer.dtype`` is the weights' dtype
    input_dtype = compute_dtype

    def _as_tensor(self, x):
        """Data given to the layer as a Tensor: floating data straight to an explicit compute
        dtype (a float64 layer sees float64 data unrounded), else as ``Tensor`` converts it."""
        if isinstance(x, Tensor):
            return x
        if self._dtype_policy is not None and self._autocast:
            kind = getattr(getattr(x, "dtype", None), "kind", None)
            if kind == "f" or (kind is None and isinstance(x, float)):
                return Tensor(x, dtype=self.compute_dtype)
        return Tensor(x)

    def _cast_inputs(self, inputs, args, kwargs):
        """Floating tensors among the arguments, cast to the compute dtype (Keras's autocast)."""
        compute = np.dtype(self.compute_dtype)

        def to_compute(x):
            if isinstance(x, Tensor) and x.data.dtype.kind == "f" and x.data.dtype != compute:
                return cast(x, compute)
            return x

        inputs = to_compute(inputs) if isinstance(inputs, Tensor) else \
            map_structure(to_compute, inputs)
        if args:
            args = tuple(map_structure(to_compute, a) for a in args)
        if kwargs:
            kwargs = {k: map_structure(to_compute, v) for k, v in kwargs.items()}
        return inputs, args, kwargs
