"""Recurrent layers: ``SimpleRNN``, ``GRU`` and ``LSTM`` with Keras 3's arguments and weights.

A recurrent layer reads a sequence ``(batch, time, features)`` one step at a time and keeps a
state: a short-term memory of what it has read. ``SimpleRNN`` overwrites its state at every
step, so what it saw long ago fades (its gradients vanish through time); ``GRU`` and ``LSTM``
add gates that decide what to forget and what to keep, and carry information over long spans.

Each layer runs the whole sequence as one fused node of :mod:`profond.ops.recurrent` (one GEMM
for the input projections of all steps, one recurrent GEMM per step, weight gradients gathered
in one GEMM over all steps).

Masks (from ``Embedding(mask_zero=True)`` or ``Masking``) are honoured as in Keras: at a padded
step the states keep their values and the output repeats the previous one (zeros inside
``Bidirectional`` with ``return_sequences``); the output mask is passed on only with
``return_sequences=True``.
"""

from __future__ import annotations

from profond import activations, backend
from profond import random as prandom
from profond._validation import check_float, check_int
from profond._structure import map_structure
from profond.autograd.tensor import Tensor
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_weight_arguments,
    weight_arguments_config,
)
from profond.layers.base import Layer
from profond.layers.masks import set_mask
from profond.ops import recurrent as rnn_ops

__all__ = ["GRU", "LSTM", "SimpleRNN", "SequenceOutputs", "bias_initializer_of",
           "store_recurrent_arguments"]



class _UnitForgetBias:
    """LSTM bias initializer: ``bias_initializer`` everywhere but ones for the forget gate.

    Jozefowicz et al., "An empirical exploration of recurrent network architectures" (2015).
    """

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        xp, u = backend.xp(), self.units
        dtype = dtype or backend.floatx()
        return xp.concatenate([self.base((u,), dtype=dtype), xp.ones((u,), dtype=dtype),
                               self.base((2 * u,), dtype=dtype)])


def bias_initializer_of(layer):
    """The initializer of a recurrent layer's or cell's bias: with ``unit_forget_bias`` (the
    LSTM kinds), ones on the forget gate's block."""
    if getattr(layer, "unit_forget_bias", False):
        return _UnitForgetBias(layer.bias_initializer, layer.units)
    return layer.bias_initializer


def store_recurrent_arguments(layer, units, activation, recurrent_activation, use_bias, dropout,
                              recurrent_dropout, seed, **weights):
    """Check and store what every recurrent layer and cell takes (``weights``: the
    ``kernel``/``recurrent``/``bias`` argument triples and, for layers, the activity
    regularizer, as :func:`store_weight_arguments` takes them)."""
    owner = type(layer).__name__
    layer.units = check_int(units, "units", owner, low=1)
    layer.activation = activations.get(activation)
    layer.recurrent_activation = activations.get(recurrent_activation)
    layer.use_bias = bool(use_bias)
    store_weight_arguments(layer, **weights)
    layer.dropout = check_float(dropout, "dropout", owner, low=0.0, high=1.0, high_open=True)
    layer.recurrent_dropout = check_float(recurrent_dropout, "recurrent_dropout", owner,
                                          low=0.0, high=1.0, high_open=True)
    layer.seed = check_int(seed, "seed", owner, low=0, allow_none=True)
    layer._rng = prandom.generator(layer.seed) if layer.seed is not None else None


class SequenceOutputs:
    """What a layer reading a whole sequence does with its result, for ``SimpleRNN``/``GRU``/
    ``LSTM`` and ``RNN``: keep the final states when ``stateful``, return
    ``[output, *states]`` with ``return_state``, and pass the time mask on only with
    ``return_sequences``."""

    def _sequence_outputs(self, output, states, mask):
        if self.stateful:
            self.states = map_structure(lambda s: s.data.copy(), states)
        if not self.return_state:
            return output
        if mask is not None and self.return_sequences:
            set_mask(output, mask)
        return [output, *states]

    def compute_mask(self, inputs, mask=None):
        if mask is None or not self.return_sequences or self.return_state:
            return None
        return mask

    def reset_state(self):
        """Forget the states kept between batches by a ``stateful`` layer."""
        self.states = None

    reset_states = reset_state


