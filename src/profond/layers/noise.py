"""Noise layers, active in training only: ``GaussianNoise`` (additive), ``GaussianDropout``
(multiplicative, centred on 1) and ``AlphaDropout`` (dropout that keeps SELU's
self-normalising mean and variance). Each draws from profond's seeded generator, or from a
private one when given a ``seed``, so a run is reproducible and a resumed run exact."""

from __future__ import annotations

import math

from profond import random as prandom
from profond._validation import check_float, check_int
from profond.layers.base import Layer

__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout"]


class _Noise(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_int(seed, "seed", type(self).__name__, low=0, allow_none=True)
        self._rng = prandom.generator(self.seed) if self.seed is not None else None
        self.supports_masking = True

    def _draw(self, kind, shape, inputs, **params):
        """An array of ``shape`` in the input's float dtype, on the input's device."""
        rng = prandom.generator(self._rng)
        dtype = inputs.dtype if inputs.dtype.kind == "f" else "float32"
        values = getattr(rng, kind)(size=shape, **params)
        return inputs.xp.asarray(values, dtype=dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class GaussianNoise(_Noise):
    """Add zero-centred Gaussian noise of standard deviation ``stddev`` in training (a form of
    data augmentation for real-valued inputs); the identity at inference.

    Parameters
    ----------
    stddev : float in [0, 1]
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GaussianNoise
    >>> layer = GaussianNoise(0.1, seed=0)
    >>> bool((layer(np.ones((2, 3))).numpy() == 1).all())  # inference: unchanged
    True
    >>> bool((layer(np.ones((2, 3)), training=True).numpy() != 1).all())
    True
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = check_float(stddev, "stddev", "GaussianNoise", low=0, high=1)

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        return inputs + self._draw("normal", inputs.shape, inputs, scale=self.stddev)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_Noise):
    """Multiply by Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))``
    in training (the variance of inverted dropout of the same ``rate``, without zeros).

    Parameters
    ----------
    rate : float in [0, 1)
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GaussianDropout
    >>> y = GaussianDropout(0.5, seed=0)(np.ones((1000, 10)), training=True).numpy()
    >>> round(float(y.mean()), 1), round(float(y.std()), 1)
    (1.0, 1.0)
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_float(rate, "rate", "GaussianDropout", low=0, high=1, high_open=True)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        std = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * self._draw("normal", inputs.shape, inputs, loc=1.0, scale=std)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_Noise):
    """Dropout for self-normalising networks (Klambauer et al., 2017): dropped inputs are set to
    SELU's negative saturation value ``-alpha * scale``, then an affine map ``a * x + b`` brings
    the mean and variance back to those of the input (zero mean, unit variance in), so a SELU
    network stays normalised in training.

    Parameters
    ----------
    rate : float in [0, 1)
    noise_shape : tuple, optional
        Shape of the keep mask, broadcast against the input (``None`` entries: the input's size).
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond import random
    >>> from profond.layers import AlphaDropout
    >>> x = random.generator(0).standard_normal((20000, 10))
    >>> y = AlphaDropout(0.2, seed=0)(x, training=True).numpy()
    >>> bool(abs(y.mean()) < 0.05), round(float(y.std()), 1)
    (True, 1.0)
    """

    _ALPHA = 1.6732632423543772848170429916717
    _SCALE = 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = check_float(rate, "rate", "AlphaDropout", low=0, high=1, high_open=True)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def _mask_shape(self, inputs):
        shape = tuple(inputs.shape)
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape) or any(
                d is not None and d not in (1, s) for d, s in zip(self.noise_shape, shape)):
            raise ValueError(f"The 'noise_shape' parameter of AlphaDropout (layer '{self.name}') "
                             f"must broadcast against the input of shape {shape} (one entry per "
                             f"axis, each None, 1 or the input's size). Got {self.noise_shape!r} "
                             "instead.")
        return tuple(s if d is None else d for d, s in zip(self.noise_shape, shape))

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        alpha_p = -self._ALPHA * self._SCALE
        keep = self._draw("random", self._mask_shape(inputs), inputs) >= self.rate
        keep = keep.astype(inputs.dtype if inputs.dtype.kind == "f" else "float32")
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        # a * (x * keep + alpha_p * (1 - keep)) + b, with the constant part computed once
        return inputs * (a * keep) + (a * alpha_p * (1 - keep) + b)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}
