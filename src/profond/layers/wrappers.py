"""Layer wrappers: the ``Wrapper`` base class, ``Bidirectional`` (read a sequence both ways)
and ``TimeDistributed``."""

from __future__ import annotations

from profond import ops
from profond._validation import check_choice
from profond.autograd.tensor import Tensor
from profond.layers.base import Layer
from profond.layers.masks import set_mask
from profond.layers.serialization import deserialize, serialize

__all__ = ["Wrapper", "Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _copy_layer(layer, **changes):
    """A fresh layer of the same class and configuration (weights not shared)."""
    return type(layer).from_config({**layer.get_config(), **changes})


class Wrapper(Layer):
    """Base class of the layers that take another layer and change how it is applied
    (``TimeDistributed``, ``SpectralNormalization``); it holds the layer, builds it, and saves
    it inside its own config.

    Parameters
    ----------
    layer : Layer

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Dense, Wrapper
    >>> class Twice(Wrapper):
    ...     def call(self, inputs):
    ...         return self.layer(self.layer(inputs))
    >>> Twice(Dense(3))(np.ones((2, 3))).shape
    (2, 3)
    """

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(f"The 'layer' parameter of {type(self).__name__} must be a Layer. "
                            f"Got {layer!r} instead.")
        self.layer = layer

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._build_input_shape = input_shape
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self):
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        return cls(**config)


class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy of it backwards, and merge their outputs.

    Each step of the output then sees the whole sequence: what came before it (forward layer)
    and what comes after it (backward layer). As in Keras, the wrapped layer is used as a
    template: ``forward_layer`` and ``backward_layer`` are new layers with its configuration
    (the backward one with ``go_backwards`` flipped), and the weights are the forward layer's
    then the backward layer's.

    Parameters
    ----------
    layer : SimpleRNN, GRU or LSTM (or any layer with ``go_backwards``)
    merge_mode : {"concat", "sum", "mul", "ave", None}, default "concat"
        How the two outputs are combined; None returns them as a list ``[forward, backward]``.
    backward_layer : Layer, optional
        A layer to use instead of the copy (it must read backwards and agree with ``layer`` on
        ``return_sequences``, ``return_state`` and ``stateful``).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import LSTM, Bidirectional
    >>> bi = Bidirectional(LSTM(4, return_sequences=True))
    >>> bi(np.zeros((2, 7, 3))).shape
    (2, 7, 8)
    >>> len(bi.get_weights())
    6
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards"):
            raise ValueError(f"The 'layer' parameter of Bidirectional must be a recurrent layer "
                             f"(SimpleRNN, GRU, LSTM). Got {layer!r} instead.")
        self.merge_mode = check_choice(merge_mode, "merge_mode", "Bidirectional", _MERGE_MODES)
        base = layer.name.removeprefix("forward_")
        self.forward_layer = _copy_layer(layer, name="forward_" + base)
        if backward_layer is None:
            backward_layer = _copy_layer(layer, name="backward_" + base,
                                         go_backwards=not layer.go_backwards)
        elif not isinstance(backward_layer, Layer):
            raise ValueError(f"The 'backward_layer' parameter of Bidirectional must be a Layer. "
                             f"Got {backward_layer!r} instead.")
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError("The 'layer' and 'backward_layer' parameters of Bidirectional must "
                             "have different 'go_backwards' values. Got "
                             f"{self.forward_layer.go_backwards} for both instead.")
        for attr in ("return_sequences", "return_state", "stateful"):
            a, b = getattr(self.forward_layer, attr), getattr(self.backward_layer, attr)
            if a != b:
                raise ValueError(f"The 'layer' and 'backward_layer' parameters of Bidirectional "
                                 f"must agree on '{attr}'. Got {a} (forward) and {b} (backward) "
                                 "instead.")
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = self.forward_layer.stateful
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):  # padded steps must not leak across
                sub.zero_output_for_mask = sub.return_sequences
        self.supports_masking = True
        self._initial_weights = weights

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub._build_input_shape = tuple(input_shape)
                sub.build(tuple(input_shape))
                sub.built = True
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs, initial_state=None, mask=None, training=None):
        fw_state = bw_state = None
        if initial_state is not None:
            states = list(initial_state)
            if len(states) % 2:
                raise ValueError(f"The 'initial_state' parameter of layer '{self.name}' "
                                 f"(Bidirectional) must hold as many initial states for the "
                                 f"forward as for the backward layer. Got {len(states)} states "
                                 "instead.")
            half = len(states) // 2
            fw_state, bw_state = states[:half], states[half:]
        y = self.forward_layer(inputs, initial_state=fw_state, mask=mask, training=training)
        y_rev = self.backward_layer(inputs, initial_state=bw_state, mask=mask,
                                    training=training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:  # back to the input's time order
            y_rev = ops.getitem(y_rev, (slice(None), slice(None, None, -1)))
        mode = self.merge_mode
        if mode == "concat":
            output = ops.concatenate([y, y_rev], axis=-1)
        elif mode == "sum":
            output = y + y_rev
        elif mode == "ave":
            output = (y + y_rev) * 0.5
        elif mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        out_mask = mask if self.return_sequences else None
        if out_mask is not None:
            for o in output if isinstance(output, list) else [output]:
                set_mask(o, out_mask)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_mask(self, inputs, mask=None):
        if self.return_sequences and not self.return_state and self.merge_mode is not None:
            return mask
        return None

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(tuple(input_shape))
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        shape = tuple(shape)
        if self.merge_mode == "concat":
            out = shape[:-1] + (2 * shape[-1],)
        elif self.merge_mode is None:
            out = [shape, shape]
        else:
            out = shape
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states + states
        return out

    def reset_state(self):
        """Forget the states kept by stateful forward and backward layers."""
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def get_config(self):

        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize(self.forward_layer),
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config):

        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"])
        return cls(**config)


class TimeDistributed(Wrapper):
    """Apply a layer to every time step: ``(batch, time, ...)`` to ``(batch, time, ...)``.

    The time axis is folded into the batch, so the wrapped layer runs once on
    ``(batch * time, ...)`` with one set of weights shared by all steps. A time mask passes
    through.

    Parameters
    ----------
    layer : Layer
        Applied to each step, e.g. ``Dense`` or ``Conv2D``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Dense, TimeDistributed
    >>> TimeDistributed(Dense(5))(np.zeros((2, 7, 3))).shape
    (2, 7, 5)
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _step_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"Input of layer '{self.name}' (TimeDistributed) must have shape "
                             f"(batch, time, ...). Got input shape {tuple(input_shape)} instead.")
        return (None,) + tuple(input_shape[2:])

    def build(self, input_shape):
        super().build(self._step_shape(input_shape))

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._step_shape(shape)
        B, T = shape[:2]
        y = self.layer(ops.reshape(inputs, (B * T,) + shape[2:]), training=training)
        if not isinstance(y, Tensor):
            raise TypeError(f"Layer '{self.name}' (TimeDistributed) needs a layer with one "
                            "output.")
        return ops.reshape(y, (B, T) + tuple(y.shape[1:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape(self._step_shape(input_shape))
        return tuple(input_shape[:2]) + tuple(inner[1:])
