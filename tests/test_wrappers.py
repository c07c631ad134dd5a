"""Bidirectional and TimeDistributed."""

import numpy as np
import pytest

import profond
from profond import backend, layers
from profond.layers.masks import get_mask
from profond.testing import gradcheck


def _pair(bi):
    return bi.forward_layer, bi.backward_layer


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_merge_modes_equal_forward_and_flipped_backward(merge_mode, rng):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    bi = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode=merge_mode)
    out = bi(x)
    fw, bw = _pair(bi)
    y, y_rev = fw(x).numpy(), bw(x).numpy()[:, ::-1]
    expected = {"concat": np.concatenate([y, y_rev], -1), "sum": y + y_rev, "mul": y * y_rev,
                "ave": (y + y_rev) / 2}.get(merge_mode)
    if merge_mode is None:
        np.testing.assert_allclose(out[0].numpy(), y, atol=1e-6)
        np.testing.assert_allclose(out[1].numpy(), y_rev, atol=1e-6)
    else:
        np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)
        shape = bi.compute_output_shape((None, 5, 3))
        assert shape == (None, 5, 8 if merge_mode == "concat" else 4)


def test_backward_layer_reads_from_the_end(rng):
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    bi = layers.Bidirectional(layers.LSTM(4))
    out = bi(x).numpy()
    fw, bw = _pair(bi)
    assert not fw.go_backwards and bw.go_backwards
    plain = layers.LSTM(4)
    plain(x)
    plain.set_weights(bw.get_weights())
    np.testing.assert_allclose(out[:, 4:], plain(x[:, ::-1]).numpy(), atol=1e-6)
    names = [w.path for w in bi.weights]
    assert names[0].startswith("forward_") and names[3].startswith("backward_")
    assert len(bi.get_weights()) == 6


def test_return_state_initial_state_and_masks(rng):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True, return_state=True))
    out, hf, cf, hb, cb = bi(x, mask=mask)
    assert out.shape == (2, 5, 8) and hf.shape == cb.shape == (2, 4)
    assert get_mask(out) is mask
    # padded steps: zero outputs in both directions, and the backward pass starts at the end
    # of the real sequence
    assert not out.numpy()[0, 3:].any()
    short = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    short(x[:1, :3])
    short.set_weights(bi.get_weights())
    np.testing.assert_allclose(out.numpy()[0, :3], short(x[:1, :3]).numpy()[0], atol=1e-6)
    again = bi(x, initial_state=[hf, cf, hb, cb])
    assert again[0].shape == (2, 5, 8)
    with pytest.raises(ValueError, match="as many initial states"):
        bi(x, initial_state=[hf, cf, hb])


def test_gradcheck_bidirectional(rng):
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool)
    with backend.floatx_scope("float64"):
        bi = layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode="concat")
        bi(np.zeros((2, 4, 3)))
    fw, bw = _pair(bi)

    def f(x, k1, r1, b1, k2, r2, b2):
        fw.kernel, fw.recurrent_kernel, fw.bias = k1, r1, b1
        bw.kernel, bw.recurrent_kernel, bw.bias = k2, r2, b2
        return bi(x, mask=mask)

    assert gradcheck(f, rng.normal(size=(2, 4, 3)), *bi.get_weights())


def test_bidirectional_config_and_errors():
    bi = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), merge_mode="sum")
    again = layers.deserialize(layers.serialize(bi))
    assert again.merge_mode == "sum" and again.backward_layer.go_backwards
    again(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"The 'merge_mode' parameter of Bidirectional must be "
                                         r"one of \['concat', 'sum', 'mul', 'ave', None\]"):
        layers.Bidirectional(layers.GRU(2), merge_mode="max")
    with pytest.raises(ValueError, match="must be a recurrent layer"):
        layers.Bidirectional(layers.Dense(2))
    with pytest.raises(ValueError, match="must agree on 'return_sequences'"):
        layers.Bidirectional(layers.GRU(2), backward_layer=layers.GRU(
            2, go_backwards=True, return_sequences=True))


def test_bidirectional_in_a_model_trains(rng):
    x = rng.normal(size=(128, 6, 2)).astype(np.float32)
    y = (x[:, 0, 0] > x[:, -1, 0]).astype(np.int64)  # needs both ends of the sequence
    model = profond.Sequential([layers.Input((6, 2)), layers.Bidirectional(layers.GRU(8)),
                                layers.Dense(2)])
    model.compile(optimizer=profond.optimizers.Adam(0.02),
                  loss=profond.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_time_distributed_dense(rng):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    dense = layers.Dense(4)
    td = layers.TimeDistributed(dense)
    out = td(x)
    assert out.shape == (2, 5, 4)
    np.testing.assert_allclose(out.numpy(), (x.reshape(10, 3) @ dense.kernel.numpy()
                                             + dense.bias.numpy()).reshape(2, 5, 4), atol=1e-6)
    assert td.compute_output_shape((None, 5, 3)) == (None, 5, 4)
    assert td.get_weights()[0].shape == (3, 4)
    mask = np.ones((2, 5), dtype=bool)
    assert get_mask(td(x, mask=mask)) is mask
    again = layers.deserialize(layers.serialize(td))
    assert isinstance(again.layer, layers.Dense) and again.layer.units == 4
    with pytest.raises(ValueError, match=r"must have shape \(batch, time, \.\.\.\)\. Got input "
                                         r"shape \(2, 3\) instead"):
        td(np.zeros((2, 3)))


def test_gradcheck_time_distributed(rng):
    with backend.floatx_scope("float64"):
        td = layers.TimeDistributed(layers.Dense(2, activation="tanh"))
        td(np.zeros((2, 3, 4)))

    def f(x, k, b):
        td.layer.kernel, td.layer.bias = k, b
        return td(x)

    assert gradcheck(f, rng.normal(size=(2, 3, 4)), *td.get_weights())
