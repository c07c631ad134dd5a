"""RNN with cells: the built-in cells' steps against the fused sequence kernels, gradients
against central differences (float64), stacked and user cells, masks, states, configs, errors."""

import numpy as np
import pytest
from _opcheck import draw

import profond
from profond import layers, ops
from profond.layers.rnn_cells import StackedRNNCells
from profond.testing import gradcheck

CELLS = [lambda: layers.SimpleRNNCell(4), lambda: layers.LSTMCell(4),
         lambda: layers.GRUCell(4), lambda: layers.GRUCell(4, reset_after=False),
         lambda: layers.LSTMCell(4, unit_forget_bias=False, activation="relu")]


def _stepped(rnn):
    """Force the step-by-step path (the one user cells take) on a built-in cell."""
    rnn._fused = rnn._stepped
    return rnn


@pytest.mark.parametrize("make", CELLS)
@pytest.mark.parametrize("options", [dict(), dict(return_sequences=True),
                                     dict(go_backwards=True, return_sequences=True),
                                     dict(return_state=True)])
def test_a_cell_stepped_equals_the_fused_kernel(make, options):
    x = draw((3, 5, 2)).astype("float32")
    fused = layers.RNN(make(), **options)
    stepped = _stepped(layers.RNN(make(), **options))
    fused.build((None, 5, 2))
    stepped.build((None, 5, 2))
    stepped.set_weights(fused.get_weights())
    a, b = fused(x), stepped(x)
    for u, v in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        np.testing.assert_allclose(v.numpy(), u.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_rnn_of_a_cell_equals_its_layer(name):
    layer = getattr(layers, name)(3, return_sequences=True)
    rnn = layers.RNN(getattr(layers, name + "Cell")(3), return_sequences=True)
    x = draw((2, 4, 5)).astype("float32")
    layer.build((None, 4, 5))
    rnn.build((None, 4, 5))
    rnn.set_weights(layer.get_weights())
    np.testing.assert_allclose(rnn(x).numpy(), layer(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("make", CELLS)
def test_cells_gradients_match_finite_differences(make):
    cell = make()
    x = draw((2, 3, 2))
    cell.build((None, 2))
    weights = [w.astype(np.float64) for w in cell.get_weights()]
    n_states = 2 if isinstance(cell.state_size, list) else 1

    names = ["kernel", "recurrent_kernel", "bias"]
    saved = [getattr(cell, n) for n in names]

    def run(t, *ws):
        for name, w in zip(names, ws):  # the cell computes with the checked tensors
            setattr(cell, name, w)
        try:
            states = [t[:, 0, :1] * 0.0 + ops.matmul(t[:, 0], np.ones((2, 4)) * 0.1)] * n_states
            out = None
            for step in range(3):
                out, states = cell.call(t[:, step], states)
                states = states if isinstance(states, list) else [states]
            return out
        finally:
            for name, var in zip(names, saved):
                setattr(cell, name, var)
    assert gradcheck(run, x, *weights)


def test_masked_steps_keep_states_and_repeat_outputs():
    x = draw((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    for stepped in (False, True):
        rnn = layers.RNN(layers.LSTMCell(5), return_sequences=True, return_state=True)
        rnn = _stepped(rnn) if stepped else rnn
        profond.random.seed(0)
        rnn.build((None, 4, 3))
        seq, h, c = rnn(x, mask=mask)
        short = layers.RNN(layers.LSTMCell(5), return_state=True)
        short.build((None, 2, 3))
        short.set_weights(rnn.get_weights())
        _, h2, c2 = short(x[:1, :2])
        np.testing.assert_allclose(h.numpy()[0], h2.numpy()[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c.numpy()[0], c2.numpy()[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(seq.numpy()[0, 3], seq.numpy()[0, 1], rtol=1e-6)


def test_user_cell_trains_in_a_model():
    class MinimalCell(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = self.state_size = units

        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1], self.units), name="w")
            self.u = self.add_weight((self.units, self.units), initializer="orthogonal",
                                     name="u")

        def call(self, inputs, states):
            h = ops.tanh(ops.matmul(inputs, self.w) + ops.matmul(states[0], self.u))
            return h, [h]

    profond.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 6, 2)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("float32")
    model = profond.Sequential([layers.Input((6, 2)), layers.RNN(MinimalCell(8)),
                                layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=profond.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_stacked_cells_states_and_config():
    rnn = layers.RNN([layers.LSTMCell(6), layers.GRUCell(3)], return_state=True)
    out, lstm_states, gru_states = rnn(draw((2, 4, 5)).astype("float32"))
    assert out.shape == (2, 3) and [s.shape for s in lstm_states] == [(2, 6), (2, 6)]
    assert [s.shape for s in gru_states] == [(2, 3)]  # a one-item list, as Keras returns it
    np.testing.assert_array_equal(out.numpy(), gru_states[0].numpy())
    assert rnn.compute_output_shape((None, 4, 5)) == [(None, 3), [(None, 6), (None, 6)],
                                                      (None, 3)]
    clone = layers.RNN.from_config(rnn.get_config())
    assert isinstance(clone.cell, StackedRNNCells)
    assert [type(c).__name__ for c in clone.cell.cells] == ["LSTMCell", "GRUCell"]


def test_stateful_rnn_carries_states_between_batches():
    x = draw((2, 6, 3)).astype("float32")
    whole = layers.RNN(layers.GRUCell(4))
    whole.build((None, 6, 3))
    halves = layers.RNN(layers.GRUCell(4), stateful=True)
    halves.build((None, 3, 3))
    halves.set_weights(whole.get_weights())
    halves(x[:, :3])
    np.testing.assert_allclose(halves(x[:, 3:]).numpy(), whole(x).numpy(), rtol=1e-5)
    halves.reset_state()
    assert halves.states is None
    halves(x[:, :3])
    with pytest.raises(ValueError, match="stateful with batch size 2; got a batch of 1"):
        halves(x[:1, :3])


def test_initial_state_and_dropout_masks_once_per_sequence():
    cell = layers.SimpleRNNCell(4, dropout=0.5, seed=1)
    rnn = _stepped(layers.RNN(cell, return_sequences=True))
    x = np.ones((3, 5, 2), "float32")
    seen = []
    original = cell.get_dropout_mask
    cell.get_dropout_mask = lambda step: seen.append(original(step)) or seen[-1]
    rnn(x, training=True)
    assert len(seen) == 5 and all(m is seen[0] for m in seen)
    assert cell._masks == {}  # reset after the sequence
    h0 = np.full((3, 4), 0.5, "float32")
    a = layers.RNN(layers.SimpleRNNCell(4))
    a.build((None, 5, 2))
    b = _stepped(layers.RNN(layers.SimpleRNNCell(4)))
    b.build((None, 5, 2))
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(a(x, initial_state=[h0]).numpy(),
                               b(x, initial_state=[h0]).numpy(), rtol=1e-5)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.RNN("lstm"), "'cell' parameter of RNN must be a cell"),
    (lambda: layers.RNN(layers.Dense(3)), "'cell' parameter of RNN must be a cell"),
    (lambda: layers.StackedRNNCells([]), "at least one cell"),
    (lambda: layers.StackedRNNCells([layers.Dense(2)]), "'cells' parameter of StackedRNNCells"),
    (lambda: layers.LSTMCell(0), "'units' parameter of LSTMCell"),
    (lambda: layers.GRUCell(3, dropout=1.0), "'dropout' parameter of GRUCell"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_name_the_layer_and_shapes():
    rnn = layers.RNN(layers.LSTMCell(3))
    with pytest.raises(ValueError, match=r"'rnn.*' \(RNN\) must have shape \(batch, time, "
                                         r"features\)\. Got input shape \(2, 3\)"):
        rnn(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'initial_state' parameter .* must hold 2 state"):
        layers.RNN(layers.LSTMCell(3))(np.ones((2, 4, 3)), initial_state=[np.zeros((2, 3))])


def test_conv_lstm_gradients_and_training():
    layer = layers.ConvLSTM1D(2, 2, padding="same", return_sequences=True)
    x = draw((1, 3, 4, 2))
    layer.build((None, 3, 4, 2))
    cell = layer.cell
    names = ["kernel", "recurrent_kernel", "bias"]
    saved = [getattr(cell, n) for n in names]
    weights = [w.astype(np.float64) for w in layer.get_weights()]

    def run(t, *ws):
        for name, w in zip(names, ws):
            setattr(cell, name, w)
        try:
            return layer(t)
        finally:
            for name, var in zip(names, saved):
                setattr(cell, name, var)
    assert gradcheck(run, x, *weights)
    profond.random.seed(0)
    rng = np.random.default_rng(0)
    frames = rng.normal(size=(64, 4, 6, 6, 1)).astype("float32")
    y = (frames[:, -1].mean(axis=(1, 2, 3)) > 0).astype("float32")
    model = profond.Sequential([layers.Input((4, 6, 6, 1)), layers.ConvLSTM2D(4, 3),
                                layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=profond.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = model.fit(frames, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    with pytest.raises(ValueError, match=r"rank 5 \(batch, time, rows, cols, channels\)"):
        layers.ConvLSTM2D(2, 3)(np.ones((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"'kernel_size' parameter of ConvLSTMCell .* larger"):
        layers.ConvLSTM2D(2, 5)(np.ones((1, 2, 3, 3, 1)))


def test_conv_lstm_layer_equals_its_cell_stepped_with_dropout():
    # the layer's all-steps input convolution against the cell called step by step
    x = draw((3, 4, 5, 2)).astype("float32")
    layer = layers.ConvLSTM1D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.3, seed=4,
                              return_sequences=True)
    twin = layers.ConvLSTM1D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.3, seed=4,
                             return_sequences=True)
    layer.build((None, 4, 5, 2))
    twin.build((None, 4, 5, 2))
    twin.set_weights(layer.get_weights())
    twin._stepped = lambda *a, **k: layers.RNN._stepped(twin, *a, **k)
    np.testing.assert_allclose(layer(x, training=True).numpy(), twin(x, training=True).numpy(),
                               rtol=1e-5, atol=1e-6)
