"""ONNX forms of the convolutions and the pooling layers.

profond is channels-last and ONNX's Conv and pooling operators are channels-first: each one
is wrapped in two Transposes (onnxruntime folds the pairs between consecutive layers). "same"
pads as profond does (TensorFlow's rule, the extra zero after) with explicit pads where the
spatial size is known, ``SAME_UPPER`` (the same rule) where it is not; "causal" pads
``(kernel - 1) * dilation`` zeros before. A depthwise convolution is ONNX's grouped Conv with
one group per channel; a separable one, that Conv then a 1 x 1 Conv; a transposed one, ONNX's
ConvTranspose with Keras's crop written as its pads (and its extra zeros as output_padding).
"""

from __future__ import annotations

import numpy as np

from profond import layers
from profond.io.onnx.core import activation, no_mask
from profond.io.onnx.graph import ExportError, converts
from profond.ops.conv import same_padding
from profond.ops.conv_nd import conv_transpose_crop

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


def _conv_node(b, layer, x_cf, shape, kernel, bias, hint, group=1, pointwise=False):
    """One ONNX Conv of channels-first ``x_cf`` with a kernel of Keras's (*k, in, out)."""
    rank = layer.rank
    inputs = [x_cf, b.const(np.transpose(kernel, (rank + 1, rank, *range(rank))),
                            f"{hint}/kernel")]
    if bias is not None:
        inputs.append(b.const(np.asarray(bias.numpy()), f"{hint}/bias"))
    ksize = kernel.shape[:rank]
    if pointwise:
        return b.op("Conv", inputs, hint, kernel_shape=list(ksize), group=group)
    return b.op("Conv", inputs, hint, kernel_shape=list(ksize), strides=list(layer.strides),
                dilations=list(layer.dilation_rate), group=group,
                **_padding(layer, layer.padding, shape[1:-1], ksize, layer.strides,
                           layer.dilation_rate))


@converts(layers.Conv1D, layers.Conv2D, layers.Conv3D)
def _conv(b, layer, x, shape, mask):
    no_mask(layer, mask)
    rank, hint = layer.rank, layer.name
    y = _conv_node(b, layer, _to_channels_first(b, x, rank, hint), shape,
                   np.asarray(layer.kernel.numpy()), layer.bias if layer.use_bias else None,
                   hint, group=layer.groups)
    return activation(b, layer.activation, _to_channels_last(b, y, rank, hint), layer), None


def _depthwise_as_grouped(layer, kernel):
    """Keras's depthwise (*k, c, m) as a grouped kernel (*k, 1, c * m) (out channel c m + j)."""
    return kernel.reshape(kernel.shape[:-2] + (1, -1))


@converts(layers.DepthwiseConv1D, layers.DepthwiseConv2D)
def _depthwise_conv(b, layer, x, shape, mask):
    no_mask(layer, mask)
    rank, hint = layer.rank, layer.name
    kernel = np.asarray(layer.kernel.numpy())
    y = _conv_node(b, layer, _to_channels_first(b, x, rank, hint), shape,
                   _depthwise_as_grouped(layer, kernel), layer.bias if layer.use_bias else None,
                   hint, group=kernel.shape[-2])
    return activation(b, layer.activation, _to_channels_last(b, y, rank, hint), layer), None


@converts(layers.SeparableConv1D, layers.SeparableConv2D)
def _separable_conv(b, layer, x, shape, mask):
    no_mask(layer, mask)
    rank, hint = layer.rank, layer.name
    kernel = np.asarray(layer.depthwise_kernel.numpy())
    mid = _conv_node(b, layer, _to_channels_first(b, x, rank, hint), shape,
                     _depthwise_as_grouped(layer, kernel), None, f"{hint}/depthwise",
                     group=kernel.shape[-2])
    y = _conv_node(b, layer, mid, shape, np.asarray(layer.pointwise_kernel.numpy()),
                   layer.bias if layer.use_bias else None, f"{hint}/pointwise", pointwise=True)
    return activation(b, layer.activation, _to_channels_last(b, y, rank, hint), layer), None


@converts(layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)
def _conv_transpose(b, layer, x, shape, mask):
    no_mask(layer, mask)
    rank, hint = layer.rank, layer.name
    sizes = shape[1:-1]
    if any(s is None for s in sizes):
        raise ExportError(f"Layer '{layer.name}' ({type(layer).__name__}) needs inputs of "
                          "known spatial size for ONNX (its crop depends on it): give the "
                          "model's Input a fixed size.")
    begins, ends, extra = [], [], []
    for a, (n, k, s, d) in enumerate(zip(sizes, layer.kernel_size, layer.strides,
                                         layer.dilation_rate)):
        start, size = conv_transpose_crop(n, k, s, layer.padding, None if layer.output_padding
                                          is None else layer.output_padding[a], d)
        full = (n - 1) * s + (k - 1) * d + 1
        begins.append(start)
        ends.append(max(full - start - size, 0))
        extra.append(max(start + size - full, 0))  # zeros after the full output
    kernel = np.asarray(layer.kernel.numpy())  # (*k, out, in) -> ONNX's (in, out, *k)
    inputs = [_to_channels_first(b, x, rank, hint),
              b.const(np.transpose(kernel, (rank + 1, rank, *range(rank))), f"{hint}/kernel")]
    if layer.use_bias:
        inputs.append(b.const(np.asarray(layer.bias.numpy()), f"{hint}/bias"))
    y = b.op("ConvTranspose", inputs, hint, kernel_shape=list(layer.kernel_size),
             strides=list(layer.strides), dilations=list(layer.dilation_rate),
             pads=begins + ends, output_padding=extra)
    return activation(b, layer.activation, _to_channels_last(b, y, rank, hint), layer), None


@converts(layers.MaxPooling1D, layers.MaxPooling2D, layers.MaxPooling3D,
          layers.AveragePooling1D, layers.AveragePooling2D, layers.AveragePooling3D)
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
          layers.GlobalAveragePooling3D, layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D,
          layers.GlobalMaxPooling3D)
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
