"""Convolutional LSTM (Shi et al., 2015): ``ConvLSTM1D`` and ``ConvLSTM2D``, an LSTM whose
input and recurrent products are convolutions, so its states are feature maps (for sequences
of images: video frames, radar maps, spatio-temporal series).

The cell computes the four gates of a step with two convolutions (the input one with the
layer's strides, padding and dilation; the recurrent one with stride 1 and "same" padding),
each over all four gates at once, then LSTM's update. ``ConvLSTM1D``/``ConvLSTM2D`` run it
through :class:`profond.layers.RNN` (masks, ``return_sequences``, ``return_state``,
``go_backwards``, ``stateful`` as for any RNN). Weights in Keras's layout:
``kernel (*kernel_size, in, 4 * filters)``, ``recurrent_kernel (*kernel_size, filters,
4 * filters)``, ``bias (4 * filters,)``, gates in the order i, f, c, o.
"""

from __future__ import annotations

from profond import backend, ops, regularizers
from profond._validation import check_int
from profond.autograd.tensor import Tensor
from profond.layers._weight_arguments import add_configured_weight
from profond.layers.conv import check_data_format
from profond.layers.recurrent import bias_initializer_of
from profond.layers.rnn import RNN
from profond.layers.rnn_cells import _Cell
from profond.ops.conv import conv_output_length, normalize_tuple

__all__ = ["ConvLSTMCell", "ConvLSTM1D", "ConvLSTM2D"]

_CONV = {1: ops.conv1d, 2: ops.conv2d}


