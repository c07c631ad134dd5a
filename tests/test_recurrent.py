"""SimpleRNN, GRU, LSTM: gradients through time, Keras semantics (masks, states, directions),
weights, configuration and errors."""

import numpy as np
import pytest

import profond
from profond import backend, layers, ops
from profond.testing import gradcheck

B, T, F, U = 2, 4, 3, 3
CELLS = {"simple_rnn": (ops.simple_rnn, 1, 1), "gru": (ops.gru, 3, 1),
         "gru_reset_before": (ops.gru, 3, 1), "lstm": (ops.lstm, 4, 2)}


def _params(name, rng, scale=0.6):
    gates = CELLS[name][1]
    bias_shape = (2, 3 * U) if name == "gru" else (gates * U,)
    return [rng.normal(size=(F, gates * U)) * scale, rng.normal(size=(U, gates * U)) * scale,
            rng.normal(size=bias_shape) * scale]


def _op(name, **kw):
    fn, _, _ = CELLS[name]
    if name == "gru_reset_before":
        kw["reset_after"] = False
    return fn, kw


def _total(output, states):
    """A scalar mixing every output element and every final state with fixed random weights."""
    rng = np.random.default_rng(7)
    total = (output * rng.normal(size=output.shape)).sum()
    for s in states:
        total = total + (s * rng.normal(size=s.shape)).sum()
    return total


def _mask():
    m = np.ones((B, T), dtype=bool)
    m[0, 2:] = False      # right padding
    m[1, 0] = False       # a masked first step
    return m


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("go_backwards, return_sequences, masked", [
    (False, False, False), (False, True, True), (True, False, True), (True, True, False)])
def test_gradcheck_through_time(name, go_backwards, return_sequences, masked, rng):
    fn, kw = _op(name, go_backwards=go_backwards, return_sequences=return_sequences,
                 mask=_mask() if masked else None)
    n_states = CELLS[name][2]
    x = rng.normal(size=(B, T, F))
    states = [rng.normal(size=(B, U)) * 0.5 for _ in range(n_states)]

    def f(x, k, r, b, *init):
        output, final = fn(x, k, r, b, initial_state=list(init), **kw)
        return _total(output, final)

    assert gradcheck(f, x, *_params(name, rng), *states)


@pytest.mark.parametrize("name", ["simple_rnn", "lstm", "gru", "gru_reset_before"])
def test_gradcheck_dropout_masks_and_zero_output(name, rng):
    fn, kw = _op(name, return_sequences=True, zero_output_for_mask=True, mask=_mask())
    drop = (rng.random((B, F)) > 0.3) / 0.7
    rdrop = (rng.random((B, U)) > 0.3) / 0.7

    def f(x, k, r, b):
        output, final = fn(x, k, r, b, dropout_mask=drop, recurrent_dropout_mask=rdrop, **kw)
        return _total(output, final)

    assert gradcheck(f, rng.normal(size=(B, T, F)), *_params(name, rng))


@pytest.mark.parametrize("name, activation", [
    ("simple_rnn", "relu"), ("simple_rnn", "softsign"), ("lstm", "linear"),
    ("lstm", "softsign"), ("gru", "relu"), ("gru", "hard_sigmoid")])
def test_gradcheck_other_activations(name, activation, rng):
    fn, kw = _op(name, activation=activation, return_sequences=True)
    if name != "simple_rnn":
        kw["recurrent_activation"] = "hard_sigmoid" if activation != "hard_sigmoid" else "sigmoid"

    def f(x, k, r, b):
        output, final = fn(x, k, r, b, **kw)
        return _total(output, final)

    # points away from the kinks of relu / hard_sigmoid, where differences are meaningless
    assert gradcheck(f, rng.normal(size=(B, T, F)), *_params(name, rng, scale=0.3), atol=1e-4)


def _reference_lstm(x, k, r, b, mask=None):
    """Step-by-step NumPy LSTM with Keras's gate order and masking rule."""
    sig = lambda a: 1 / (1 + np.exp(-a))
    h = np.zeros((x.shape[0], r.shape[0]))
    c = np.zeros_like(h)
    outs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ k + h @ r + b
        i, f, g, o = np.split(z, 4, axis=1)
        c_new = sig(f) * c + sig(i) * np.tanh(g)
        h_new = sig(o) * np.tanh(c_new)
        if mask is not None:
            m = mask[:, t:t + 1]
            c_new, h_new = np.where(m, c_new, c), np.where(m, h_new, h)
        h, c = h_new, c_new
        outs.append(h)
    return np.stack(outs, axis=1), h, c


