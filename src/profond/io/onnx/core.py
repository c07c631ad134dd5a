"""ONNX forms of the activations and of the core layers: Dense, Activation, Dropout, Flatten,
Reshape, BatchNormalization, Embedding, Masking, TimeDistributed."""

from __future__ import annotations

import math

import numpy as np

from profond import activations as A
from profond import layers
from profond.io.onnx.graph import ExportError, converter_of, converts
from profond.ops.activation import SELU_ALPHA, SELU_SCALE

__all__ = ["ACTIVATIONS_WITH_ONNX_FORM", "activation", "no_mask"]

_SIMPLE = {A.relu: ("Relu", {}), A.sigmoid: ("Sigmoid", {}), A.tanh: ("Tanh", {}),
           A.softplus: ("Softplus", {}), A.softsign: ("Softsign", {}),
           A.elu: ("Elu", {"alpha": 1.0}), A.leaky_relu: ("LeakyRelu", {"alpha": 0.2}),
           A.selu: ("Selu", {"alpha": float(SELU_ALPHA), "gamma": float(SELU_SCALE)}),
           A.hard_sigmoid: ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
           A.softmax: ("Softmax", {"axis": -1}), A.log_softmax: ("LogSoftmax", {"axis": -1})}
ACTIVATIONS_WITH_ONNX_FORM = sorted(["linear", "relu", "sigmoid", "tanh", "softplus", "softsign",
                                     "elu", "leaky_relu", "selu", "hard_sigmoid", "softmax",
                                     "log_softmax", "silu", "swish", "gelu", "step", "step_ste"])


def _where(layer):
    return f"layer '{layer.name}' ({type(layer).__name__})"


def activation(b, fn, x, layer):
    """``fn(x)`` in ONNX nodes; a clear error for a function without an ONNX form."""
    hint = layer.name
    if fn is A.linear or fn is None:
        return x
    if fn in _SIMPLE:
        op, attrs = _SIMPLE[fn]
        return b.op(op, [x], hint, **attrs)
    if fn is A.silu:
        return b.op("Mul", [x, b.op("Sigmoid", [x], hint)], hint)
    if fn is A.gelu:  # Keras 3's default, the exact erf form
        inner = b.op("Erf", [b.op("Mul", [x, b.const(np.float32(1 / math.sqrt(2)), "rsqrt2")],
                                  hint)], hint)
        half = b.op("Mul", [x, b.const(np.float32(0.5), "half")], hint)
        return b.op("Mul", [half, b.op("Add", [inner, b.const(np.float32(1.0), "one")], hint)],
                    hint)
    if fn is A.step or fn is A.step_ste:
        positive = b.op("Greater", [x, b.const(np.float32(0.0), "zero")], hint)
        return b.op("Cast", [positive], hint, to=b.onnx.TensorProto.FLOAT)
    name = getattr(fn, "__name__", repr(fn))
    raise ExportError(f"The activation {name!r} of {_where(layer)} has no ONNX form in "
                      f"profond's exporter (it has: {', '.join(ACTIVATIONS_WITH_ONNX_FORM)}).")


def no_mask(layer, mask):
    if mask is not None:
        raise ExportError(f"A mask reaches {_where(layer)}, which ONNX export cannot apply "
                          "there; masks export only into the recurrent layers (ONNX's "
                          "sequence lengths).")


def _array(variable):
    return np.asarray(variable.numpy())


@converts(layers.InputLayer, layers.Dropout)
def _identity(b, layer, x, shape, mask):
    return x, mask  # Dropout and its spatial kinds do nothing at inference


@converts(layers.Dense)
def _dense(b, layer, x, shape, mask):
    y = b.op("MatMul", [x, b.const(_array(layer.kernel), f"{layer.name}/kernel")], layer.name)
    if layer.use_bias:
        y = b.op("Add", [y, b.const(_array(layer.bias), f"{layer.name}/bias")], layer.name)
    return activation(b, layer.activation, y, layer), mask


