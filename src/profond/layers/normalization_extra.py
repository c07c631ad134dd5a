"""Per-sample normalisation layers with Keras 3's names, arguments, weights and configs:
``LayerNormalization``, ``RMSNormalization``, ``UnitNormalization`` and ``GroupNormalization``.

Unlike ``BatchNormalization`` they keep no statistics: every sample is normalised with its own,
the same in training and inference. Each runs a fused op of :mod:`profond.ops.layer_norm`.
"""

from __future__ import annotations

import numbers
import warnings

from profond import ops
from profond._validation import check_float
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_weight_arguments,
    weight_arguments_config,
)
from profond.layers.base import Layer

__all__ = ["GroupNormalization", "LayerNormalization", "RMSNormalization", "UnitNormalization"]


def _check_axis(axis, owner):
    """An int, or a list of ints (as Keras stores a tuple)."""
    def is_int(a):
        return isinstance(a, numbers.Integral) and not isinstance(a, bool)

    if is_int(axis):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(is_int(a) for a in axis):
        return [int(a) for a in axis]
    raise ValueError(f"The 'axis' parameter of {owner} must be an int or a non-empty list or "
                     f"tuple of ints. Got {axis!r} instead.")


class _PerSample(Layer):
    """Normalises over ``self.axis`` and keeps its input's shape and mask."""

    def __init__(self, axis, **kwargs):
        super().__init__(**kwargs)
        self.axis = _check_axis(axis, type(self).__name__)
        self.supports_masking = True

    def _axes(self, input_shape):
        """``self.axis`` as sorted non-negative ints, checked against ``input_shape``."""
        rank = len(input_shape)
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(not -rank <= a < rank for a in given) or \
                len({a % rank for a in given}) != len(given):
            raise ValueError(f"The 'axis' parameter of layer '{self.name}' "
                             f"({type(self).__name__}) must name distinct axes of its inputs. "
                             f"Got axis {self.axis!r} for inputs of shape {tuple(input_shape)} "
                             "instead.")
        return tuple(sorted(a % rank for a in given))

    def _weight_shape(self, input_shape):
        shape = tuple(input_shape[a] for a in self._axes(input_shape))
        if any(s is None for s in shape):
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have a "
                             f"known size on axis {self.axis!r}. Got input shape "
                             f"{tuple(input_shape)} instead.")
        return tuple(int(s) for s in shape)

    def compute_output_shape(self, input_shape):
        self._axes(input_shape)
        return tuple(input_shape)


