"""ONNX forms of the catalogue's layers (issue 15) that have one: the activation layers,
``LayerNormalization`` over the last axis, ``EinsumDense``, the reshaping, padding, cropping
and up-sampling layers, ``Rescaling``, and the layers that are the identity at inference
(noise, augmentation, ``Identity``, ``ActivityRegularization``)."""

from __future__ import annotations

import numpy as np

from profond import layers
from profond.io.onnx.core import activation, no_mask
from profond.io.onnx.graph import ExportError, converts

__all__ = []

_INT64_MAX = np.iinfo(np.int64).max


def _f32(value):
    return np.asarray(value, dtype=np.float32)


@converts(layers.Identity, layers.GaussianNoise, layers.GaussianDropout, layers.AlphaDropout,
          layers.ActivityRegularization, layers.RandomFlip, layers.RandomContrast,
          layers.RandomTranslation, layers.RandomRotation, layers.RandomZoom)
def _inference_identity(b, layer, x, shape, mask):
    return x, mask  # noise, augmentation and activity penalties act in training only


@converts(layers.ReLU)
def _relu(b, layer, x, shape, mask):
    hint = layer.name
    if layer.threshold == 0 and layer.negative_slope == 0:
        y = b.op("Relu", [x], hint)
    else:  # x from the threshold up, negative_slope * (x - threshold) below it
        threshold = b.const(_f32(layer.threshold), f"{hint}/threshold")
        below = b.op("Mul", [b.op("Sub", [x, threshold], hint),
                             b.const(_f32(layer.negative_slope), f"{hint}/slope")], hint)
        y = b.op("Where", [b.op("GreaterOrEqual", [x, threshold], hint), x, below], hint)
    if layer.max_value is not None:
        y = b.op("Min", [y, b.const(_f32(layer.max_value), f"{hint}/max_value")], hint)
    return y, mask


@converts(layers.LeakyReLU)
def _leaky_relu(b, layer, x, shape, mask):
    return b.op("LeakyRelu", [x], layer.name, alpha=float(layer.negative_slope)), mask


@converts(layers.ELU)
def _elu(b, layer, x, shape, mask):
    return b.op("Elu", [x], layer.name, alpha=float(layer.alpha)), mask


@converts(layers.PReLU)
def _prelu(b, layer, x, shape, mask):
    alpha = b.const(np.asarray(layer.alpha.numpy(), dtype=np.float32), f"{layer.name}/alpha")
    return b.op("PRelu", [x, alpha], layer.name), mask


@converts(layers.Softmax)
def _softmax(b, layer, x, shape, mask):
    no_mask(layer, mask)
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    if len(axes) != 1:
        raise ExportError(f"layer '{layer.name}' (Softmax) over several axes {axes} has no ONNX "
                          "form in profond's exporter (ONNX's Softmax takes one axis).")
    return b.op("Softmax", [x], layer.name, axis=int(axes[0])), None


@converts(layers.LayerNormalization)
def _layer_norm(b, layer, x, shape, mask):
    rank = len(shape)
    axes = sorted(a % rank for a in (layer.axis if isinstance(layer.axis, (list, tuple))
                                     else [layer.axis]))
    if axes != list(range(axes[0], rank)) or layer.rms_scaling:
        raise ExportError(f"layer '{layer.name}' (LayerNormalization) over axes {layer.axis} "
                          "has no ONNX form in profond's exporter (ONNX's LayerNormalization "
                          "normalises trailing axes).")
    size = [int(d) for d in shape[axes[0]:]]
    gamma = layer.gamma.numpy() if layer.gamma is not None else np.ones(size)
    beta = layer.beta.numpy() if layer.beta is not None else np.zeros(size)
    y = b.op("LayerNormalization", [x, b.const(_f32(gamma).reshape(size), f"{layer.name}/gamma"),
                                    b.const(_f32(beta).reshape(size), f"{layer.name}/beta")],
             layer.name, axis=axes[0], epsilon=float(layer.epsilon))
    return y, mask


@converts(layers.EinsumDense)
def _einsum_dense(b, layer, x, shape, mask):
    no_mask(layer, mask)
    kernel = b.const(_f32(layer.kernel.numpy()), f"{layer.name}/kernel")
    y = b.op("Einsum", [x, kernel], layer.name, equation=layer.equation.replace(" ", ""))
    if layer.bias is not None:
        y = b.op("Add", [y, b.const(_f32(layer.bias.numpy()), f"{layer.name}/bias")], layer.name)
    return activation(b, layer.activation, y, layer), None


@converts(layers.Permute)
def _permute(b, layer, x, shape, mask):
    no_mask(layer, mask)
    return b.op("Transpose", [x], layer.name, perm=[0, *layer.dims]), None


@converts(layers.RepeatVector)
def _repeat_vector(b, layer, x, shape, mask):
    no_mask(layer, mask)
    y = b.op("Unsqueeze", [x, b.ints([1], f"{layer.name}/axis")], layer.name)
    return b.op("Tile", [y, b.ints([1, layer.n, 1], f"{layer.name}/repeats")], layer.name), None


@converts(layers.Rescaling)
def _rescaling(b, layer, x, shape, mask):
    y = b.op("Mul", [x, b.const(_f32(layer.scale), f"{layer.name}/scale")], layer.name)
    return b.op("Add", [y, b.const(_f32(layer.offset), f"{layer.name}/offset")], layer.name), mask


@converts(layers.ZeroPadding1D, layers.ZeroPadding3D)
def _zero_padding(b, layer, x, shape, mask):
    no_mask(layer, mask)
    before = [0] + [p[0] for p in layer.padding] + [0]
    after = [0] + [p[1] for p in layer.padding] + [0]
    return b.op("Pad", [x, b.ints(before + after, f"{layer.name}/pads")], layer.name,
                mode="constant"), None


@converts(layers.Cropping1D, layers.Cropping2D, layers.Cropping3D)
def _cropping(b, layer, x, shape, mask):
    no_mask(layer, mask)
    axes = list(range(1, len(layer.cropping) + 1))
    starts = [c[0] for c in layer.cropping]
    ends = [-c[1] if c[1] else _INT64_MAX for c in layer.cropping]
    return b.op("Slice", [x, b.ints(starts, f"{layer.name}/starts"),
                          b.ints(ends, f"{layer.name}/ends"),
                          b.ints(axes, f"{layer.name}/axes")], layer.name), None


@converts(layers.UpSampling1D, layers.UpSampling3D)
def _up_sampling(b, layer, x, shape, mask):
    no_mask(layer, mask)
    sizes = [layer.size] if isinstance(layer.size, int) else list(layer.size)
    scales = b.const(np.asarray([1, *sizes, 1], dtype=np.float32), f"{layer.name}/scales")
    # out[i] = in[floor(i / size)]: each element repeated, as profond's layers do
    return b.op("Resize", [x, "", scales], layer.name, mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor"), None
