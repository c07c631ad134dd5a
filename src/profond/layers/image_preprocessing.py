"""Image preprocessing layers: ``Rescaling``, ``Resizing``, ``CenterCrop`` (Keras 3's
arguments; channels-last images ``(batch, height, width, channels)`` or one image
``(height, width, channels)``).

Resizing is linear in the pixels: along each axis, a matrix ``(out, in)`` of interpolation
weights, applied by two matrix products, so gradients flow through it like any op.
"""

from __future__ import annotations


from profond import ops
from profond._validation import check_choice, check_float, check_int
from profond.layers.base import Layer
from profond.layers.conv import check_data_format

__all__ = ["Rescaling", "Resizing", "CenterCrop", "resize_matrix"]


def resize_matrix(n_in, n_out, interpolation, antialias, xp, dtype):
    """Weights ``(n_out, n_in)`` resampling one axis as Keras's resize on PyTorch does:
    half-pixel centres; "bilinear" interpolates between the two nearest inputs (borders
    clamped) or, with ``antialias`` when shrinking, averages under a triangle ``n_in / n_out``
    inputs wide; "nearest" takes input ``floor((i + 0.5) * n_in / n_out)``.

    Examples
    --------
    >>> import numpy as np
    >>> resize_matrix(2, 4, "bilinear", False, np, "float64")
    array([[1.  , 0.  ],
           [0.75, 0.25],
           [0.25, 0.75],
           [0.  , 1.  ]])
    """
    scale = n_in / n_out
    rows = xp.arange(n_out)
    m = xp.zeros((n_out, n_in))
    if interpolation == "nearest":
        m[rows, xp.minimum(xp.floor((rows + 0.5) * scale).astype(int), n_in - 1)] = 1.0
        return m.astype(dtype)
    if antialias and scale > 1:
        centres = (rows + 0.5) * scale
        offsets = xp.arange(n_in)[None, :] + 0.5 - centres[:, None]
        m = xp.maximum(0.0, 1.0 - xp.abs(offsets) / scale)
        return (m / m.sum(axis=1, keepdims=True)).astype(dtype)
    src = xp.clip((rows + 0.5) * scale - 0.5, 0, n_in - 1)
    lo = xp.floor(src).astype(int)
    hi = xp.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m[rows, lo] += 1 - frac
    m[rows, hi] += frac
    return m.astype(dtype)


class _ImageLayer(Layer):
    def _check_rank(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             "rank 4 (batch, height, width, channels) or 3 (height, width, "
                             f"channels). Got input shape {tuple(shape)}.")

    def _batched(self, inputs):
        """``inputs`` as a float batch, and whether it was one image."""
        self._check_rank(tuple(inputs.shape))
        if inputs.dtype.kind != "f":
            inputs = ops.cast(inputs, "float32")
        single = inputs.ndim == 3
        return (ops.expand_dims(inputs, 0) if single else inputs), single

    def _spatial(self, input_shape):
        self._check_rank(input_shape)
        return input_shape[-3], input_shape[-2]

    def _with_spatial(self, input_shape, h, w):
        return tuple(input_shape[:-3]) + (h, w, input_shape[-1])


class Rescaling(Layer):
    """``inputs * scale + offset``: pixel values from [0, 255] to [0, 1] (``scale=1/255``) or
    [-1, 1] (``scale=1/127.5, offset=-1``).

    Parameters
    ----------
    scale : float or array-like (broadcast against the inputs)
    offset : float or array-like, default 0.0

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Rescaling
    >>> Rescaling(1 / 127.5, offset=-1)(np.array([[0.0, 255.0]]))
    tensor([[-1.,  1.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset
        self.supports_masking = True

    def call(self, inputs):
        if inputs.dtype.kind != "f":
            inputs = ops.cast(inputs, "float32")
        return inputs * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        def plain(v):
            return v.tolist() if hasattr(v, "tolist") else v
        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}


class Resizing(_ImageLayer):
    """Resize images to ``(height, width)``.

    Parameters
    ----------
    height, width : int
    interpolation : {"bilinear", "nearest"}, default "bilinear"
    crop_to_aspect_ratio : bool, default False
        First cut the largest centred window of the target's aspect ratio (no distortion).
    pad_to_aspect_ratio : bool, default False
        First pad with ``fill_value`` to the target's aspect ratio (no distortion, no loss).
    fill_mode : "constant"
    fill_value : float, default 0.0
    antialias : bool, default False
        When shrinking, average under a triangle filter as wide as the scale (no aliasing).
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Resizing
    >>> Resizing(4, 6)(np.zeros((2, 8, 8, 3))).shape
    (2, 4, 6, 3)
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_int(height, "height", "Resizing", low=1)
        self.width = check_int(width, "width", "Resizing", low=1)
        self.interpolation = check_choice(interpolation, "interpolation", "Resizing",
                                          ("bilinear", "nearest"))
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError("The 'crop_to_aspect_ratio' and 'pad_to_aspect_ratio' parameters "
                             "of Resizing must not both be True. Got both True instead.")
        self.fill_mode = check_choice(fill_mode, "fill_mode", "Resizing", ("constant",))
        self.fill_value = check_float(fill_value, "fill_value", "Resizing")
        self.antialias = bool(antialias)
        self.data_format = check_data_format(data_format, "Resizing")

    def call(self, inputs):
        x, single = self._batched(inputs)
        n, h, w, c = x.shape
        th, tw = self.height, self.width
        if self.crop_to_aspect_ratio:
            ch = max(min(h, int(w * th / tw)), 1)
            cw = max(min(w, int(h * tw / th)), 1)
            top, left = int((h - ch) / 2), int((w - cw) / 2)
            x = x[:, top:top + ch, left:left + cw]
        elif self.pad_to_aspect_ratio:
            ph = int((max(h, int(w * th / tw)) - h) / 2)
            pw = int((max(w, int(h * tw / th)) - w) / 2)
            x = ops.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)),
                        constant_values=self.fill_value)
        n, h, w, c = x.shape
        xp, dtype = x.xp, x.dtype
        rows = resize_matrix(h, th, self.interpolation, self.antialias, xp, dtype)
        cols = resize_matrix(w, tw, self.interpolation, self.antialias, xp, dtype)
        x = ops.matmul(rows, ops.reshape(x, (n, h, w * c)))             # (n, th, w * c)
        x = ops.matmul(cols, ops.reshape(x, (n * th, w, c)))            # (n * th, tw, c)
        x = ops.reshape(x, (n, th, tw, c))
        return x[0] if single else x

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return self._with_spatial(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias,
                "data_format": self.data_format}


class CenterCrop(_ImageLayer):
    """Cut the centred ``(height, width)`` window of each image (an image smaller than that
    is first cropped to the target's aspect ratio and resized, as Keras does).

    Parameters
    ----------
    height, width : int
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import CenterCrop
    >>> CenterCrop(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1)).numpy()[0, :, :, 0]
    array([[ 5.,  6.],
           [ 9., 10.]], dtype=float32)
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = check_int(height, "height", "CenterCrop", low=1)
        self.width = check_int(width, "width", "CenterCrop", low=1)
        self.data_format = check_data_format(data_format, "CenterCrop")

    def call(self, inputs):
        x, single = self._batched(inputs)
        h, w = x.shape[1], x.shape[2]
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            x = x[:, top:top + self.height, left:left + self.width]
        else:
            x = Resizing(self.height, self.width, crop_to_aspect_ratio=True)(x)
        return x[0] if single else x

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return self._with_spatial(input_shape, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "data_format": self.data_format}