class ConvLSTMCell(_Cell):
    """One step of a convolutional LSTM over ``rank``-D channels-last feature maps.

    Parameters
    ----------
    rank : {1, 2}
    filters : int
    kernel_size, strides, dilation_rate : int or tuple
    padding : {"valid", "same"}
    data_format : None or "channels_last"
    activation, recurrent_activation : str or callable
    use_bias, unit_forget_bias : bool
    **kwargs
        The initializers, regularizers and constraints, ``dropout``, ``recurrent_dropout``,
        ``seed``: as for :class:`~profond.layers.LSTMCell`.
    """

    _gates = 4
    _op = None  # stepped by RNN: no fused sequence kernel

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True, unit_forget_bias=True,
                 **kwargs):
        owner = type(self).__name__
        self.rank = check_int(rank, "rank", owner, low=1, high=2)
        super().__init__(check_int(filters, "filters", owner, low=1), activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias,
                         **kwargs)
        self.filters = self.units
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, self.rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", owner)
        if padding not in ("valid", "same"):
            raise ValueError(f"The 'padding' parameter of {owner} must be 'valid' or 'same'. "
                             f"Got {padding!r} instead.")
        self.padding = padding
        self.data_format = check_data_format(data_format, owner)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = None  # known once the input's spatial size is

    @property
    def output_size(self):
        return self.filters

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2 or input_shape[-1] is None:
            raise ValueError(f"Input of cell '{self.name}' ({type(self).__name__}) must have "
                             f"rank {self.rank + 2} per step with known channels. Got step "
                             f"shape {input_shape} instead.")
        self.state_size = [self.output_shape_of(input_shape)[1:]] * 2
        width = 4 * self.filters
        self.kernel = add_configured_weight(self, "kernel",
                                            self.kernel_size + (input_shape[-1], width))
        self.recurrent_kernel = add_configured_weight(
            self, "recurrent", self.kernel_size + (self.filters, width),
            name="recurrent_kernel")
        self.bias = add_configured_weight(self, "bias", (width,),
                                          initializer=bias_initializer_of(self)) \
            if self.use_bias else None
        self.built = True

    def output_shape_of(self, step_shape):
        """The states' shape ``(batch, *spatial, filters)`` for inputs of ``step_shape``."""
        spatial = tuple(None if d is None else conv_output_length(d, k, s, self.padding, r)
                        for d, k, s, r in zip(step_shape[1:-1], self.kernel_size, self.strides,
                                              self.dilation_rate))
        if any(d is not None and d < 1 for d in spatial):
            raise ValueError(f"The 'kernel_size' parameter of {type(self).__name__} (cell "
                             f"'{self.name}') {self.kernel_size} is larger than the padded "
                             f"input of shape {tuple(step_shape)}.")
        return (step_shape[0],) + spatial + (self.filters,)

    def get_initial_state(self, batch_size=None):
        shape = (batch_size,) + tuple(self.state_size[0])
        return [Tensor(backend.xp().zeros(shape, dtype=self.kernel.dtype)) for _ in range(2)]

    def input_projection(self, inputs):
        """The four gates' input convolution of ``inputs`` (any number of maps: ``ConvLSTM``
        runs it once over every step of the sequence)."""
        return _CONV[self.rank](inputs, self.kernel, self.bias, strides=self.strides,
                                padding=self.padding, dilation_rate=self.dilation_rate)

    def call(self, inputs, states, training=None):
        if training:
            mask = self.get_dropout_mask(inputs)
            inputs = inputs if mask is None else inputs * mask
        return self.recurrent_step(self.input_projection(inputs), states, training)

    def recurrent_step(self, projected, states, training=None):
        """LSTM's update from the step's projected input and the previous states."""
        h, c = states[0], states[1]
        if training:
            mask = self.get_recurrent_dropout_mask(h)
            h = h if mask is None else h * mask
        z = projected + _CONV[self.rank](h, self.recurrent_kernel, None, strides=1,
                                         padding="same")
        zi, zf, zc, zo = ops.split(z, 4, axis=-1)
        act = self.recurrent_activation
        c = act(zf) * c + act(zi) * self.activation(zc)
        h = act(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = {**super().get_config(), "filters": self.filters,
                  "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                  "padding": self.padding, "data_format": self.data_format,
                  "dilation_rate": list(self.dilation_rate),
                  "unit_forget_bias": self.unit_forget_bias, "rank": self.rank}
        config.pop("units")
        return config


class _ConvLSTM(RNN):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        cell = ConvLSTMCell(
            self.rank, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            name=f"{type(self).__name__.lower()}_cell", dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.activity_regularizer = None if activity_regularizer is None else \
            regularizers.get(activity_regularizer)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 3:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             f"rank {self.rank + 3} (batch, time, "
                             f"{'steps' if self.rank == 1 else 'rows, cols'}, channels). Got "
                             f"input shape {input_shape} instead.")
        super().build(input_shape)

    @property
    def _output_size(self):
        return self.cell.filters

    def _stepped(self, inputs, states, mask, training, step=None):
        # The input convolution of every step at once, over (batch * time) maps, as the fused
        # recurrent kernels do with their input GEMM; the loop keeps the recurrent one only.
        cell = self.cell
        B, T = inputs.shape[:2]
        if training:  # one input dropout mask per sequence, the same at every step
            dropped = cell.get_dropout_mask(inputs[:, 0])
            inputs = inputs if dropped is None else inputs * ops.expand_dims(dropped, 1)
        projected = cell.input_projection(ops.reshape(inputs, (B * T,) + inputs.shape[2:]))
        projected = ops.reshape(projected, (B, T) + projected.shape[1:])
        return super()._stepped(projected, states, mask, training, step=cell.recurrent_step)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        state = self.cell.output_shape_of((input_shape[0],) + input_shape[2:])
        out = (input_shape[0], input_shape[1]) + state[1:] if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    def get_config(self):
        cell = self.cell.get_config()
        for key in ("name", "trainable", "dtype", "rank"):
            cell.pop(key, None)
        config = {k: v for k, v in super().get_config().items() if k != "cell"}
        return {**config, **cell, "activity_regularizer":
                None if self.activity_regularizer is None
                else regularizers.serialize(self.activity_regularizer)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ConvLSTM1D(_ConvLSTM):
    """Convolutional LSTM over sequences of 1-D maps ``(batch, time, steps, channels)``.

    Parameters are those of :class:`ConvLSTM2D`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ConvLSTM1D
    >>> ConvLSTM1D(4, 3, padding="same")(np.zeros((2, 5, 8, 3))).shape
    (2, 8, 4)
    """

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """Convolutional LSTM over sequences of images ``(batch, time, rows, cols, channels)``.

    Parameters
    ----------
    filters : int
    kernel_size, strides, dilation_rate : int or (int, int)
    padding : {"valid", "same"}, default "valid"
    data_format : None or "channels_last"
    activation, recurrent_activation : str or callable, default "tanh" and "sigmoid"
    use_bias, unit_forget_bias : bool, default True
    kernel_initializer, recurrent_initializer, bias_initializer : str or Initializer
    kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer : optional
    kernel_constraint, recurrent_constraint, bias_constraint : optional
    dropout, recurrent_dropout : float in [0, 1), default 0
        As for :class:`~profond.layers.LSTM` (one dropout mask for the four gates).
    seed : int, optional
    return_sequences, return_state, go_backwards, stateful, unroll : bool, default False
        As for :class:`~profond.layers.RNN`.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ConvLSTM2D
    >>> layer = ConvLSTM2D(4, 3, return_sequences=True)
    >>> layer(np.zeros((2, 5, 8, 8, 3))).shape
    (2, 5, 6, 6, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 3, 16), (3, 3, 4, 16), (16,)]
    """

    rank = 2
