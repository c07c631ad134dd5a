"""Image augmentation layers: ``RandomFlip``, ``RandomCrop``, ``RandomContrast``,
``RandomTranslation``, ``RandomRotation``, ``RandomZoom`` (Keras 3's arguments and
transformations, channels-last).

They change images only in training. As in Keras, a direct call ``layer(images)`` counts as
training (``training=False`` turns them off; ``fit`` turns them on and ``predict``/
``evaluate`` off). Their random draws come from profond's generator, or from a private one
seeded by ``seed``, so ``profond.random.seed`` reproduces a run and a resumed run stays exact.

The geometric ones resample each image through an affine map from output to input pixels
(Keras's 8-number transform) with SciPy's ``map_coordinates`` (bilinear or nearest; the
fill modes of Keras: reflect, wrap, nearest, constant). They transform data, before any
weight: their output carries no gradient.
"""

from __future__ import annotations

import math

import numpy as np

from profond import backend, ops
from profond import random as prandom
from profond._validation import check_choice, check_float, check_int, require
from profond.autograd.tensor import Tensor
from profond.layers.base import Layer
from profond.layers.conv import check_data_format
from profond.layers.image_preprocessing import Resizing

__all__ = ["RandomFlip", "RandomCrop", "RandomContrast", "RandomTranslation",
           "RandomRotation", "RandomZoom", "affine_transform"]

# Keras's fill modes as SciPy names them (Keras interpolates towards the fill value across the
# border: SciPy's "grid-" variants)
_SCIPY_MODES = {"reflect": "reflect", "wrap": "grid-wrap", "nearest": "nearest",
                "constant": "grid-constant"}


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="reflect",
                     fill_value=0.0):
    """Resample ``images (n, h, w, c)``: output pixel ``(x, y)`` takes the input at
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``, with
    ``transforms (n, 8) = [a0, a1, a2, b0, b1, b2, c0, c1]`` (Keras's convention).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> shift = np.array([[1, 0, 1, 0, 1, 0, 0, 0]], dtype=float)  # x' = x + 1
    >>> affine_transform(img, shift, fill_mode="constant")[0, :, :, 0]
    array([[1., 2., 0.],
           [4., 5., 0.],
           [7., 8., 0.]])
    """
    ndimage = require("scipy.ndimage", "Geometric image augmentation", "data", "scipy")
    images = np.asarray(images)
    n, h, w, c = images.shape
    ys, xs = np.meshgrid(np.arange(h, dtype="float64"), np.arange(w, dtype="float64"),
                         indexing="ij")
    order = 1 if interpolation == "bilinear" else 0
    out = np.empty_like(images)
    for i in range(n):
        a0, a1, a2, b0, b1, b2, c0, c1 = np.asarray(transforms[i], dtype="float64")
        k = c0 * xs + c1 * ys + 1.0
        src_x, src_y = (a0 * xs + a1 * ys + a2) / k, (b0 * xs + b1 * ys + b2) / k
        for ch in range(c):
            out[i, :, :, ch] = ndimage.map_coordinates(
                images[i, :, :, ch], [src_y, src_x], order=order,
                mode=_SCIPY_MODES[fill_mode], cval=fill_value)
    return out


