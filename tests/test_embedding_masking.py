"""Embedding, Masking, and masks flowing into recurrent layers and losses."""

import numpy as np
import pytest

import profond
from profond import backend, layers, ops
from profond.layers.masks import get_mask
from profond.testing import gradcheck


def test_embedding_lookup_and_gradient(rng):
    ids = np.array([[1, 3, 3], [0, 2, 1]])
    table = rng.normal(size=(5, 2))
    out = ops.embedding(ids, profond.tensor(table))
    np.testing.assert_allclose(out.numpy(), table.astype(np.float32)[ids])
    assert gradcheck(lambda t: ops.embedding(ids, t) * 1.0, table)
    t = profond.tensor(table, requires_grad=True)
    ops.embedding(ids, t).sum().backward()
    np.testing.assert_array_equal(t.grad[:, 0], [1, 2, 1, 2, 0])
    with pytest.raises(TypeError, match="'ids' parameter of embedding must hold integers"):
        ops.embedding(np.array([0.5]), t)  # repeated ids add up


def test_embedding_layer_mask_and_config():
    layer = layers.Embedding(10, 4, mask_zero=True)
    out = layer(np.array([[5, 2, 0, 0], [1, 0, 0, 0]]))
    assert out.shape == (2, 4, 4)
    np.testing.assert_array_equal(get_mask(out), [[1, 1, 0, 0], [1, 0, 0, 0]])
    w = layer.get_weights()[0]
    assert w.shape == (10, 4) and np.abs(w).max() <= 0.05
    again = layers.Embedding.from_config(layer.get_config())
    assert again.mask_zero and again.output_dim == 4
    assert layers.Embedding(3, 2)(np.array([[1.0, 2.0]])).shape == (1, 2, 2)  # float ids
    assert get_mask(layers.Embedding(3, 2)(np.array([[1, 2]]))) is None
    assert layers.Embedding(3, 2).compute_output_shape((None, 7)) == (None, 7, 2)


def test_embedding_errors():
    layer = layers.Embedding(4, 2)
    with pytest.raises(ValueError, match=r"has input_dim=4: ids must be in \[0, 3\]\. Got ids "
                                         r"from 0 to 4"):
        layer(np.array([[0, 4]]))
    with pytest.raises(ValueError, match="must hold integer ids"):
        layer(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match=r"The 'output_dim' parameter of Embedding must be an "
                                         r"int in \[1, inf\)"):
        layers.Embedding(4, 0)


def test_masking_layer(rng):
    x = rng.normal(size=(2, 4, 3))
    x[0, 2:] = 0.0
    x[1, 1] = -1.0
    layer = layers.Masking(mask_value=-1.0)
    out = layer(x)
    np.testing.assert_array_equal(get_mask(out), [[1, 1, 1, 1], [1, 0, 1, 1]])
    assert not out.numpy()[1, 1].any()
    np.testing.assert_allclose(out.numpy()[0], x[0].astype(np.float32))
    t = profond.tensor(x, requires_grad=True)
    layer(t).sum().backward()   # masked steps get no gradient, the others pass it through
    np.testing.assert_array_equal(t.grad[..., 0], get_mask(out).astype(np.float32))
    with pytest.raises(ValueError, match=r"The 'mask_value' parameter of Masking must be a float"):
        layers.Masking("zero")


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.GRU, layers.LSTM])
def test_masking_then_rnn_equals_the_trimmed_sequences(cls, rng):
    x = rng.normal(size=(3, 6, 2)).astype(np.float32)
    lengths = [6, 3, 4]
    padded = x.copy()
    for i, n in enumerate(lengths):
        padded[i, n:] = 0.0
    model = profond.Sequential([layers.Input((6, 2)), layers.Masking(0.0), cls(5)])
    out = model.predict(padded, verbose=0)
    rnn = model.layers[-1]
    for i, n in enumerate(lengths):
        np.testing.assert_allclose(out[i], rnn(x[i:i + 1, :n]).numpy()[0], atol=1e-6)


def test_gradcheck_embedding_mask_into_lstm(rng):
    ids = np.array([[2, 1, 0, 0], [1, 3, 2, 0]])
    with backend.floatx_scope("float64"):
        emb = layers.Embedding(4, 3, mask_zero=True)
        lstm = layers.LSTM(2, return_sequences=True)
        lstm(emb(ids))

    def f(table, k, r, b):
        emb.embeddings = table
        lstm.kernel, lstm.recurrent_kernel, lstm.bias = k, r, b
        return lstm(emb(ids))

    assert gradcheck(f, *emb.get_weights(), *lstm.get_weights())
