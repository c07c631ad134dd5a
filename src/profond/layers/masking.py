"""``Masking``: mark the time steps whose features all equal a padding value."""

from __future__ import annotations

from profond import ops
from profond._validation import check_float
from profond.layers.base import Layer

__all__ = ["Masking"]


class Masking(Layer):
    """Skip padded time steps: a step whose features all equal ``mask_value`` is masked.

    The output equals the input with masked steps set to zero, and carries a mask of shape
    ``(batch, time)`` that the following layers honour (recurrent layers carry their states
    over masked steps; losses on sequence outputs leave them out).

    Parameters
    ----------
    mask_value : float, default 0.0

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Masking
    >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
    >>> from profond.layers.masks import get_mask
    >>> get_mask(Masking(0.0)(x))
    array([[ True, False,  True]])
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = check_float(mask_value, "mask_value", "Masking")
        self.supports_masking = True

    def _keep(self, inputs):
        if inputs.ndim < 2:
            raise ValueError(f"Input of layer '{self.name}' (Masking) must have shape (batch, "
                             f"time, ...). Got shape {tuple(inputs.shape)} instead.")
        return inputs.xp.any(inputs.data != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = self._keep(inputs)
        return ops.mul(inputs, keep[..., None].astype(inputs.dtype))

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