def _factor_pair(factor, argument, owner, low=-1.0, high=1.0):
    """``factor`` as ``(lower, upper)``: one number ``f`` means ``(-f, f)``."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        pair = (-abs(float(factor)), abs(float(factor)))
    else:
        try:
            pair = tuple(float(f) for f in factor)
        except (TypeError, ValueError):
            pair = ()
    if len(pair) != 2 or pair[0] > pair[1] or pair[0] < low or pair[1] > high:
        raise ValueError(f"The '{argument}' parameter of {owner} must be a number or a pair "
                         f"(lower, upper) with {low} <= lower <= upper <= {high}. Got "
                         f"{factor!r} instead.")
    return pair


class _Augmentation(Layer):
    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.seed = check_int(seed, "seed", owner, low=0, allow_none=True)
        self._rng = prandom.generator(self.seed) if self.seed is not None else None
        self.data_format = check_data_format(data_format, owner)

    def _draw(self, low, high, size):
        return prandom.generator(self._rng).uniform(low, high, size=size)

    def _images(self, inputs):
        shape = tuple(inputs.shape)
        if len(shape) not in (3, 4):
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             "rank 4 (batch, height, width, channels) or 3 (height, width, "
                             f"channels). Got input shape {shape}.")
        x = inputs if inputs.dtype.kind == "f" else ops.cast(inputs, backend.floatx())
        return (ops.expand_dims(x, 0), True) if len(shape) == 3 else (x, False)

    def call(self, inputs, training=True):
        x, single = self._images(inputs)
        if training is None or training:
            x = self._augment(x)
        return x[0] if single else x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "data_format": self.data_format}


class RandomFlip(_Augmentation):
    """Flip each image left-right and/or up-down with probability 1/2.

    Parameters
    ----------
    mode : {"horizontal", "vertical", "horizontal_and_vertical"}
    seed : int, optional
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RandomFlip
    >>> y = RandomFlip("horizontal", seed=0)(np.arange(4.0).reshape(1, 1, 4, 1)).numpy()
    >>> sorted(y.ravel().tolist()) == [0.0, 1.0, 2.0, 3.0]
    True
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.mode = check_choice(mode, "mode", "RandomFlip",
                                 ("horizontal", "vertical", "horizontal_and_vertical"))

    def _augment(self, x):
        n = x.shape[0]
        xp = x.xp
        for axis, on in ((2, "horizontal" in self.mode), (1, "vertical" in self.mode)):
            if on:
                flip = xp.asarray(self._draw(0.0, 1.0, n) <= 0.5).reshape(n, 1, 1, 1)
                x = ops.where(flip, x[(slice(None),) * axis + (slice(None, None, -1),)], x)
        return x

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomCrop(_Augmentation):
    """In training, cut a random ``(height, width)`` window (one place for the batch); at
    inference, cut the centred window of the target's aspect ratio and resize it.

    Parameters
    ----------
    height, width : int
    seed : int, optional
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RandomCrop
    >>> RandomCrop(3, 3, seed=0)(np.zeros((2, 8, 8, 1))).shape
    (2, 3, 3, 1)
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.height = check_int(height, "height", "RandomCrop", low=1)
        self.width = check_int(width, "width", "RandomCrop", low=1)

    def call(self, inputs, training=True):
        x, single = self._images(inputs)
        h, w = x.shape[1], x.shape[2]
        if (training is None or training) and h > self.height and w > self.width:
            top = int(self._draw(0.0, h - self.height + 1, None))
            left = int(self._draw(0.0, w - self.width + 1, None))
            x = x[:, top:top + self.height, left:left + self.width]
        else:
            x = Resizing(self.height, self.width, crop_to_aspect_ratio=True)(x)
        return x[0] if single else x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomContrast(_Augmentation):
    """Scale each image's deviation from its mean (per channel) by a random factor in
    ``[1 - lower, 1 + upper]``, then clip to ``value_range``.

    Parameters
    ----------
    factor : float or (float, float)
        ``f`` means ``(f, f)``: factors in ``[1 - f, 1 + f]``.
    value_range : (float, float), default (0, 255)
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RandomContrast
    >>> x = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3))
    >>> y = RandomContrast(0.5, seed=0)(x).numpy()
    >>> bool(np.allclose(y.mean(axis=(1, 2)), x.mean(axis=(1, 2)), atol=30))
    True
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed, None, **kwargs)
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            factor = (float(factor), float(factor))
        lower, upper = _factor_pair(factor, "factor", "RandomContrast", low=0.0,
                                    high=math.inf)
        if lower > 1:
            raise ValueError("The 'factor' parameter of RandomContrast must have its lower "
                             f"bound in [0, 1]. Got {factor!r} instead.")
        self.factor = (lower, upper)
        self.value_range = tuple(float(v) for v in value_range)

    def _augment(self, x):
        n = x.shape[0]
        factors = x.xp.asarray(self._draw(1 - self.factor[0], 1 + self.factor[1], n),
                               dtype=x.dtype).reshape(n, 1, 1, 1)
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        return ops.clip((x - mean) * factors + mean, *self.value_range)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return {**config, "factor": list(self.factor), "value_range": list(self.value_range)}


