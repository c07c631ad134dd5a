"""Recurrent cells, one time step each: ``SimpleRNNCell``, ``GRUCell``, ``LSTMCell`` (Keras 3's
arguments, weights and equations) and ``StackedRNNCells``, for :class:`profond.layers.RNN`.

A cell is the contract between ``RNN`` and a user's own recurrence: ``call(inputs, states,
training=None) -> (output, new_states)`` with ``states`` a list, and a ``state_size``
(an int, or one int per state). The built-in cells' steps are written with profond's
differentiable ops; ``RNN`` runs a lone built-in cell through the fused sequence kernels of
:mod:`profond.ops.recurrent` instead, with the same weights and results.

Dropout masks are drawn once per sequence and reused at every step (Gal & Ghahramani, 2016):
``RNN`` calls ``reset_dropout_mask()`` after each sequence.
"""

from __future__ import annotations

from profond import activations, backend, ops
from profond import random as prandom
from profond.layers._weight_arguments import add_configured_weight, weight_arguments_config
from profond.layers.base import Layer
from profond.layers.recurrent import bias_initializer_of, store_recurrent_arguments
from profond.layers.serialization import deserialize, serialize
from profond.ops import recurrent as rnn_ops

__all__ = ["SimpleRNNCell", "GRUCell", "LSTMCell", "StackedRNNCells"]


def _first(states):
    return states[0] if isinstance(states, (list, tuple)) else states


class _Cell(Layer):
    """What the built-in cells share: arguments, weights, dropout masks and config."""

    _gates = 1
    _op = None  # the fused sequence op that runs this cell over a whole sequence

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        store_recurrent_arguments(
            self, units, activation, recurrent_activation, use_bias, dropout, recurrent_dropout,
            seed, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self._masks = {}

    @property
    def output_size(self):
        return self.units

    def _bias_shape(self):
        return (self._gates * self.units,)

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Input of cell '{self.name}' ({type(self).__name__}) must have a "
                             f"known last axis. Got input shape {tuple(input_shape)} instead.")
        width = self._gates * self.units
        self.kernel = add_configured_weight(self, "kernel", (int(input_shape[-1]), width))
        self.recurrent_kernel = add_configured_weight(self, "recurrent", (self.units, width),
                                                      name="recurrent_kernel")
        self.bias = add_configured_weight(self, "bias", self._bias_shape(),
                                          initializer=bias_initializer_of(self)) \
            if self.use_bias else None
        self.built = True

    # --- dropout masks, one per sequence -------------------------------------------------------
    def _mask(self, kind, rate, shape, dtype):
        if rate <= 0.0:
            return None
        if kind not in self._masks:
            rng = self._rng if self._rng is not None else prandom.generator()
            keep = rng.random(tuple(shape)) >= rate
            self._masks[kind] = backend.asarray(keep / (1.0 - rate), dtype=dtype)
        return self._masks[kind]

    def get_dropout_mask(self, step_input):
        """The input dropout mask of the current sequence (drawn at its first step)."""
        return self._mask("input", self.dropout, step_input.shape, self.kernel.dtype)

    def get_recurrent_dropout_mask(self, step_state):
        """The recurrent dropout mask of the current sequence."""
        return self._mask("recurrent", self.recurrent_dropout, step_state.shape,
                          self.kernel.dtype)

    def reset_dropout_mask(self):
        """Forget the masks: the next sequence draws new ones."""
        self._masks = {}

    reset_recurrent_dropout_mask = reset_dropout_mask

    def _fused_arguments(self):
        """Arguments of this cell's sequence op in :mod:`profond.ops.recurrent`."""
        return {"activation": self.activation, "recurrent_activation": self.recurrent_activation}

    def _dropped(self, inputs, h, training):
        if training:
            mask = self.get_dropout_mask(inputs)
            inputs = inputs if mask is None else inputs * mask
            rmask = self.get_recurrent_dropout_mask(h)
            h = h if rmask is None else h * rmask
        return inputs, h

    def get_initial_state(self, batch_size=None):
        """Zeros of shape ``(batch_size, units)``, one per state."""
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        dtype = self.kernel.dtype if self.built else backend.floatx()
        return [ops.cast(backend.xp().zeros((batch_size, d)), dtype) for d in sizes]

    def get_config(self):
        config = {**super().get_config(), "units": self.units,
                  "activation": activations.serialize(self.activation),
                  "recurrent_activation": activations.serialize(self.recurrent_activation),
                  "use_bias": self.use_bias, **weight_arguments_config(self),
                  "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                  "seed": self.seed}
        return config


class SimpleRNNCell(_Cell):
    """One step of ``SimpleRNN``: ``h = activation(x @ kernel + bias + h_prev @ recurrent)``.

    Parameters
    ----------
    units : int
    activation : str or callable, default "tanh"
    **kwargs
        ``use_bias``, the initializers, regularizers and constraints, ``dropout``,
        ``recurrent_dropout``, ``seed``: as for :class:`~profond.layers.SimpleRNN`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RNN, SimpleRNNCell
    >>> RNN(SimpleRNNCell(4), return_sequences=True)(np.zeros((2, 5, 3))).shape
    (2, 5, 4)
    """

    _op = staticmethod(rnn_ops.simple_rnn)

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    @property
    def state_size(self):
        return self.units

    def call(self, inputs, states, training=None):
        h = _first(states)
        inputs, h = self._dropped(inputs, h, training)
        out = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            out = out + self.bias
        out = self.activation(out + ops.matmul(h, self.recurrent_kernel))
        return out, ([out] if isinstance(states, (list, tuple)) else out)

    def _fused_arguments(self):
        return {"activation": self.activation}

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation")
        return config


class LSTMCell(_Cell):
    """One step of ``LSTM``: gates ``i, f, c, o`` (Keras's order), states ``[h, c]``.

    Parameters
    ----------
    units : int
    activation : str or callable, default "tanh"
    recurrent_activation : str or callable, default "sigmoid"
    unit_forget_bias : bool, default True
    **kwargs
        ``use_bias``, the initializers, regularizers and constraints, ``dropout``,
        ``recurrent_dropout``, ``seed``: as for :class:`~profond.layers.LSTM`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import LSTMCell
    >>> cell = LSTMCell(4)
    >>> h, (h_again, c) = cell(np.zeros((2, 3)), [np.zeros((2, 4)), np.zeros((2, 4))])
    >>> h.shape, c.shape, cell.state_size
    ((2, 4), (2, 4), [4, 4])
    """

    _gates = 4
    _op = staticmethod(rnn_ops.lstm)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def call(self, inputs, states, training=None):
        h, c = states[0], states[1]
        inputs, h = self._dropped(inputs, h, training)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        zi, zf, zc, zo = ops.split(z, 4, axis=1)
        act = self.recurrent_activation
        c = act(zf) * c + act(zi) * self.activation(zc)
        h = act(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """One step of ``GRU``: gates ``z, r, h`` (Keras's order); with ``reset_after=True`` (the
    default, PyTorch's formula) the reset gate applies after the recurrent product and the bias
    is ``(2, 3 * units)`` (input and recurrent biases).

    Parameters
    ----------
    units : int
    activation : str or callable, default "tanh"
    recurrent_activation : str or callable, default "sigmoid"
    reset_after : bool, default True
    **kwargs
        ``use_bias``, the initializers, regularizers and constraints, ``dropout``,
        ``recurrent_dropout``, ``seed``: as for :class:`~profond.layers.GRU`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GRUCell
    >>> cell = GRUCell(4)
    >>> out, states = cell(np.zeros((2, 3)), [np.zeros((2, 4))])
    >>> out.shape, [w.shape for w in cell.get_weights()]
    ((2, 4), [(3, 12), (4, 12), (2, 12)])
    """

    _gates = 3
    _op = staticmethod(rnn_ops.gru)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs)
        self.reset_after = bool(reset_after)

    @property
    def state_size(self):
        return self.units

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=None):
        h = _first(states)
        inputs, h_dropped = self._dropped(inputs, h, training)
        u, act = self.units, self.recurrent_activation
        x = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            x = x + (self.bias[0] if self.reset_after else self.bias)
        xz, xr, xh = ops.split(x, 3, axis=1)
        if self.reset_after:
            inner = ops.matmul(h_dropped, self.recurrent_kernel)
            if self.bias is not None:
                inner = inner + self.bias[1]
            rz, rr, rh = ops.split(inner, 3, axis=1)
            z, r = act(xz + rz), act(xr + rr)
            rh = r * rh
        else:
            inner = ops.matmul(h_dropped, self.recurrent_kernel[:, :2 * u])
            rz, rr = ops.split(inner, 2, axis=1)
            z, r = act(xz + rz), act(xr + rr)
            rh = ops.matmul(r * h_dropped, self.recurrent_kernel[:, 2 * u:])
        candidate = self.activation(xh + rh)
        out = z * h + (1.0 - z) * candidate
        return out, ([out] if isinstance(states, (list, tuple)) else out)

    def _fused_arguments(self):
        return {**super()._fused_arguments(), "reset_after": self.reset_after}

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


