"""Adaptive pooling layers (Keras 3's, PyTorch's): a fixed output size whatever the input's,
each spatial axis split into ``output_size`` nearly equal windows (channels-last)."""

from __future__ import annotations

from profond import ops
from profond.layers.base import Layer
from profond.layers.conv import INPUT_LAYOUTS, check_data_format
from profond.ops.conv import normalize_tuple

__all__ = ["AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
           "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D"]


class _AdaptivePooling(Layer):
    """Shared code of the adaptive pooling layers."""

    rank = 2
    kind = "avg"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.output_size = normalize_tuple(output_size, self.rank, "output_size", owner)
        self.data_format = check_data_format(data_format, owner)

    def _check(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             f"rank {self.rank + 2} {INPUT_LAYOUTS[self.rank]}. Got input "
                             f"shape {tuple(input_shape)}.")

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def call(self, inputs):
        self._check(tuple(inputs.shape))
        fn = ops.adaptive_average_pool if self.kind == "avg" else ops.adaptive_max_pool
        return fn(inputs, self.output_size)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + self.output_size + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "output_size": list(self.output_size),
                "data_format": self.data_format}


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Mean over ``output_size`` adaptive windows of channels-last images.

    Window ``i`` of an axis of length ``L`` covers ``[floor(i L / out), ceil((i + 1) L / out))``
    (see :func:`profond.ops.adaptive_average_pool`).

    Parameters
    ----------
    output_size : int or (int, int)
        The output's height and width.
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AdaptiveAveragePooling2D
    >>> AdaptiveAveragePooling2D((2, 3))(np.ones((4, 9, 7, 5))).shape
    (4, 2, 3, 5)
    """

    rank, kind = 2, "avg"


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Maximum over ``output_size`` adaptive windows of channels-last images (arguments as
    :class:`AdaptiveAveragePooling2D`).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AdaptiveMaxPooling2D
    >>> AdaptiveMaxPooling2D(4)(np.ones((1, 10, 10, 2))).shape
    (1, 4, 4, 2)
    """

    rank, kind = 2, "max"


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Mean over ``output_size`` adaptive windows of channels-last sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AdaptiveAveragePooling1D
    >>> AdaptiveAveragePooling1D(3)(np.ones((2, 10, 4))).shape
    (2, 3, 4)
    """

    rank, kind = 1, "avg"


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Maximum over ``output_size`` adaptive windows of channels-last sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AdaptiveMaxPooling1D
    >>> AdaptiveMaxPooling1D(3)(np.ones((2, 10, 4))).shape
    (2, 3, 4)
    """

    rank, kind = 1, "max"


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Mean over ``output_size`` adaptive windows of channels-last volumes.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AdaptiveAveragePooling3D
    >>> AdaptiveAveragePooling3D(2)(np.ones((1, 5, 6, 7, 3))).shape
    (1, 2, 2, 2, 3)
    """

    rank, kind = 3, "avg"


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Maximum over ``output_size`` adaptive windows of channels-last volumes.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AdaptiveMaxPooling3D
    >>> AdaptiveMaxPooling3D((1, 2, 3))(np.ones((1, 5, 6, 7, 3))).shape
    (1, 1, 2, 3, 3)
    """

    rank, kind = 3, "max"