def test_lstm_layer_matches_numpy_reference(rng):
    layer = layers.LSTM(U, return_sequences=True, return_state=True)
    x = rng.normal(size=(B, T, F)).astype(np.float32)
    seq, h, c = layer(x, mask=_mask())
    k, r, b = layer.get_weights()
    ref_seq, ref_h, ref_c = _reference_lstm(x, k, r, b, _mask())
    np.testing.assert_allclose(seq.numpy(), ref_seq, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), ref_h, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), ref_c, atol=1e-6)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
def test_padded_steps_change_nothing(cls, rng):
    """A sequence padded at the end, with its mask, gives the state of the unpadded one."""
    layer = cls(4, return_state=True)
    x = rng.normal(size=(3, 6, 2)).astype(np.float32)
    short = layer(x[:, :4])
    padded = np.concatenate([x[:, :4], rng.normal(size=(3, 2, 2))], axis=1).astype(np.float32)
    mask = np.arange(6)[None, :].repeat(3, 0) < 4
    full = layer(padded, mask=mask)
    for a, b in zip(short, full):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
def test_masked_steps_repeat_or_zero_the_output(cls, rng):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], dtype=bool)
    out = cls(4, return_sequences=True)(x, mask=mask).numpy()
    np.testing.assert_array_equal(out[0, 2], out[0, 1])
    np.testing.assert_array_equal(out[0, 4], out[0, 3])
    zero = cls(4, return_sequences=True, zero_output_for_mask=True)(x, mask=mask).numpy()
    assert not zero[0, 2].any() and not zero[0, 4].any() and zero[0, 3].any()


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
def test_go_backwards_reads_the_reversed_sequence(cls, rng):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    fwd = cls(4, return_sequences=True)
    bwd = cls.from_config({**fwd.get_config(), "name": "bwd", "go_backwards": True})
    fwd(x)
    bwd(x)
    bwd.set_weights(fwd.get_weights())
    np.testing.assert_allclose(bwd(x).numpy(), fwd(x[:, ::-1]).numpy(), atol=1e-6)


def test_weights_layouts_and_unit_forget_bias():
    x = np.zeros((1, 2, 5))
    lstm, gru, gru0, rnn = (layers.LSTM(3), layers.GRU(3), layers.GRU(3, reset_after=False),
                            layers.SimpleRNN(3))
    for layer in (lstm, gru, gru0, rnn):
        layer(x)
    assert [w.shape for w in lstm.get_weights()] == [(5, 12), (3, 12), (12,)]
    assert [w.shape for w in gru.get_weights()] == [(5, 9), (3, 9), (2, 9)]
    assert [w.shape for w in gru0.get_weights()] == [(5, 9), (3, 9), (9,)]
    assert [w.shape for w in rnn.get_weights()] == [(5, 3), (3, 3), (3,)]
    np.testing.assert_array_equal(lstm.bias.numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    plain = layers.LSTM(3, unit_forget_bias=False)
    plain(x)
    assert not plain.bias.numpy().any()
    rk = lstm.recurrent_kernel.numpy()  # (3, 12): orthonormal rows
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-5)
    no_bias = layers.LSTM(2, use_bias=False)
    no_bias(x)
    assert [w.shape for w in no_bias.get_weights()] == [(5, 8), (2, 8)]


def test_return_state_and_initial_state(rng):
    layer = layers.LSTM(4, return_state=True)
    x = rng.normal(size=(2, 3, 5))
    out, h, c = layer(x)
    np.testing.assert_array_equal(out.numpy(), h.numpy())
    # continuing from the final states equals reading the concatenated sequence
    y = rng.normal(size=(2, 2, 5))
    cont, _, _ = layer(y, initial_state=[h, c])
    whole, _, _ = layer(np.concatenate([x, y], axis=1))
    np.testing.assert_allclose(cont.numpy(), whole.numpy(), atol=1e-6)
    assert layer.compute_output_shape((None, 3, 5)) == [(None, 4), (None, 4), (None, 4)]


def test_stateful_carries_states_between_calls(rng):
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    whole = layers.GRU(4)
    stateful = layers.GRU(4, stateful=True)
    whole(x)
    stateful(x[:, :3])
    stateful.set_weights(whole.get_weights())
    stateful.reset_state()
    stateful(x[:, :3])
    np.testing.assert_allclose(stateful(x[:, 3:]).numpy(), whole(x).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="stateful with batch size 2"):
        stateful(x[:1])


def test_dropout_only_in_training_and_seeded(rng):
    x = rng.normal(size=(4, 5, 3)).astype(np.float32)
    layer = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=3)
    plain = layer(x).numpy()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), plain)
    a = layer(x, training=True).numpy()
    assert not np.allclose(a, plain)
    twin = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=3)
    twin(x)
    twin.set_weights(layer.get_weights())
    first_draw = twin(x, training=True).numpy()
    fresh = layers.LSTM.from_config(layer.get_config())  # same seed: same first masks
    fresh(x)
    fresh.set_weights(layer.get_weights())
    np.testing.assert_array_equal(fresh(x, training=True).numpy(), first_draw)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
