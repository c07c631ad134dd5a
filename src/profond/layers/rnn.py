"""``RNN``: run any recurrent cell over a sequence (Keras 3's layer and cell contract).

A lone built-in cell (``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``) runs as one fused node of
:mod:`profond.ops.recurrent`, exactly as ``SimpleRNN``/``GRU``/``LSTM`` do; any other cell (a
user's own, or ``StackedRNNCells``) is called step by step and differentiated through
profond's autograd. Masked steps keep the previous states and repeat the previous output
(zeros with ``zero_output_for_mask``), as in Keras.
"""

from __future__ import annotations

from profond import backend, ops
from profond._structure import map_structure
from profond.autograd.tensor import Tensor
from profond.layers.base import Layer
from profond.layers.recurrent import SequenceOutputs
from profond.layers.rnn_cells import StackedRNNCells
from profond.layers.serialization import deserialize, serialize

__all__ = ["RNN"]


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


def _zip_map(fn, a, b):
    if isinstance(a, (list, tuple)):
        return [_zip_map(fn, x, y) for x, y in zip(a, b)]
    return fn(a, b)


class RNN(SequenceOutputs, Layer):
    """Apply a recurrent cell to every step of a sequence ``(batch, time, features)``.

    Parameters
    ----------
    cell : cell or list of cells
        An object with ``call(inputs, states, training=None) -> (output, new_states)`` and a
        ``state_size`` (int or list of ints), usually a :class:`~profond.layers.Layer`; a list
        is stacked (:class:`StackedRNNCells`).
    return_sequences : bool, default False
        Return every step's output ``(batch, time, output_size)``, not only the last.
    return_state : bool, default False
        Also return the final states: ``[output, *states]``.
    go_backwards : bool, default False
        Read the sequence from its end (the output sequence is then in reading order).
    stateful : bool, default False
        Start each batch from the final states of the previous one.
    unroll : bool, default False
        Accepted as in Keras (the step loop runs in Python either way).
    zero_output_for_mask : bool, default False
        Output zeros, instead of the previous output, at masked steps.

    Examples
    --------
    A cell of one's own:

    >>> import numpy as np
    >>> from profond import layers, ops
    >>> class MinimalCell(layers.Layer):
    ...     def __init__(self, units, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.units = self.state_size = units
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight((input_shape[-1], self.units), name="w")
    ...         self.u = self.add_weight((self.units, self.units), name="u")
    ...     def call(self, inputs, states):
    ...         h = ops.matmul(inputs, self.w) + ops.matmul(states[0], self.u)
    ...         return h, [h]
    >>> layers.RNN(MinimalCell(4), return_sequences=True)(np.ones((2, 5, 3))).shape
    (2, 5, 4)
    >>> layers.RNN([layers.GRUCell(8), layers.LSTMCell(4)])(np.ones((2, 5, 3))).shape
    (2, 4)
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)) or not hasattr(cell, "state_size"):
            raise ValueError("The 'cell' parameter of RNN must be a cell: an object with a call "
                             "method and a state_size (an int, or one per state). Got "
                             f"{cell!r} instead.")
        size = cell.state_size  # None until built for cells whose states follow the input
        if size is not None and not isinstance(size, (int, list, tuple)):
            raise ValueError(f"The 'state_size' of the cell of RNN must be an int or a list of "
                             f"ints. Got {size!r} instead.")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None

    @property
    def state_size(self):
        size = self.cell.state_size
        return [size] if isinstance(size, int) else list(size)

    @property
    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        if size is not None:
            return size
        first = self.state_size[0]
        return first[0] if isinstance(first, (list, tuple)) else first

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(f"Input of layer '{self.name}' (RNN) must have shape (batch, "
                             f"time, features). Got input shape {input_shape} instead.")
        step = (input_shape[0],) + input_shape[2:]
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._build_input_shape = step
            self.cell.build(step)
            self.cell.built = True
        self.built = True

    # --- states -----------------------------------------------------------------------------
    def get_initial_state(self, batch_size):
        """The cell's initial states for ``batch_size`` sequences (zeros by default)."""
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            states = fn(batch_size=batch_size)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        dtype = backend.floatx()
        return [Tensor(backend.xp().zeros((batch_size, d), dtype=dtype))
                for d in self.state_size]

    def _initial_state(self, inputs, initial_state):
        B = inputs.shape[0]
        if initial_state is None and self.stateful and self.states is not None:
            kept = _leaves(self.states)[0]
            if kept.shape[0] != B:
                raise ValueError(f"Layer '{self.name}' (RNN) is stateful with batch size "
                                 f"{kept.shape[0]}; got a batch of {B}. Call reset_state() "
                                 "or keep the batch size fixed.")
            return map_structure(Tensor._make, self.states)
        if initial_state is None:
            return self.get_initial_state(B)
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
            else [initial_state]
        expected = len(self.state_size)
        if len(states) != expected:
            raise ValueError(f"The 'initial_state' parameter of layer '{self.name}' (RNN) must "
                             f"hold {expected} state(s) (the cell's state_size is "
                             f"{self.cell.state_size}). Got {len(states)} instead.")
        return map_structure(lambda s: s if isinstance(s, Tensor) else Tensor(s), states)

    # --- the loop -----------------------------------------------------------------------------
    def _fused(self, inputs, states, mask, training):
        cell = self.cell
        B = inputs.shape[0]
        dmask = rmask = None
        if training:
            dmask = cell._mask("input", cell.dropout, (B, inputs.shape[-1]), cell.kernel.dtype)
            rmask = cell._mask("recurrent", cell.recurrent_dropout, (B, cell.units),
                               cell.kernel.dtype)
        output, new = cell._op(inputs, cell.kernel, cell.recurrent_kernel, cell.bias, states,
                               mask, go_backwards=self.go_backwards,
                               return_sequences=self.return_sequences,
                               zero_output_for_mask=self.zero_output_for_mask,
                               dropout_mask=dmask, recurrent_dropout_mask=rmask,
                               **cell._fused_arguments())
        return output, list(new)

    def _stepped(self, inputs, states, mask, training, step=None):
        """The cell called at each step (``step(inputs[:, t], states, **kwargs)``: the cell's
        ``__call__`` by default)."""
        T = inputs.shape[1]
        kwargs = {"training": training} if isinstance(self.cell, Layer) or step else {}
        if step is None:
            step = self.cell if isinstance(self.cell, Layer) else self.cell.call
        previous, outputs = None, []
        xp = inputs.xp
        for t in (range(T - 1, -1, -1) if self.go_backwards else range(T)):
            output, new = step(inputs[:, t], states, **kwargs)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if mask is not None:
                keep = xp.asarray(mask[:, t])[:, None]
                new = _zip_map(lambda n, o, k=keep: ops.where(k, n, o), new, states)
                if previous is None or self.zero_output_for_mask:
                    previous = output * 0.0
                output = ops.where(keep, output, previous)
            states, previous = new, output
            if self.return_sequences:
                outputs.append(output)
        return (ops.stack(outputs, axis=1) if self.return_sequences else previous), states

    def call(self, inputs, initial_state=None, mask=None, training=None):
        if inputs.ndim < 3:
            raise ValueError(f"Input of layer '{self.name}' (RNN) must have shape (batch, "
                             f"time, features). Got input shape {tuple(inputs.shape)} instead.")
        if mask is not None and tuple(mask.shape) != tuple(inputs.shape[:2]):
            raise ValueError(f"The 'mask' parameter of layer '{self.name}' (RNN) must have "
                             f"shape (batch, time) = {tuple(inputs.shape[:2])}. Got "
                             f"{tuple(mask.shape)} instead.")
        states = self._initial_state(inputs, initial_state)
        fused = getattr(self.cell, "_op", None) is not None and inputs.ndim == 3 \
            and not isinstance(self.cell, StackedRNNCells)
        try:
            run = self._fused if fused else self._stepped
            output, states = run(inputs, states, mask, training)
        finally:
            if hasattr(self.cell, "reset_dropout_mask"):
                self.cell.reset_dropout_mask()
        return self._sequence_outputs(output, states, mask)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        out = (batch, input_shape[1], self._output_size) if self.return_sequences \
            else (batch, self._output_size)
        if not self.return_state:
            return out
        states = [[(batch, d) for d in s] if isinstance(s, (list, tuple)) else (batch, s)
                  for s in self.state_size]
        return [out, *states]

    def get_config(self):
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "cell": serialize(self.cell)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["cell"] = deserialize(config["cell"])
        return cls(**config)
