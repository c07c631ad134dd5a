"""ONNX forms of SimpleRNN, GRU, LSTM and Bidirectional: ONNX's own RNN, GRU and LSTM operators.

Weights change layout, not values: ONNX wants ``W (directions, gates * units, in)`` (Keras's
kernel transposed), ``R`` likewise, and ``B`` the input and recurrent biases side by side.
Gate orders: Keras's LSTM is i, f, c, o and ONNX's is i, o, f, c; Keras's GRU z, r, h is
ONNX's z, r, h, and ``reset_after=True`` (the reset gate applied after the recurrent matmul)
is ONNX's ``linear_before_reset=1``. A Bidirectional layer becomes one operator with
``direction="bidirectional"``.

Masks: ONNX's recurrent operators take sequence lengths, not masks. The mask of a Masking or
``Embedding(mask_zero=True)`` layer becomes, per sample, its number of kept steps; so the
exported model is exact for sequences padded at the end (``padding="post"``), where the
masked steps are the last ones. Where even then ONNX would differ (a masked layer returning
sequences without ``zero_output_for_mask``), export is refused.
"""

from __future__ import annotations

import numpy as np

from profond import activations as A
from profond import layers
from profond.io.onnx.graph import ExportError, converts

__all__ = []

_ACTIVATIONS = {A.tanh: "Tanh", A.sigmoid: "Sigmoid", A.relu: "Relu"}
_LSTM_ORDER = [0, 3, 1, 2]  # Keras i, f, c, o -> ONNX i, o, f, c


def _where(layer):
    return f"layer '{layer.name}' ({type(layer).__name__})"


def _activation_name(layer, fn, owner):
    if fn not in _ACTIVATIONS:
        raise ExportError(f"The activation {getattr(fn, '__name__', fn)!r} of {_where(owner)} "
                          "has no form in ONNX's recurrent operators (they take tanh, sigmoid "
                          "and relu).")
    return _ACTIVATIONS[fn]


def _gates(array, gates, order):
    """Reorder the gate blocks of the last axis of ``array``."""
    if order is None:
        return array
    units = array.shape[-1] // gates
    blocks = [array[..., g * units:(g + 1) * units] for g in range(gates)]
    return np.concatenate([blocks[g] for g in order], axis=-1)


def _weights(layer):
    """``(W, R, B)`` of one direction, ONNX's layouts and gate order."""
    gates = {layers.SimpleRNN: 1, layers.GRU: 3, layers.LSTM: 4}[_kind(layer)]
    order = _LSTM_ORDER if _kind(layer) is layers.LSTM else None
    kernel = _gates(np.asarray(layer.kernel.numpy()), gates, order)
    recurrent = _gates(np.asarray(layer.recurrent_kernel.numpy()), gates, order)
    width = gates * layer.units
    if layer.bias is None:
        bias_in, bias_rec = np.zeros(width), np.zeros(width)
    else:
        bias = np.asarray(layer.bias.numpy())
        if bias.ndim == 2:  # GRU reset_after: input and recurrent biases
            bias_in, bias_rec = bias[0], bias[1]
        else:
            bias_in, bias_rec = _gates(bias, gates, order), np.zeros(width)
    return kernel.T, recurrent.T, np.concatenate([bias_in, bias_rec])


def _kind(layer):
    for cls in (layers.LSTM, layers.GRU, layers.SimpleRNN):
        if isinstance(layer, cls):
            return cls
    raise ExportError(f"{_where(layer)} has no ONNX recurrent operator.")


def _check(layer, owner):
    if layer.stateful:
        raise ExportError(f"{_where(owner)} is stateful: ONNX export takes stateless layers.")
    if layer.return_state:
        raise ExportError(f"{_where(owner)} returns its states: export the model without "
                          "return_state=True.")