class LayerNormalization(_PerSample):
    """Normalise each sample over ``axis`` to zero mean and unit variance (Ba et al., 2016),
    then scale by ``gamma`` and shift by ``beta``::

        out = gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta

    Weights in Keras order: ``[gamma, beta]``, each of the normalised axes' shape
    (``input_shape[a] for a in sorted(axis)``).

    Parameters
    ----------
    axis : int or list of int, default -1
        The axes normalised over; the statistics are per position on the others.
    epsilon : float > 0, default 1e-3
    center, scale : bool, default True
        Learn ``beta`` and ``gamma`` (without them, 0 and 1).
    beta_initializer, gamma_initializer : default "zeros", "ones"
    beta_regularizer, gamma_regularizer : str or Regularizer, optional
    beta_constraint, gamma_constraint : str, dict, Constraint or callable, optional
    rms_scaling : bool, default False
        Keras's deprecated variant (it warns): ``x / sqrt(var(x) + epsilon) * gamma``, not
        centred and without ``beta``. :class:`RMSNormalization` is the true RMS normalisation.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import LayerNormalization
    >>> LayerNormalization(epsilon=1e-9)(np.array([[1.0, 3.0], [10.0, 30.0]])).numpy()
    array([[-1.,  1.],
           [-1.,  1.]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, rms_scaling=False, **kwargs):
        super().__init__(axis, **kwargs)
        owner = "LayerNormalization"
        self.epsilon = check_float(epsilon, "epsilon", owner, low=0, low_open=True)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        if self.rms_scaling:
            warnings.warn("LayerNormalization(rms_scaling=True) is deprecated, as in Keras: it "
                          "divides by the standard deviation, not the root mean square. Use "
                          "RMSNormalization for RMS normalisation.", UserWarning, stacklevel=2)
        store_weight_arguments(
            self, beta=(beta_initializer, beta_regularizer, beta_constraint),
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))

    def build(self, input_shape):
        shape = self._weight_shape(input_shape)
        self.gamma = add_configured_weight(self, "gamma", shape) \
            if self.scale or self.rms_scaling else None
        self.beta = add_configured_weight(self, "beta", shape) \
            if self.center and not self.rms_scaling else None
        self.built = True

    def call(self, inputs):
        return ops.layer_norm(inputs, self.gamma, self.beta, self._axes(inputs.shape),
                              self.epsilon, rms_scaling=self.rms_scaling)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                **weight_arguments_config(self)}


class RMSNormalization(_PerSample):
    """Divide each sample by its root mean square over ``axis`` (Zhang & Sennrich, 2019), then
    scale by the learned ``scale``::

        out = x / sqrt(mean(x ** 2) + epsilon) * scale

    Weights: ``[scale]``, of the normalised axes' shape, initialised to ones.

    Parameters
    ----------
    axis : int or list of int, default -1
    epsilon : float > 0, default 1e-6

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RMSNormalization
    >>> RMSNormalization(epsilon=1e-9)(np.array([[3.0, 4.0, 0.0, 0.0]])).numpy()
    array([[1.2, 1.6, 0. , 0. ]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(axis, **kwargs)
        self.epsilon = check_float(epsilon, "epsilon", "RMSNormalization", low=0, low_open=True)

    def build(self, input_shape):
        self.scale = self.add_weight(self._weight_shape(input_shape), "ones", name="scale")
        self.built = True

    def call(self, inputs):
        return ops.rms_norm(inputs, self.scale, self._axes(inputs.shape), self.epsilon)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class UnitNormalization(_PerSample):
    """Scale each sample to unit L2 norm over ``axis``: ``x / max(||x||, 1e-12)``.

    No weights; a zero slice stays zero.

    Parameters
    ----------
    axis : int or list of int, default -1

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import UnitNormalization
    >>> UnitNormalization()(np.array([[3.0, 4.0], [0.0, 0.0]])).numpy()
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(axis, **kwargs)
        self.built = True  # no weights: built from the start, as in Keras

    def call(self, inputs):
        return ops.l2_normalize(inputs, self._axes(inputs.shape), 1e-12)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class GroupNormalization(Layer):
    """Split the channels into ``groups`` and normalise each sample's group over its channels
    and every other non-batch axis (Wu & He, 2018); then ``gamma``, ``beta`` per channel.

    ``groups=1`` is layer normalisation over all the non-batch axes; ``groups=-1`` (one group
    per channel) is instance normalisation. Weights in Keras order: ``[gamma, beta]``, each of
    shape ``(channels,)``.

    Parameters
    ----------
    groups : int, default 32
        Divides the number of channels; -1: as many as the channels.
    axis : int, default -1
        The channel axis (not the batch axis 0).
    epsilon : float > 0, default 1e-3
    center, scale : bool, default True
    beta_initializer, gamma_initializer : default "zeros", "ones"
    beta_regularizer, gamma_regularizer : str or Regularizer, optional
    beta_constraint, gamma_constraint : str, dict, Constraint or callable, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GroupNormalization
    >>> GroupNormalization(groups=2, epsilon=1e-9)(np.array([[1.0, 3.0, 10.0, 30.0]])).numpy()
    array([[-1.,  1., -1.,  1.]], dtype=float32)
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = "GroupNormalization"
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or \
                (groups < 1 and groups != -1):
            raise ValueError(f"The 'groups' parameter of {owner} must be a positive int, or -1 "
                             f"for one group per channel. Got {groups!r} instead.")
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"The 'axis' parameter of {owner} must be an int. Got {axis!r} "
                             "instead.")
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = check_float(epsilon, "epsilon", owner, low=0, low_open=True)
        self.center = bool(center)
        self.scale = bool(scale)
        store_weight_arguments(
            self, beta=(beta_initializer, beta_regularizer, beta_constraint),
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))
        self.supports_masking = True

    def _channels(self, input_shape):
        """The channel axis (non-negative) and the number of groups, checked."""
        rank = len(input_shape)
        if rank < 2 or not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"The 'axis' parameter of layer '{self.name}' (GroupNormalization) "
                             f"must name a non-batch axis of its inputs. Got axis {self.axis} "
                             f"for inputs of shape {tuple(input_shape)} instead.")
        axis = self.axis % rank
        size = input_shape[axis]
        if size is None:
            raise ValueError(f"Input of layer '{self.name}' (GroupNormalization) must have a "
                             f"known size on axis {self.axis}. Got input shape "
                             f"{tuple(input_shape)} instead.")
        groups = int(size) if self.groups == -1 else self.groups
        if size % groups:
            raise ValueError(f"The 'groups' parameter of layer '{self.name}' "
                             f"(GroupNormalization) must divide the {size} channels on axis "
                             f"{self.axis}. Got {self.groups} instead.")
        return axis, int(size), groups

    def build(self, input_shape):
        _, size, _ = self._channels(input_shape)
        self.gamma = add_configured_weight(self, "gamma", (size,)) if self.scale else None
        self.beta = add_configured_weight(self, "beta", (size,)) if self.center else None
        self.built = True

    def call(self, inputs):
        axis, _, groups = self._channels(tuple(inputs.shape))
        return ops.group_norm(inputs, groups, self.gamma, self.beta, axis, self.epsilon)

    def compute_output_shape(self, input_shape):
        self._channels(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **weight_arguments_config(self)}
