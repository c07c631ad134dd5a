"""The attention layers against Keras 3 (PyTorch backend): the same weights (copied with
get_weights/set_weights) give the same outputs and attention scores, with and without masks
(the inputs' own masks from Embedding(mask_zero=True), explicit ones, causal); the weights'
paths, order and layouts, and the configs, are Keras's; a few SGD steps of a small attention
model give the same weights."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

TOL = dict(rtol=1e-5, atol=1e-5)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _random_weights(layer, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()]


def _data(*shapes, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(np.float32) for s in shapes]


# --- MultiHeadAttention ---------------------------------------------------------------------------
MHA_CASES = [
    (dict(num_heads=2, key_dim=3), [(3, 5, 6), (3, 7, 6)], False),
    (dict(num_heads=3, key_dim=2, value_dim=4, output_shape=(3, 2), use_bias=False),
     [(2, 4, 5), (2, 6, 7)], False),
    (dict(num_heads=2, key_dim=3), [(2, 4, 5), (2, 6, 7), (2, 6, 3)], True),  # explicit key
    (dict(num_heads=2, key_dim=4, use_gate=True), [(2, 5, 6), (2, 5, 6)], False),
    (dict(num_heads=2, key_dim=3, sliding_window=2), [(2, 6, 4), (2, 6, 4)], False),
    (dict(num_heads=2, key_dim=3), [(2, 3, 4, 5), (2, 3, 4, 5)], False),  # 4D: axes (1, 2)
    (dict(num_heads=2, key_dim=3, attention_axes=2), [(2, 3, 4, 5), (2, 3, 6, 5)], False),
    (dict(num_heads=1, key_dim=2, attention_axes=(1,), output_shape=4),
     [(2, 3, 4, 5), (2, 5, 4, 5)], False),
]
MHA_IDS = [f"{kwargs}-{shapes}" for kwargs, shapes, _ in MHA_CASES]


def _mha_pair(kwargs, shapes, with_key):
    k_layer = keras.layers.MultiHeadAttention(**kwargs)
    p_layer = profond.layers.MultiHeadAttention(**kwargs)
    inputs = _data(*shapes)
    k_layer(*inputs[:2], key=inputs[2] if with_key else None)
    p_layer(*inputs[:2], key=inputs[2] if with_key else None)
    weights = _random_weights(k_layer)
    k_layer.set_weights(weights)
    p_layer.set_weights(weights)
    return k_layer, p_layer, inputs


@pytest.mark.parametrize("kwargs,shapes,with_key", MHA_CASES, ids=MHA_IDS)
def test_multi_head_attention_weights_are_keras(kwargs, shapes, with_key):
    k_layer, p_layer, _ = _mha_pair(kwargs, shapes, with_key)
    assert [w.path.split("/", 1)[1] for w in k_layer.weights] == \
        [w.path.split("/", 1)[1] for w in p_layer.weights]
    assert [w.shape for w in k_layer.get_weights()] == [w.shape for w in p_layer.get_weights()]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kwargs,shapes,with_key", MHA_CASES, ids=MHA_IDS)
def test_multi_head_attention_outputs_and_scores_match_keras(kwargs, shapes, with_key, causal):
    if causal and len(shapes[0]) != 3:
        pytest.skip("a causal mask is for attention over one axis")
    k_layer, p_layer, inputs = _mha_pair(kwargs, shapes, with_key)
    key = inputs[2] if with_key else None
    expected = k_layer(*inputs[:2], key=key, use_causal_mask=causal)
    got = p_layer(*inputs[:2], key=key, use_causal_mask=causal)
    np.testing.assert_allclose(got.numpy(), _np(expected), **TOL)
    k_out, k_scores = k_layer(*inputs[:2], key=key, use_causal_mask=causal,
                              return_attention_scores=True)
    p_out, p_scores = p_layer(*inputs[:2], key=key, use_causal_mask=causal,
                              return_attention_scores=True)
    np.testing.assert_allclose(p_out.numpy(), _np(k_out), **TOL)
    assert p_scores.shape == tuple(k_scores.shape)
    np.testing.assert_allclose(p_scores.numpy(), _np(k_scores), **TOL)


def _embedded_pair(vocab=12, dim=6, seed=3):
    """A Keras and a profond Embedding(mask_zero=True) with the same weights."""
    k_emb = keras.layers.Embedding(vocab, dim, mask_zero=True)
    p_emb = profond.layers.Embedding(vocab, dim, mask_zero=True)
    k_emb.build((None, 4))
    p_emb.build((None, 4))
    weights = _random_weights(k_emb, seed)
    k_emb.set_weights(weights)
    p_emb.set_weights(weights)
    return k_emb, p_emb


QUERY_IDS = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 0], [7, 0, 0, 0, 0]])
VALUE_IDS = np.array([[2, 7, 1, 8, 0, 0], [2, 8, 0, 0, 0, 0], [1, 8, 2, 8, 4, 5]])


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_takes_the_embeddings_masks_as_keras(scores, causal):
    k_emb, p_emb = _embedded_pair()
    k_layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    p_layer = profond.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    ids = VALUE_IDS if causal else QUERY_IDS  # causal: self-attention over the same steps
    k_layer(k_emb(ids), k_emb(VALUE_IDS))
    p_layer(p_emb(ids), p_emb(VALUE_IDS))
    weights = _random_weights(k_layer)
    k_layer.set_weights(weights)
    p_layer.set_weights(weights)
    # Keras's layer drops its inputs' masks after a call: embed again for every call
    k_result = k_layer(k_emb(ids), k_emb(VALUE_IDS), use_causal_mask=causal,
                       return_attention_scores=scores)
    p_result = p_layer(p_emb(ids), p_emb(VALUE_IDS), use_causal_mask=causal,
                       return_attention_scores=scores)
    k_out, p_out = (k_result[0], p_result[0]) if scores else (k_result, p_result)
    seen = ids != 0
    if scores:
        np.testing.assert_allclose(p_result[1].numpy(), _np(k_result[1]), **TOL)
        np.testing.assert_allclose(p_out.numpy(), _np(k_out), **TOL)
    else:
        # Keras's fused kernel (no scores asked) averages the values at a padded query step
        # where its scores path and profond give zero weights; the step is masked downstream
        np.testing.assert_allclose(p_out.numpy()[seen], _np(k_out)[seen], **TOL)
    np.testing.assert_array_equal(profond.layers.masks.get_mask(p_out), seen)
    np.testing.assert_array_equal(_np(k_out._keras_mask), seen)


def test_multi_head_attention_explicit_masks_match_keras():
    k_layer, p_layer, (q, v) = _mha_pair(dict(num_heads=2, key_dim=3), [(3, 5, 6), (3, 6, 6)],
                                         False)
    rng = np.random.default_rng(4)
    value_mask = rng.random((3, 6)) > 0.3
    value_mask[:, 0] = True
    attention_mask = rng.random((3, 5, 6)) > 0.2
    attention_mask[..., 0] = True
    for kwargs in (dict(value_mask=value_mask), dict(attention_mask=attention_mask),
                   dict(value_mask=value_mask, attention_mask=attention_mask,
                        use_causal_mask=True)):
        k_out, k_scores = k_layer(q, v, return_attention_scores=True, **kwargs)
        p_out, p_scores = p_layer(q, v, return_attention_scores=True, **kwargs)
        np.testing.assert_allclose(p_out.numpy(), _np(k_out), **TOL)
        np.testing.assert_allclose(p_scores.numpy(), _np(k_scores), **TOL)
        np.testing.assert_allclose(p_layer(q, v, **kwargs).numpy(),
                                   _np(k_layer(q, v, **kwargs)), **TOL)


@pytest.mark.parametrize("kwargs", [dict(num_heads=2, key_dim=3),
                                    dict(num_heads=3, key_dim=2, value_dim=5, dropout=0.1,
                                         use_bias=False, output_shape=(4,),
                                         attention_axes=(1,), kernel_initializer="he_normal",
                                         bias_regularizer="l2", kernel_constraint="non_neg",
                                         seed=3)])
def test_multi_head_attention_config_matches_keras(kwargs):
    k_layer = keras.layers.MultiHeadAttention(**kwargs)
    p_layer = profond.layers.MultiHeadAttention(**kwargs)
    q = np.zeros((2, 4, 6), np.float32)
    k_layer(q, q)
    p_layer(q, q)
    k_config, p_config = k_layer.get_config(), p_layer.get_config()
    assert set(k_config) - {"dtype"} == set(p_config) - {"dtype"}
    for key in set(k_config) - {"name", "dtype", "trainable", "kernel_initializer"}:
        assert p_config[key] == k_config[key], key
    # Keras 3.15's variance-scaling initializers also carry EinsumDense's fan axes (None here)
    k_init, p_init = k_config["kernel_initializer"], p_config["kernel_initializer"]
    assert p_init["class_name"] == k_init["class_name"]
    assert p_init["config"].items() <= k_init["config"].items()
    assert p_layer.get_build_config() == {"shapes_dict": {"query_shape": [None, 4, 6],
                                                          "value_shape": [None, 4, 6]}}


# --- Attention and AdditiveAttention --------------------------------------------------------------
ATTENTION_CASES = [
    ("Attention", dict()),
    ("Attention", dict(use_scale=True)),
    ("Attention", dict(score_mode="concat")),
    ("Attention", dict(use_scale=True, score_mode="concat")),
    ("AdditiveAttention", dict()),
    ("AdditiveAttention", dict(use_scale=False)),
]
ATTENTION_IDS = [f"{name}-{kwargs}" for name, kwargs in ATTENTION_CASES]


def _attention_pair(name, kwargs, shapes):
    k_layer = getattr(keras.layers, name)(**kwargs)
    p_layer = getattr(profond.layers, name)(**kwargs)
    inputs = _data(*shapes)
    k_layer(inputs)
    p_layer(inputs)
    weights = [w + 0.3 for w in _random_weights(k_layer)]
    k_layer.set_weights(weights)
    p_layer.set_weights(weights)
    return k_layer, p_layer, inputs


@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("name,kwargs", ATTENTION_CASES, ids=ATTENTION_IDS)
def test_attention_outputs_and_scores_match_keras(name, kwargs, causal, with_key):
    shapes = [(3, 5, 4), (3, 6, 3), (3, 6, 4)] if with_key else [(3, 5, 4), (3, 6, 4)]
    k_layer, p_layer, inputs = _attention_pair(name, kwargs, shapes)
    assert [w.path.split("/", 1)[1] for w in k_layer.weights] == \
        [w.path.split("/", 1)[1] for w in p_layer.weights]
    for mask in (None, [np.array([[1, 1, 0, 1, 0]] * 3, bool),
                        np.array([[1, 0, 1, 1, 1, 0]] * 3, bool)]):
        k_out, k_scores = k_layer(inputs, mask=mask, use_causal_mask=causal,
                                  return_attention_scores=True)
        p_out, p_scores = p_layer(inputs, mask=mask, use_causal_mask=causal,
                                  return_attention_scores=True)
        np.testing.assert_allclose(p_out.numpy(), _np(k_out), **TOL)
        np.testing.assert_allclose(p_scores.numpy(), _np(k_scores), **TOL)
        np.testing.assert_allclose(p_layer(inputs, mask=mask).numpy(),
                                   _np(k_layer(inputs, mask=mask)), **TOL)


@pytest.mark.parametrize("name,kwargs", ATTENTION_CASES, ids=ATTENTION_IDS)
def test_attention_takes_the_embeddings_masks_as_keras(name, kwargs):
    k_emb, p_emb = _embedded_pair()
    k_layer, p_layer, _ = _attention_pair(name, kwargs, [(3, 5, 6), (3, 6, 6)])
    k_out, k_scores = k_layer([k_emb(QUERY_IDS), k_emb(VALUE_IDS)],
                              return_attention_scores=True)
    p_out, p_scores = p_layer([p_emb(QUERY_IDS), p_emb(VALUE_IDS)],
                              return_attention_scores=True)
    np.testing.assert_allclose(p_out.numpy(), _np(k_out), **TOL)
    np.testing.assert_allclose(p_scores.numpy(), _np(k_scores), **TOL)
    assert (p_out.numpy()[QUERY_IDS == 0] == 0).all()
    np.testing.assert_array_equal(profond.layers.masks.get_mask(p_out), QUERY_IDS != 0)


@pytest.mark.parametrize("name,kwargs", ATTENTION_CASES + [("Attention", dict(dropout=0.2,
                                                                               seed=1))],
                         ids=ATTENTION_IDS + ["dropout"])
def test_attention_config_matches_keras(name, kwargs):
    k_config = getattr(keras.layers, name)(**kwargs).get_config()
    p_config = getattr(profond.layers, name)(**kwargs).get_config()
    assert set(k_config) - {"dtype"} == set(p_config) - {"dtype"}
    for key in set(k_config) - {"name", "dtype", "trainable"}:
        assert p_config[key] == k_config[key], key


def test_global_average_pooling_averages_the_unmasked_steps_as_keras():
    k_emb, p_emb = _embedded_pair()
    expected = keras.layers.GlobalAveragePooling1D()(k_emb(QUERY_IDS))
    np.testing.assert_allclose(profond.layers.GlobalAveragePooling1D()(p_emb(QUERY_IDS)).numpy(),
                               _np(expected), **TOL)


# --- training -------------------------------------------------------------------------------------
def _attention_model(lib, kind):
    ids = lib.layers.Input((6,), dtype="int32")
    x = lib.layers.Embedding(10, 8, mask_zero=True)(ids)
    if kind == "mha":
        attended = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    elif kind == "mha-causal":
        attended = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2)(
            x, x, use_causal_mask=True)
    else:
        attended = getattr(lib.layers, kind)(use_scale=True)([x, x])
    x = lib.layers.Add()([x, attended])
    x = lib.layers.LayerNormalization()(x)
    x = lib.layers.GlobalAveragePooling1D()(x)
    return lib.Model(ids, lib.layers.Dense(1)(x))


@pytest.mark.parametrize("kind", ["mha", "mha-causal", "Attention", "AdditiveAttention"])
def test_a_few_sgd_steps_match_keras(kind):
    k_model, p_model = _attention_model(keras, kind), _attention_model(profond, kind)
    rng = np.random.default_rng(5)
    weights = [rng.normal(0.0, 0.4, w.shape).astype(np.float32) for w in k_model.get_weights()]
    assert [w.shape for w in p_model.get_weights()] == [w.shape for w in weights]
    k_model.set_weights(weights)
    p_model.set_weights(weights)
    x = rng.integers(1, 10, (16, 6))
    x[:, 4:] *= rng.random((16, 2)) < 0.5  # some padding at the end
    y = rng.normal(size=(16, 1)).astype(np.float32)
    k_model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    p_model.compile(optimizer=profond.optimizers.SGD(0.1), loss="mse")
    for _ in range(3):
        k_model.train_on_batch(x, y)
        p_model.train_on_batch(x, y)
    for got, expected in zip(p_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(p_model.get_weights()[1], weights[1])
    np.testing.assert_allclose(p_model.predict(x, verbose=0), _np(k_model.predict(x, verbose=0)),
                               **TOL)