class StackedRNNCells(Layer):
    """Several cells used as one: each step runs them in order, the output of one being the
    input of the next; the states are one list per cell.

    Parameters
    ----------
    cells : list of cells

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import RNN, LSTMCell, StackedRNNCells
    >>> stack = StackedRNNCells([LSTMCell(8), LSTMCell(4)])
    >>> RNN(stack)(np.zeros((2, 5, 3))).shape
    (2, 4)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        for cell in cells:
            if not callable(getattr(cell, "call", None)) or not hasattr(cell, "state_size"):
                raise ValueError(f"The 'cells' parameter of StackedRNNCells must hold cells "
                                 f"(with a call method and a state_size). Got {cell!r} "
                                 "instead.")
        if not cells:
            raise ValueError("The 'cells' parameter of StackedRNNCells must hold at least one "
                             "cell. Got none instead.")
        self.cells = cells

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        size = getattr(last, "output_size", None)
        if size is not None:
            return size
        return last.state_size[0] if isinstance(last.state_size, (list, tuple)) \
            else last.state_size

    def get_initial_state(self, batch_size=None):
        out = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                out.append(fn(batch_size=batch_size))
            else:
                sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) \
                    else [cell.state_size]
                out.append([ops.cast(backend.xp().zeros((batch_size, d)), backend.floatx())
                            for d in sizes])
        return out

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._build_input_shape = shape
                cell.build(shape)
                cell.built = True
            size = getattr(cell, "output_size", None)
            if size is None:
                size = cell.state_size[0] if isinstance(cell.state_size, (list, tuple)) \
                    else cell.state_size
            shape = shape[:-1] + (size,)
        self.built = True

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            as_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if as_list else [cell_states]
            inputs, cell_states = cell(inputs, cell_states, training=training)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            new_states.append(cell_states if as_list or len(cell_states) > 1
                              else cell_states[0])
        return inputs, new_states

    def reset_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_dropout_mask"):
                cell.reset_dropout_mask()

    def get_config(self):
        return {**super().get_config(), "cells": [serialize(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["cells"] = [deserialize(c) for c in config["cells"]]
        return cls(**config)