def _recurrent(b, owner, directions, x, mask, merge_mode="concat"):
    """One ONNX RNN, GRU or LSTM node for ``directions`` (one layer, or a Bidirectional's
    forward and backward layers), and its Keras-shaped output."""
    first = directions[0]
    kind = _kind(first)
    for layer in directions:
        _check(layer, owner)
        if _kind(layer) is not kind or layer.units != first.units or \
                (kind is layers.GRU and layer.reset_after != first.reset_after):
            raise ExportError(f"{_where(owner)}: its forward and backward layers differ in "
                              "kind or size, which one ONNX operator cannot hold.")
    names = []
    for layer in directions:
        act = _activation_name(layer, layer.activation, owner)
        if kind is layers.SimpleRNN:
            names += [act]
        else:
            rec = _activation_name(layer, layer.recurrent_activation, owner)
            names += [rec, act] + ([act] if kind is layers.LSTM else [])
    weights = [_weights(layer) for layer in directions]
    hint = owner.name
    inputs = [b.op("Transpose", [x], hint, perm=[1, 0, 2]),  # ONNX: (time, batch, features)
              b.const(np.stack([w[0] for w in weights]), f"{hint}/W"),
              b.const(np.stack([w[1] for w in weights]), f"{hint}/R"),
              b.const(np.stack([w[2] for w in weights]), f"{hint}/B")]
    if mask is not None:
        kept = b.op("Cast", [mask], hint, to=b.onnx.TensorProto.INT32)
        inputs.append(b.op("ReduceSum", [kept, b.ints([1], "time_axis")], hint, keepdims=0))
    direction = "bidirectional" if len(directions) == 2 else \
        ("reverse" if first.go_backwards else "forward")
    attrs = {"hidden_size": first.units, "direction": direction, "activations": names}
    if kind is layers.GRU:
        attrs["linear_before_reset"] = int(first.reset_after)
    outputs = 3 if kind is layers.LSTM else 2
    y, y_h = b.op(kind.__name__ if kind is not layers.SimpleRNN else "RNN", inputs, hint,
                  outputs=outputs, **attrs)[:2]
    if first.return_sequences:
        if mask is not None and not all(layer.zero_output_for_mask for layer in directions):
            raise ExportError(f"{_where(owner)} returns sequences under a mask: Keras repeats "
                              "the last output at masked steps and ONNX gives zeros there. "
                              "Set zero_output_for_mask=True (or return_sequences=False) to "
                              "export it.")
        out = b.op("Transpose", [y], hint, perm=[2, 0, 1, 3])  # (batch, time, dirs, units)
        if len(directions) == 1 and first.go_backwards:  # Keras keeps the processing order
            out = b.op("Slice", [out, b.ints([-1], "minus_one"),
                                 b.ints([-(2 ** 62)], "far_before"), b.ints([1], "time_axis"),
                                 b.ints([-1], "minus_one")], hint)
        dirs_axis = 2
    else:
        out = b.op("Transpose", [y_h], hint, perm=[1, 0, 2])  # (batch, dirs, units)
        dirs_axis = 1
        mask = None
    return _merge(b, out, dirs_axis, merge_mode, hint, owner), \
        (mask if first.return_sequences else None)


def _merge(b, out, axis, mode, hint, owner):
    if mode == "concat":
        shape = [0] * axis + [-1]
        return b.op("Reshape", [out, b.ints(shape, f"{hint}/merged_shape")], hint)
    if mode == "sum":
        return b.op("ReduceSum", [out, b.ints([axis], f"{hint}/dirs")], hint, keepdims=0)
    if mode == "ave":
        return b.op("ReduceMean", [out], hint, axes=[axis], keepdims=0)
    if mode == "mul":
        return b.op("ReduceProd", [out], hint, axes=[axis], keepdims=0)
    raise ExportError(f"{_where(owner)} has merge_mode={mode!r}; ONNX export takes 'concat', "
                      "'sum', 'ave' or 'mul' (one output).")


@converts(layers.SimpleRNN, layers.GRU, layers.LSTM)
def _single(b, layer, x, shape, mask):
    return _recurrent(b, layer, [layer], x, mask)


@converts(layers.Bidirectional)
def _bidirectional(b, layer, x, shape, mask):
    forward, backward = layer.forward_layer, layer.backward_layer
    if forward.go_backwards or not backward.go_backwards:
        raise ExportError(f"{_where(layer)}: its forward layer must read forwards and its "
                          "backward layer backwards to map onto one ONNX operator.")
    return _recurrent(b, layer, [forward, backward], x, mask, merge_mode=layer.merge_mode)
