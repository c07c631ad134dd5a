"""ONNX forms of the merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate and Dot.

The elementwise ones map to ONNX's variadic operators (Sum, Mean, Max, Min) or a chain of
binary ones (Sub, Mul); ONNX broadcasts as profond does (same rank, an axis of size 1
stretches). Masks are joined as profond joins them: a step is kept where every input that
has a mask keeps it. ``Dot`` is a batched MatMul, for the cases that are one: two rank-2
inputs summed over their feature axis, two rank-3 inputs over axis 1 or 2 of each.
"""

from __future__ import annotations

import numpy as np

from profond import layers
from profond.io.onnx.core import no_mask
from profond.io.onnx.graph import ExportError, converts

__all__ = []


def _where(layer):
    return f"layer '{layer.name}' ({type(layer).__name__})"


def _joined_masks(b, layer, masks):
    kept = [m for m in masks if m is not None]
    if not kept:
        return None
    out = kept[0]
    for m in kept[1:]:
        out = b.op("And", [out, m], layer.name)
    return out


def _pairwise(op):
    def convert(b, layer, xs, shapes, masks):
        out = xs[0]
        for x in xs[1:]:
            out = b.op(op, [out, x], layer.name)
        return out, _joined_masks(b, layer, masks)
    return convert


def _variadic(op):
    def convert(b, layer, xs, shapes, masks):
        return b.op(op, list(xs), layer.name), _joined_masks(b, layer, masks)
    return convert


for _cls, _convert in ((layers.Add, _variadic("Sum")), (layers.Subtract, _pairwise("Sub")),
                       (layers.Multiply, _pairwise("Mul")), (layers.Average, _variadic("Mean")),
                       (layers.Maximum, _variadic("Max")), (layers.Minimum, _variadic("Min"))):
    converts(_cls, many=True)(_convert)


@converts(layers.Concatenate, many=True)
def _concatenate(b, layer, xs, shapes, masks):
    axis = layer.axis % len(shapes[0])
    if axis == 1 and any(m is not None for m in masks):
        raise ExportError(f"{_where(layer)} joins masked sequences along time, which ONNX "
                          "export does not take (the masks would need joining too).")
    return b.op("Concat", list(xs), layer.name, axis=axis), _joined_masks(b, layer, masks)


def _l2_normalize(b, x, axis, hint):
    # As profond: x / sqrt(max(sum(x**2), 1e-12)), so that a zero vector stays zero.
    squares = b.op("ReduceSumSquare", [x], hint, axes=[axis], keepdims=1)
    floor = b.const(np.float32(1e-12), "l2_epsilon")
    return b.op("Div", [x, b.op("Sqrt", [b.op("Max", [squares, floor], hint)], hint)], hint)


def _swap_last_two(b, x, hint):
    return b.op("Transpose", [x], hint, perm=[0, 2, 1])


@converts(layers.Dot, many=True)
def _dot(b, layer, xs, shapes, masks):
    for m in masks:
        no_mask(layer, m)
    ranks = [len(s) for s in shapes]
    pair = layer.axes if isinstance(layer.axes, list) else [layer.axes, layer.axes]
    a1, a2 = (a % r for a, r in zip(pair, ranks))
    if not (ranks == [2, 2] or ranks == [3, 3] and a1 in (1, 2) and a2 in (1, 2)):
        raise ExportError(f"{_where(layer)} with axes={layer.axes} on inputs of shapes "
                          f"{tuple(shapes[0])} and {tuple(shapes[1])} has no ONNX form in "
                          "profond's exporter: it takes two rank-2 inputs, or two rank-3 "
                          "inputs summed over axis 1 or 2 of each.")
    hint = layer.name
    x, y = xs
    if layer.normalize:
        x, y = _l2_normalize(b, x, a1, hint), _l2_normalize(b, y, a2, hint)
    if ranks == [2, 2]:  # (batch, k) . (batch, k) -> (batch, 1)
        return b.op("ReduceSum", [b.op("Mul", [x, y], hint), b.ints([1], "feature_axis")],
                    hint, keepdims=1), None
    # (batch, n, k) @ (batch, k, m): each input turned so that the summed axis meets.
    left = x if a1 == 2 else _swap_last_two(b, x, hint)
    right = y if a2 == 1 else _swap_last_two(b, y, hint)
    return b.op("MatMul", [left, right], hint), None
