"""``EinsumDense``: a dense layer whose product with its kernel is any einsum equation, so
inputs, kernel and outputs may each have several axes (attention projections
``(batch, seq, dim) x (dim, heads, key_dim)``, per-position weights, ...)."""

from __future__ import annotations

import re

from profond import activations, initializers, ops
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_weight_arguments,
    weight_arguments_config,
)
from profond.layers.base import Layer

__all__ = ["EinsumDense", "analyze_equation"]

_FORMS = (  # (pattern, ellipsis side)
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), None),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$"), "left"),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$"), "right"),
)


def _fail(layer, why):
    return ValueError(f"The 'equation' parameter of EinsumDense (layer '{layer}') does not fit: "
                      f"{why}.")


def split_equation(equation):
    """``((input, kernel, output) subscripts, ellipsis side)`` of an ``EinsumDense`` equation."""
    for pattern, side in _FORMS:
        match = pattern.match(equation.replace(" ", "")) if isinstance(equation, str) else None
        if match:
            return match.groups(), side
    raise ValueError("The 'equation' parameter of EinsumDense must have the form 'X,Y->Z', "
                     f"'...X,Y->...Z' or 'X...,Y->Z...'. Got {equation!r} instead.")


def analyze_equation(equation, bias_axes, input_shape, output_shape, layer="einsum_dense"):
    """Shapes implied by an ``EinsumDense`` equation for ``input_shape``.

    Returns ``(kernel_shape, bias_shape or None, full_output_shape, input_axes, output_axes)``,
    the last two being the kernel's axes that count as inputs and as outputs (its fans).

    Examples
    --------
    >>> analyze_equation("abc,cde->abde", "de", (None, 7, 16), (7, 4, 8))
    ([16, 4, 8], [4, 8], [None, 7, 4, 8], [0], [1, 2])
    >>> analyze_equation("...b,bc->...c", "c", (None, 5, 3), 4)[2]
    [None, 5, 4]
    """
    (x_spec, w_spec, y_spec), side = split_equation(equation)
    input_shape = list(input_shape)
    elided = len(input_shape) - len(x_spec)
    if elided < 0 or (side is None and elided):
        raise _fail(layer, f"input subscripts {x_spec!r} for an input of shape "
                           f"{tuple(input_shape)}")
    out = [input_shape[0]] + ([output_shape] if isinstance(output_shape, int)
                              else list(output_shape))
    if side == "left":
        out[1:1] = input_shape[1:elided]
        x_axis = {c: len(input_shape) - len(x_spec) + i for i, c in enumerate(x_spec)}
        y_axis = {c: elided + i for i, c in enumerate(y_spec)}
    else:
        if side == "right":
            out += input_shape[len(input_shape) - elided:]
        x_axis = {c: i for i, c in enumerate(x_spec)}
        y_axis = {c: i for i, c in enumerate(y_spec)}
    if max(y_axis.values(), default=-1) >= len(out):
        raise _fail(layer, f"output subscripts {y_spec!r} for the output shape {tuple(out)}")
    for c in x_spec:
        if c in y_axis and out[y_axis[c]] is not None and out[y_axis[c]] != input_shape[x_axis[c]]:
            raise _fail(layer, f"axis {c!r} has size {input_shape[x_axis[c]]} in the input "
                               f"{tuple(input_shape)} and {out[y_axis[c]]} in the output "
                               f"{tuple(out)}")
    for c in y_spec:
        if c in x_axis and out[y_axis[c]] is None:  # an axis the input carries through
            out[y_axis[c]] = input_shape[x_axis[c]]
        if c not in x_spec and c not in w_spec:
            raise _fail(layer, f"output axis {c!r} is in neither the input {x_spec!r} nor the "
                               f"kernel {w_spec!r}")
    kernel, in_axes, out_axes = [], [], []
    for i, c in enumerate(w_spec):
        if c in y_axis:
            kernel.append(out[y_axis[c]])
            out_axes.append(i)
        elif c in x_axis:
            kernel.append(input_shape[x_axis[c]])
            in_axes.append(i)
        else:
            raise _fail(layer, f"kernel axis {c!r} is in neither the input {x_spec!r} nor the "
                               f"output {y_spec!r}")
    if any(d is None for d in kernel):
        raise _fail(layer, f"the kernel's shape {tuple(kernel)} must be known (input "
                           f"{tuple(input_shape)}, output {tuple(out)})")
    bias = None
    if bias_axes is not None:
        if not set(bias_axes) <= set(y_spec):
            raise ValueError(f"The 'bias_axes' parameter of EinsumDense (layer '{layer}') must "
                             f"name axes of the output {y_spec!r}. Got {bias_axes!r} instead.")
        first = min(y_spec.index(c) for c in bias_axes)
        bias = [out[y_axis[c]] if c in bias_axes else 1 for c in y_spec[first:]]
        if side == "right":
            bias += [1] * elided
    return kernel, bias, out, in_axes, out_axes


class EinsumDense(Layer):
    """A dense layer computing ``activation(einsum(equation, inputs, kernel) + bias)``.

    Parameters
    ----------
    equation : str
        ``"X,Y->Z"`` with ``X`` the input's subscripts, ``Y`` the kernel's, ``Z`` the output's;
        ``...`` may stand for leading (``"...X,Y->...Z"``) or trailing axes.
    output_shape : int or tuple
        The output's shape without the batch axis (and without the axes ``...`` stands for);
        ``None`` entries take the input's size.
    activation : str or callable, optional
    bias_axes : str, optional
        The output's subscripts that get a bias (``None``: no bias).
    kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
    activity_regularizer, kernel_constraint, bias_constraint
        As for ``Dense``. A variance-scaling initializer (Glorot, He ...) takes its fans from
        the kernel's input and output axes.

    Examples
    --------
    Project a sequence to 4 heads of 8 values each:

    >>> import numpy as np
    >>> from profond.layers import EinsumDense
    >>> layer = EinsumDense("abc,cde->abde", output_shape=(None, 4, 8), bias_axes="de")
    >>> layer(np.ones((2, 7, 16))).shape
    (2, 7, 4, 8)
    >>> [w.shape for w in layer.get_weights()]
    [(16, 4, 8), (4, 8)]
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                           ("quantization_config", quantization_config)):
            if value is not None:  # Keras's fine-tuning and quantization extras
                raise ValueError(f"The '{arg}' parameter of EinsumDense must be None (profond "
                                 f"has no LoRA or quantization). Got {value!r} instead.")
        split_equation(equation)
        self.equation = equation
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, int)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        store_weight_arguments(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
            activity_regularizer=activity_regularizer)

    def _analyze(self, input_shape):
        return analyze_equation(self.equation, self.bias_axes, tuple(input_shape),
                                self.partial_output_shape, self.name)

    def build(self, input_shape):
        kernel_shape, bias_shape, _, in_axes, out_axes = self._analyze(input_shape)
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
                init.input_axes is None or init.output_axes is None):
            init = type(init).from_config({**init.get_config(), "input_axes": in_axes,
                                           "output_axes": out_axes})
        self.kernel = add_configured_weight(self, "kernel", kernel_shape, initializer=init)
        self.bias = (add_configured_weight(self, "bias", bias_shape)
                     if bias_shape is not None else None)
        self.built = True

    def call(self, inputs):
        self._analyze(inputs.shape)
        x = ops.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(self._analyze(input_shape)[2])

    def get_config(self):
        return {**super().get_config(), "output_shape": list(self.partial_output_shape),
                "equation": self.equation,
                "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes, **weight_arguments_config(self)}