def test_layer_gradcheck_with_regularizers(cls, rng):
    with backend.floatx_scope("float64"):
        layer = cls(3, return_sequences=True, kernel_regularizer="l2",
                    recurrent_regularizer="l1", bias_regularizer="l2")
        layer(np.zeros((2, 4, 3)))
    assert len(layer.losses) == 3

    def f(x, k, r, b):
        layer.kernel, layer.recurrent_kernel, layer.bias = k, r, b
        return layer(x, mask=_mask())

    assert gradcheck(f, rng.normal(size=(2, 4, 3)), *[w for w in layer.get_weights()])


def test_config_round_trip():
    layer = layers.GRU(5, activation="relu", recurrent_activation="hard_sigmoid",
                       kernel_initializer="he_normal", recurrent_regularizer="l2", dropout=0.1,
                       return_sequences=True, go_backwards=True, reset_after=False, name="g")
    config = layer.get_config()
    again = layers.GRU.from_config(config)
    assert again.get_config() == config
    assert layers.get("LSTM") is layers.LSTM
    rnn = layers.deserialize(layers.serialize(layers.SimpleRNN(2, name="s")))
    assert isinstance(rnn, layers.SimpleRNN) and "recurrent_activation" not in rnn.get_config()


def test_clear_errors(rng):
    layer = layers.LSTM(4)
    with pytest.raises(ValueError, match=r"Input of layer 'lstm\S*' \(LSTM\) must have shape "
                                         r"\(batch, time, features\)\. Got input shape \(8, 5\) "
                                         r"instead; add"):
        layer(np.zeros((8, 5)))
    layer(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"must have shape \(batch, time, features\)\. "
                                         r"Got input shape \(8, 5\) instead; add a feature axis"):
        layer(np.zeros((8, 5)))
    with pytest.raises(ValueError, match=r"must have 5 features per step, as when it was built\. "
                                         r"Got inputs of shape \(2, 3, 4\) instead"):
        layer(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"must hold states of shape \(batch, units\) = \(2, 4\)\. "
                                         r"Got \(2, 3\) for initial state 1 instead"):
        layer(np.zeros((2, 3, 5)), initial_state=[np.zeros((2, 4)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"'initial_state' parameter of .* must hold 2 state\(s\) "
                                         r"\(\[h, c\]\)\. Got 1 initial state\(s\) instead"):
        layer(np.zeros((2, 3, 5)), initial_state=[np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"'mask' parameter of .* must have shape \(batch, time\) "
                                         r"= \(2, 3\) for inputs of shape \(2, 3, 5\)\. Got a mask "
                                         r"of shape \(2, 4\) instead"):
        layer(np.zeros((2, 3, 5)), mask=np.ones((2, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"The 'units' parameter of GRU must be an int in "
                                         r"\[1, inf\)\. Got 0 instead"):
        layers.GRU(0)
    with pytest.raises(ValueError, match=r"The 'dropout' parameter of SimpleRNN must be a float "
                                         r"in \[0\.0, 1\.0\)\. Got 1\.0 instead"):
        layers.SimpleRNN(2, dropout=1.0)
    with pytest.raises(ValueError, match="must be elementwise"):
        layers.SimpleRNN(2, activation="softmax")(np.zeros((1, 2, 1)))


def test_sequence_model_trains_with_padding(rng):
    """Embedding(mask_zero) -> LSTM -> Dense learns to count ones in padded sequences."""
    n, steps = 256, 8
    lengths = rng.integers(2, steps + 1, n)
    ids = rng.integers(1, 3, (n, steps))
    ids[np.arange(steps)[None, :] >= lengths[:, None]] = 0
    y = (ids == 1).sum(axis=1).astype(np.float32)
    model = profond.Sequential([layers.Embedding(3, 4, mask_zero=True), layers.LSTM(8),
                                layers.Dense(1)])
    model.compile(optimizer=profond.optimizers.Adam(0.02), loss="mse")
    history = model.fit(ids, y, batch_size=32, epochs=12, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


def test_loss_ignores_padded_steps_of_sequence_outputs(rng):
    ids = np.array([[3, 1, 0, 0], [2, 2, 1, 0]])
    y = rng.normal(size=(2, 4, 1)).astype(np.float32)
    model = profond.Sequential([layers.Embedding(4, 3, mask_zero=True),
                                layers.GRU(2, return_sequences=True), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    pred = model.predict(ids, verbose=0)
    loss = model.evaluate(ids, y, verbose=0)
    mask = ids != 0
    expected = ((pred - y)[..., 0] ** 2)[mask].mean()
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