@converts(layers.Activation)
def _activation(b, layer, x, shape, mask):
    return activation(b, layer.activation, x, layer), mask


@converts(layers.Flatten)
def _flatten(b, layer, x, shape, mask):
    no_mask(layer, mask)
    return b.op("Flatten", [x], layer.name, axis=1), None


@converts(layers.Reshape)
def _reshape(b, layer, x, shape, mask):
    no_mask(layer, mask)
    target = b.ints([0, *layer.target_shape], f"{layer.name}/shape")  # 0: keep the batch
    return b.op("Reshape", [x, target], layer.name), None


@converts(layers.BatchNormalization)
def _batch_norm(b, layer, x, shape, mask):
    rank = len(shape)
    axis = layer.axis % rank
    mean, var = _array(layer.moving_mean).astype(np.float64), \
        _array(layer.moving_variance).astype(np.float64)
    gamma = _array(layer.gamma).astype(np.float64) if layer.scale else 1.0
    beta = _array(layer.beta).astype(np.float64) if layer.center else 0.0
    scale = gamma / np.sqrt(var + layer.epsilon)
    shift = beta - mean * scale
    broadcast = (-1,) + (1,) * (rank - 1 - axis)  # the feature axis, against (batch, ...)
    y = b.op("Mul", [x, b.const(scale.reshape(broadcast), f"{layer.name}/scale")], layer.name)
    return b.op("Add", [y, b.const(shift.reshape(broadcast), f"{layer.name}/shift")],
                layer.name), mask


@converts(layers.Embedding)
def _embedding(b, layer, x, shape, mask):
    ids = b.op("Cast", [x], layer.name, to=b.onnx.TensorProto.INT64)
    y = b.op("Gather", [b.const(_array(layer.embeddings), f"{layer.name}/embeddings"), ids],
             layer.name, axis=0)
    if layer.mask_zero:
        mask = b.op("Not", [b.op("Equal", [ids, b.ints(0, "zero_id")], layer.name)], layer.name)
    return y, mask


@converts(layers.Masking)
def _masking(b, layer, x, shape, mask):
    value = b.const(np.float32(layer.mask_value), f"{layer.name}/mask_value")
    differs = b.op("Cast", [b.op("Not", [b.op("Equal", [x, value], layer.name)], layer.name)],
                   layer.name, to=b.onnx.TensorProto.FLOAT)
    keep = b.op("ReduceMax", [differs], layer.name, axes=[-1], keepdims=1)
    y = b.op("Mul", [x, keep], layer.name)
    squeezed = b.op("Squeeze", [keep, b.ints([-1], "last_axis")], layer.name)
    return y, b.op("Cast", [squeezed], layer.name, to=b.onnx.TensorProto.BOOL)


@converts(layers.TimeDistributed)
def _time_distributed(b, layer, x, shape, mask):
    # As profond runs it: time folded into the batch, the wrapped layer once, then unfolded.
    inner, hint = layer.layer, layer.name
    convert = converter_of(inner)
    if convert is None:
        raise ExportError(f"The layer that {_where(layer)} wraps, '{inner.name}' "
                          f"({type(inner).__name__}), has no ONNX form in profond's exporter.")
    step = (None,) + tuple(shape[2:])
    out_step = tuple(inner.compute_output_shape(step))[1:]
    if any(d is None for d in step[1:] + out_step):
        raise ExportError(f"{_where(layer)}: ONNX export needs the sizes of each step known "
                          f"(got steps of shape {step[1:]}).")
    folded = b.op("Reshape", [x, b.ints([-1, *step[1:]], f"{hint}/folded")], hint)
    y, _ = convert(b, inner, folded, step, None)
    lead = b.op("Slice", [b.op("Shape", [x], hint), b.ints([0], "zero_index"),
                          b.ints([2], "two"), b.ints([0], "zero_index")], hint)
    target = b.op("Concat", [lead, b.ints(list(out_step), f"{hint}/step_shape")], hint, axis=0)
    return b.op("Reshape", [y, target], hint), mask