class _Affine(_Augmentation):
    def __init__(self, fill_mode, interpolation, seed, fill_value, data_format, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        owner = type(self).__name__
        self.fill_mode = check_choice(fill_mode, "fill_mode", owner, tuple(_SCIPY_MODES))
        self.interpolation = check_choice(interpolation, "interpolation", owner,
                                          ("bilinear", "nearest"))
        self.fill_value = check_float(fill_value, "fill_value", owner)

    def _augment(self, x):
        n, h, w, _ = x.shape
        out = affine_transform(backend.to_numpy(x.data), self._transforms(n, h, w),
                               self.interpolation, self.fill_mode, self.fill_value)
        return Tensor(out, dtype=out.dtype)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomTranslation(_Affine):
    """Shift each image by a random fraction of its height and width.

    Parameters
    ----------
    height_factor, width_factor : float or (float, float)
        Fractions of the size in ``[-1, 1]``; ``f`` means ``(-f, f)``.
    fill_mode : {"reflect", "wrap", "nearest", "constant"}, default "reflect"
    interpolation : {"bilinear", "nearest"}, default "bilinear"
    seed : int, optional
    fill_value : float, default 0.0 (``fill_mode="constant"``)
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RandomTranslation
    >>> img = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> shifted = RandomTranslation(0.0, (0.25, 0.25), fill_mode="constant")(img)
    >>> shifted.numpy()[0, 0, :, 0]  # one column to the right
    array([0., 0., 1., 2.], dtype=float32)
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = _factor_pair(height_factor, "height_factor", "RandomTranslation")
        self.width_factor = _factor_pair(width_factor, "width_factor", "RandomTranslation")

    def _transforms(self, n, h, w):
        dy = self._draw(*self.height_factor, n) * h
        dx = self._draw(*self.width_factor, n) * w
        zeros, ones = np.zeros(n), np.ones(n)
        return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": list(self.width_factor)}


class RandomRotation(_Affine):
    """Rotate each image about its centre by a random fraction of a full turn.

    Parameters
    ----------
    factor : float or (float, float)
        Fractions of 2 pi; ``f`` means ``(-f, f)``: ``0.25`` rotates by up to 90 degrees
        either way.
    fill_mode, interpolation, seed, fill_value, data_format
        As for :class:`RandomTranslation`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RandomRotation
    >>> img = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> turned = RandomRotation((0.25, 0.25))(img).numpy()[0, :, :, 0]
    >>> bool(np.allclose(turned, np.rot90(img[0, :, :, 0]), atol=1e-5))  # 90 degrees
    True
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_pair(factor, "factor", "RandomRotation", low=-math.inf,
                                   high=math.inf)

    def _transforms(self, n, h, w):
        angle = self._draw(self.factor[0] * 2 * np.pi, self.factor[1] * 2 * np.pi, n)
        cos, sin = np.cos(angle), np.sin(angle)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        # output (x, y) takes the input at the point rotated by the angle about the centre
        zeros = np.zeros(n)
        return np.stack([cos, -sin, cx - cx * cos + cy * sin,
                         sin, cos, cy - cx * sin - cy * cos, zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


class RandomZoom(_Affine):
    """Zoom each image in or out about its centre by a random factor.

    Parameters
    ----------
    height_factor : float or (float, float)
        Fractions in ``[-1, 1]``: positive zooms out (the image shrinks), negative zooms in;
        ``f`` means ``(-f, f)``.
    width_factor : float or (float, float), optional
        By default the height's draw (the aspect ratio kept).
    fill_mode, interpolation, seed, fill_value, data_format
        As for :class:`RandomTranslation`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RandomZoom
    >>> RandomZoom(0.2, seed=0)(np.zeros((2, 8, 8, 3))).shape
    (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = _factor_pair(height_factor, "height_factor", "RandomZoom",
                                          high=math.inf)
        self.width_factor = None if width_factor is None else \
            _factor_pair(width_factor, "width_factor", "RandomZoom", high=math.inf)

    def _transforms(self, n, h, w):
        zy = 1.0 + self._draw(*self.height_factor, n)
        zx = zy if self.width_factor is None else 1.0 + self._draw(*self.width_factor, n)
        zeros = np.zeros(n)
        return np.stack([zx, zeros, (w - 1) / 2 * (1 - zx), zeros, zy, (h - 1) / 2 * (1 - zy),
                         zeros, zeros], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": None if self.width_factor is None else list(self.width_factor)}