class _Recurrent(SequenceOutputs, Layer):
    """What SimpleRNN, GRU and LSTM share: arguments, weights, checks, states and masks."""

    _gates = 1       # gate blocks in the kernels: 1 (SimpleRNN), 3 (GRU), 4 (LSTM)
    _n_states = 1    # 1 (h) or 2 (h, c)
    _op = None       # the fused sequence op of profond.ops.recurrent

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 **kwargs):
        super().__init__(**kwargs)
        store_recurrent_arguments(
            self, units, activation, recurrent_activation, use_bias, dropout, recurrent_dropout,
            seed, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
            activity_regularizer=activity_regularizer)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # Keras's hint; the fused loop never needs unrolling
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None
        self.input_dim = None

    # --- weights -----------------------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(self._rank_message(input_shape))
        self.input_dim = int(input_shape[-1])
        width = self._gates * self.units
        self.kernel = add_configured_weight(self, "kernel", (self.input_dim, width))
        self.recurrent_kernel = add_configured_weight(self, "recurrent", (self.units, width),
                                                      name="recurrent_kernel")
        self.bias = add_configured_weight(self, "bias", self._bias_shape(),
                                          initializer=bias_initializer_of(self)) \
            if self.use_bias else None
        self.built = True

    # --- calling -------------------------------------------------------------------------------
    def _where(self):
        return f"Layer '{self.name}' ({type(self).__name__})"

    def _rank_message(self, shape):
        hint = "; add a feature axis, e.g. x[..., None]" if len(shape) == 2 else ""
        return (f"Input of layer '{self.name}' ({type(self).__name__}) must have shape (batch, "
                f"time, features). Got input shape {tuple(shape)} instead{hint}.")

    def _check_inputs(self, inputs, initial_state, mask):
        if inputs.ndim != 3:
            raise ValueError(self._rank_message(tuple(inputs.shape)))
        B, T, F = inputs.shape
        if F != self.input_dim:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             f"{self.input_dim} features per step, as when it was built. Got "
                             f"inputs of shape {tuple(inputs.shape)} instead.")
        if mask is not None:
            m_shape = tuple(getattr(mask, "shape", ()))
            if m_shape != (B, T):
                raise ValueError(f"The 'mask' parameter of {self._where()} must have shape "
                                 f"(batch, time) = {(B, T)} for inputs of shape "
                                 f"{tuple(inputs.shape)}. Got a mask of shape {m_shape} instead.")
        if initial_state is None:
            return None
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
            else [initial_state]
        if len(states) != self._n_states:
            raise ValueError(f"The 'initial_state' parameter of {self._where()} must hold "
                             f"{self._n_states} state(s) "
                             f"({'[h, c]' if self._n_states == 2 else '[h]'}). Got "
                             f"{len(states)} initial state(s) instead.")
        out = []
        for i, s in enumerate(states):
            s = s if isinstance(s, Tensor) else Tensor(s)
            if tuple(s.shape) != (B, self.units):
                raise ValueError(f"The 'initial_state' parameter of {self._where()} must hold "
                                 f"states of shape (batch, units) = {(B, self.units)}. Got "
                                 f"{tuple(s.shape)} for initial state {i} instead.")
            out.append(s)
        return out

    def _dropout_masks(self, B, training):
        if not training:
            return None, None
        rng = self._rng if self._rng is not None else prandom.generator()
        dtype = self.kernel.dtype

        def draw(rate, width):
            if rate <= 0.0:
                return None
            keep = rng.random((B, width)) >= rate
            return backend.asarray(keep / (1.0 - rate), dtype=dtype)

        return draw(self.dropout, self.input_dim), draw(self.recurrent_dropout, self.units)

    def _cell_arguments(self):
        """The arguments of this cell's op beyond those every recurrent op takes."""
        return {"recurrent_activation": self.recurrent_activation}

    def _run(self, inputs, initial_state, mask, dropout_mask, recurrent_dropout_mask):
        return self._op(
            inputs, self.kernel, self.recurrent_kernel, self.bias, initial_state, mask,
            activation=self.activation, go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
            zero_output_for_mask=self.zero_output_for_mask, dropout_mask=dropout_mask,
            recurrent_dropout_mask=recurrent_dropout_mask, **self._cell_arguments())

    def call(self, inputs, initial_state=None, mask=None, training=None):
        initial_state = self._check_inputs(inputs, initial_state, mask)
        B = inputs.shape[0]
        if initial_state is None and self.stateful and self.states is not None:
            if self.states[0].shape[0] != B:
                raise ValueError(f"{self._where()} is stateful with batch size "
                                 f"{self.states[0].shape[0]}; got a batch of {B}. Call "
                                 "reset_state() or keep the batch size fixed.")
            initial_state = [Tensor._make(s) for s in self.states]
        dmask, rmask = self._dropout_masks(B, training)
        output, states = self._run(inputs, initial_state, mask, dmask, rmask)
        return self._sequence_outputs(output, states, mask)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        out = (batch, input_shape[1], self.units) if self.return_sequences \
            else (batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * self._n_states
        return out

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias, **weight_arguments_config(self),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}




