"""Dropout layers (``Dropout``, ``SpatialDropout1D/2D/3D``) and ``ActivityRegularization``."""

from __future__ import annotations

from profond import ops, regularizers
from profond import random as prandom
from profond._validation import check_float, check_int
from profond.layers.base import Layer
from profond.layers.conv import check_data_format

__all__ = ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
           "ActivityRegularization"]


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014): during training, zero each input with
    probability ``rate`` and scale the others by ``1 / (1 - rate)``; at inference, the identity.

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of the inputs to drop.
    noise_shape : tuple, optional
        Shape of the mask, broadcast against the input; ``None`` entries take the input's size
        (``(None, 1, None)`` shares a mask over the time axis).
    seed : int, optional
        Makes this layer's masks reproducible on its own (a private generator seeded once);
        by default the masks come from profond's global generator (``profond.random.seed``).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Dropout
    >>> layer = Dropout(0.5, seed=0)
    >>> x = np.ones((2, 4))
    >>> layer(x, training=False).numpy()
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]], dtype=float32)
    >>> sorted(set(layer(x, training=True).numpy().ravel().tolist()))
    [0.0, 2.0]
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.rate = check_float(rate, "rate", owner, low=0, high=1, high_open=True)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = check_int(seed, "seed", owner, low=0, allow_none=True)
        self._rng = prandom.generator(self.seed) if self.seed is not None else None
        self.supports_masking = True

    def _noise_shape(self, inputs):
        return self.noise_shape

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        return ops.dropout(inputs, self.rate, self._noise_shape(inputs), seed=self._rng)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = {**super().get_config(), "rate": self.rate, "seed": self.seed}
        if type(self) is Dropout:
            config["noise_shape"] = None if self.noise_shape is None else list(self.noise_shape)
        return config


class SpatialDropout1D(Dropout):
    """Dropout of whole channels of a sequence: one draw per (sample, channel), shared by all
    the steps (Tompson et al., 2015). Adjacent steps are strongly correlated, so dropping single
    elements barely regularises; dropping whole feature maps does.

    Parameters
    ----------
    rate : float in [0, 1)
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import SpatialDropout1D
    >>> y = SpatialDropout1D(0.5, seed=1)(np.ones((1, 6, 3)), training=True).numpy()
    >>> bool((y == y[:, :1]).all())  # each channel is kept or dropped at every step
    True
    """

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def _noise_shape(self, inputs):
        if inputs.ndim != self.rank + 2:
            layout = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
                      3: "(batch, depth, height, width, channels)"}[self.rank]
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             f"rank {self.rank + 2} {layout}. Got input shape "
                             f"{tuple(inputs.shape)}.")
        return (inputs.shape[0],) + (1,) * self.rank + (inputs.shape[-1],)

    def get_config(self):
        # Keras's spatial dropouts take no 'trainable' (nothing to train): a config with it
        # would not load there.
        config = super().get_config()
        config.pop("trainable", None)
        return config


class SpatialDropout2D(SpatialDropout1D):
    """Dropout of whole feature maps of an image: one draw per (sample, channel).

    Parameters
    ----------
    rate : float in [0, 1)
    data_format : None or "channels_last"
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import SpatialDropout2D
    >>> y = SpatialDropout2D(0.5, seed=1)(np.ones((1, 4, 4, 3)), training=True).numpy()
    >>> bool((y == y[:, :1, :1]).all())
    True
    """

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout3D(SpatialDropout2D):
    """Dropout of whole feature volumes: one draw per (sample, channel) of
    ``(batch, depth, height, width, channels)``.

    Parameters
    ----------
    rate : float in [0, 1)
    data_format : None or "channels_last"
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import SpatialDropout3D
    >>> y = SpatialDropout3D(0.5, seed=1)(np.ones((1, 2, 3, 3, 4)), training=True).numpy()
    >>> bool((y == y[:, :1, :1, :1]).all())
    True
    """

    rank = 3


class ActivityRegularization(Layer):
    """The identity, adding ``l1 * sum(|x|) + l2 * sum(x**2)`` of its input (divided by the
    batch size, as for every activity regularizer) to the training loss.

    Parameters
    ----------
    l1 : float, default 0.0
    l2 : float, default 0.0

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ActivityRegularization
    >>> layer = ActivityRegularization(l2=0.5)
    >>> layer(np.array([[1.0, 2.0], [3.0, 0.0]])).shape
    (2, 2)
    >>> float(layer.losses[0].numpy())  # 0.5 * (1 + 4 + 9) / 2 samples
    3.5
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l1 = check_float(l1, "l1", "ActivityRegularization", low=0)
        self.l2 = check_float(l2, "l2", "ActivityRegularization", low=0)
        self.activity_regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
