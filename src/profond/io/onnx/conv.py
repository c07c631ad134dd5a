"""ONNX forms of the convolutions and the pooling layers.

profond is channels-last and ONNX's Conv and pooling operators are channels-first: each one
is wrapped in two Transposes (onnxruntime folds the pairs between consecutive layers). "same"
pads as profond does (TensorFlow's rule, the extra zero after) with explicit pads where the
spatial size is known, ``SAME_UPPER`` (the same rule) where it is not; "causal" pads
``(kernel - 1) * dilation`` zeros before.
"""

from __future__ import annotations

import numpy as np

from profond import layers
from profond.io.onnx.core import activation, no_mask
from profond.io.onnx.graph import ExportError, converts
from profond.ops.conv import same_padding

__all__ = []


def _to_channels_first(b, x, rank, hint):
    return b.op("Transpose", [x], hint, perm=[0, rank + 1, *range(1, rank + 1)])


def _to_channels_last(b, x, rank, hint):
    return b.op("Transpose", [x], hint, perm=[0, *range(2, rank + 2), 1])


def _padding(layer, padding, sizes, kernel, strides, dilation):
    """ONNX attributes for profond's padding of one layer."""
    if padding == "valid":
        return {"pads": [0] * (2 * len(kernel))}
    if padding == "causal":
        return {"pads": [(kernel[0] - 1) * dilation[0], 0]}
    # With stride 1 "same" pads (span - 1) whatever the size; otherwise the size decides.
    known = [s if s is not None else (1 if st == 1 else None) for s, st in zip(sizes, strides)]
    if any(s is None for s in known):
        if any(d != 1 for d in dilation):
            raise ExportError(f"Layer '{layer.name}' ({type(layer).__name__}) pads 'same' with "
                              "strides and dilation on an axis of unknown size, which ONNX "
                              "runtimes do not take: give the model's Input a fixed size.")
        return {"auto_pad": "SAME_UPPER"}  # the same rule: the extra zero after
    pairs = [same_padding(s, k, st, d) for s, k, st, d in zip(known, kernel, strides, dilation)]
    return {"pads": [p[0] for p in pairs] + [p[1] for p in pairs]}


@converts(layers.Conv1D, layers.Conv2D)
def _conv(b, layer, x, shape, mask):
    no_mask(layer, mask)
    rank, hint = layer.rank, layer.name
    kernel = np.asarray(layer.kernel.numpy())  # (*k, in, out) -> (out, in, *k)
    inputs = [_to_channels_first(b, x, rank, hint),
              b.const(np.transpose(kernel, (rank + 1, rank, *range(rank))), f"{hint}/kernel")]
    if layer.use_bias:
        inputs.append(b.const(np.asarray(layer.bias.numpy()), f"{hint}/bias"))
    y = b.op("Conv", inputs, hint, kernel_shape=list(layer.kernel_size),
             strides=list(layer.strides), dilations=list(layer.dilation_rate),
             **_padding(layer, layer.padding, shape[1:-1], layer.kernel_size, layer.strides,
                        layer.dilation_rate))
    return activation(b, layer.activation, _to_channels_last(b, y, rank, hint), layer), None


@converts(layers.MaxPooling1D, layers.MaxPooling2D, layers.AveragePooling1D,
          layers.AveragePooling2D)
def _pool(b, layer, x, shape, mask):
    no_mask(layer, mask)
    rank, hint = layer.rank, layer.name
    attrs = {"kernel_shape": list(layer.pool_size), "strides": list(layer.strides),
             **_padding(layer, layer.padding, shape[1:-1], layer.pool_size, layer.strides,
                        (1,) * rank)}
    if layer.kind == "avg":
        op = "AveragePool"
        attrs["count_include_pad"] = 0  # windows average their real elements only
    else:
        op = "MaxPool"
    y = b.op(op, [_to_channels_first(b, x, rank, hint)], hint, **attrs)
    return _to_channels_last(b, y, rank, hint), None


@converts(layers.GlobalAveragePooling1D, layers.GlobalAveragePooling2D,
          layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D)
def _global_pool(b, layer, x, shape, mask):
    no_mask(layer, mask)
    op = "ReduceMax" if "Max" in type(layer).__name__ else "ReduceMean"
    return b.op(op, [x], layer.name, axes=list(range(1, len(shape) - 1)),
                keepdims=int(layer.keepdims)), None


@converts(layers.ZeroPadding2D)
def _zero_padding(b, layer, x, shape, mask):
    no_mask(layer, mask)
    (top, bottom), (left, right) = layer.padding
    pads = b.ints([0, top, left, 0, 0, bottom, right, 0], f"{layer.name}/pads")
    return b.op("Pad", [x, pads], layer.name, mode="constant"), None


@converts(layers.UpSampling2D)
def _up_sampling(b, layer, x, shape, mask):
    no_mask(layer, mask)
    scales = b.const(np.asarray([1, *layer.size, 1], dtype=np.float32), f"{layer.name}/scales")
    # out[i] = in[floor(i / size)]: each pixel repeated, as profond's UpSampling2D does
    return b.op("Resize", [x, "", scales], layer.name, mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor"), None