class SimpleRNN(_Recurrent):
    """Fully connected recurrent layer: ``h_t = activation(x_t @ kernel + h_{t-1} @ U + b)``.

    Weights in Keras order: ``[kernel (in, units), recurrent_kernel (units, units),
    bias (units,)]``.

    Parameters
    ----------
    units : int
    activation : str or callable, default "tanh"
    **kwargs
        The arguments every recurrent layer shares, described under :class:`LSTM`:
        initializers, regularizers, constraints, ``dropout``, ``recurrent_dropout``, ``seed``,
        ``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``, ``unroll``,
        ``zero_output_for_mask``; and those of :class:`~profond.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import SimpleRNN
    >>> layer = SimpleRNN(4)
    >>> layer(np.zeros((2, 7, 3))).shape
    (2, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 4), (4, 4), (4,)]
    """

    _gates = 1
    _n_states = 1
    _op = staticmethod(rnn_ops.simple_rnn)

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def _cell_arguments(self):
        return {}

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation")
        return config


class LSTM(_Recurrent):
    """Long short-term memory layer (Hochreiter & Schmidhuber, 1997).

    Gates in Keras's order ``i, f, c, o``; weights ``[kernel (in, 4u), recurrent_kernel
    (u, 4u), bias (4u,)]``; states ``[h, c]``. See :func:`profond.ops.lstm` for the equations.

    Parameters
    ----------
    units : int
    activation : str or callable, default "tanh"
        Of the candidate and of the cell state before the output gate.
    recurrent_activation : str or callable, default "sigmoid"
        Of the gates.
    unit_forget_bias : bool, default True
        Start the forget gate's bias at 1 (Jozefowicz et al., 2015), so that the cell
        remembers by default.
    use_bias : bool, default True
    kernel_initializer : str or Initializer, default "glorot_uniform"
    recurrent_initializer : str or Initializer, default "orthogonal"
    bias_initializer : str or Initializer, default "zeros"
    kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer : optional
    kernel_constraint, recurrent_constraint, bias_constraint : callable, optional
    dropout : float in [0, 1), default 0
        Fraction of the input features dropped in training (one mask per sequence, the same
        at every step: Gal & Ghahramani, 2016).
    recurrent_dropout : float in [0, 1), default 0
        Fraction of the previous state dropped before the recurrent product, in training.
    seed : int, optional
        Seed of the dropout masks.
    return_sequences : bool, default False
        Return the output of every step ``(batch, time, units)``, not only the last one.
    return_state : bool, default False
        Also return the final states: ``[output, h]`` (``[output, h, c]`` for LSTM).
    go_backwards : bool, default False
        Read the sequence from its end (the output sequence is then reversed, as in Keras).
    stateful : bool, default False
        Start each batch from the final states of the previous one (fixed batch size).
    unroll : bool, default False
        Accepted for Keras compatibility; the fused loop is already unrolled in effect.
    zero_output_for_mask : bool, default False
        Output zeros, instead of the previous output, at masked steps.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import LSTM
    >>> layer = LSTM(4, return_sequences=True, return_state=True)
    >>> seq, h, c = layer(np.zeros((2, 7, 3)))
    >>> seq.shape, h.shape, c.shape
    ((2, 7, 4), (2, 4), (2, 4))
    >>> [w.shape for w in layer.get_weights()]
    [(3, 16), (4, 16), (16,)]
    >>> layer.bias.numpy()[4:8]
    array([1., 1., 1., 1.], dtype=float32)
    """

    _gates = 4
    _n_states = 2
    _op = staticmethod(rnn_ops.lstm)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al., 2014).

    Gates in Keras's order ``z, r, h``; weights ``[kernel (in, 3u), recurrent_kernel (u, 3u),
    bias]`` with bias ``(2, 3u)`` (input and recurrent biases) when ``reset_after=True``, the
    default and PyTorch's formula, else ``(3u,)``. See :func:`profond.ops.gru`.

    Parameters
    ----------
    units : int
    activation : str or callable, default "tanh"
        Of the candidate state.
    recurrent_activation : str or callable, default "sigmoid"
        Of the update and reset gates.
    reset_after : bool, default True
        Apply the reset gate after the recurrent product (True) or before (False).
    **kwargs
        The arguments every recurrent layer shares, described under :class:`LSTM`:
        initializers, regularizers, constraints, ``dropout``, ``recurrent_dropout``, ``seed``,
        ``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``, ``unroll``,
        ``zero_output_for_mask``; and those of :class:`~profond.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GRU
    >>> layer = GRU(4)
    >>> layer(np.zeros((2, 7, 3))).shape
    (2, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 12), (4, 12), (2, 12)]
    """

    _gates = 3
    _n_states = 1
    _op = staticmethod(rnn_ops.gru)

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _cell_arguments(self):
        return {**super()._cell_arguments(), "reset_after": self.reset_after}

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}
