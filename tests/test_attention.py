"""ops.attention, ops.additive_attention and the Attention, AdditiveAttention and
MultiHeadAttention layers: forward against NumPy references and PyTorch, backward against
finite differences (float64), masks, errors, functional models, saving, and a transformer
block that learns."""

import numpy as np
import pytest
from _opcheck import check_op

import profond
from profond import layers, ops
from profond.layers.masks import get_mask
from profond.testing import gradcheck

RNG = np.random.default_rng(0)


@pytest.fixture
def float64():
    """Layers built and run in float64 (weights and inputs), for the numerical checks."""
    with profond.backend.floatx_scope("float64"):
        yield


# --- NumPy references ----------------------------------------------------------------------------
def _softmax_masked(scores, mask, fill):
    if mask is not None:
        scores = np.where(mask, scores, -1e9 if fill == "replace" else scores - 1e9)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.where(mask, p, 0.0) if mask is not None and fill == "replace" else p


def ref_attention(q, k, v, mask=None, scale=None, causal=False, fill="replace"):
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = np.einsum("...id,...jd->...ij", q, k) * scale
    if causal:
        tril = np.tril(np.ones(scores.shape[-2:], bool))
        mask = tril if mask is None else mask & tril
    p = _softmax_masked(scores, None if mask is None else np.broadcast_to(mask, scores.shape),
                        fill)
    return np.einsum("...ij,...jd->...id", p, v), p


def ref_additive(q, k, v, weight=None, scale=1.0, mask=None, fill="shift"):
    t = np.tanh(scale * (q[..., :, None, :] + k[..., None, :, :]))
    scores = (t * (1.0 if weight is None else weight)).sum(axis=-1)
    p = _softmax_masked(scores, None if mask is None else np.broadcast_to(mask, scores.shape),
                        fill)
    return np.einsum("...ij,...jd->...id", p, v), p


def _mask(shape, seed=1, keep_first=True):
    m = np.random.default_rng(seed).random(shape) > 0.35
    if keep_first:
        m[..., 0] = True
    return m


SHAPES = [((1, 1, 1), (1, 1, 1), (1, 1, 1)),
          ((2, 4, 3), (2, 5, 3), (2, 5, 2)),
          ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 4)),
          ((3, 2), (4, 2), (4, 3))]  # no batch axis


# --- the ops ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("fill", ["replace", "shift"])
def test_attention_forward_and_gradients(shapes, masked, fill):
    q, k, v = (RNG.normal(size=s) for s in shapes)
    mask = _mask(shapes[0][:-1] + (shapes[1][-2],)) if masked else None
    check_op(lambda a, b, c: ops.attention(a, b, c, mask=mask, fill=fill),
             lambda a, b, c: ref_attention(a, b, c, mask, fill=fill)[0], q, k, v)
    check_op(lambda a, b, c: ops.attention(a, b, c, mask=mask, fill=fill,
                                           return_weights=True)[1],
             lambda a, b, c: ref_attention(a, b, c, mask, fill=fill)[1], q, k, v)


@pytest.mark.parametrize("fill", ["replace", "shift"])
def test_attention_with_a_learned_scale_causal_and_a_row_that_sees_nothing(fill):
    q, k, v = RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 4, 2))
    mask = _mask((2, 1, 4))
    # sample 0 sees no key at all with "replace" ("shift" keeps s - 1e9 there, whose float32
    # rounding a float64 reference cannot follow: checked apart below)
    mask[0, 0] = fill == "shift"

    def both(a, b, c, s):
        out, w = ops.attention(a, b, c, mask=mask, scale=s, is_causal=True, fill=fill,
                               return_weights=True)
        return out * 2.0 + ops.sum(w * w, axis=-1, keepdims=True)

    def ref(a, b, c, s):
        out, w = ref_attention(a, b, c, mask, float(s), causal=True, fill=fill)
        return out * 2.0 + (w * w).sum(axis=-1, keepdims=True)

    check_op(both, ref, q, k, v, np.array(0.7))
    mask[0, 0] = False
    out, w = ops.attention(q, k, v, mask=mask, is_causal=True, fill=fill, return_weights=True)
    if fill == "replace":  # Keras's MultiHeadAttention: no key seen, zero weights
        assert (w.numpy()[0] == 0).all() and (out.numpy()[0] == 0).all()
    else:  # Keras's Attention: the shifted scores still sum to one
        np.testing.assert_allclose(w.numpy()[0].sum(axis=-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("weight", [None, "vector", "scalar"])
@pytest.mark.parametrize("masked", [False, True])
def test_additive_attention_forward_and_gradients(weight, masked):
    q, k, v = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4)), RNG.normal(size=(2, 5, 3))
    mask = _mask((2, 1, 5)) if masked else None
    w = {None: None, "vector": RNG.normal(size=4), "scalar": np.array(1.3)}[weight]
    args = (q, k, v) if w is None else (q, k, v, w)

    def fn(a, b, c, ww=None, s=None):
        out, p = ops.additive_attention(a, b, c, weight=ww, scale=s, mask=mask,
                                        return_weights=True)
        return out + ops.sum(p * p, axis=-1, keepdims=True)

    def ref(a, b, c, ww=None, s=1.0):
        out, p = ref_additive(a, b, c, ww, s, mask)
        return out + (p * p).sum(axis=-1, keepdims=True)

    check_op(lambda *t: fn(*t), lambda *a: ref(*a), *args)
    # the scalar scale inside the tanh (Attention(score_mode="concat", use_scale=True))
    check_op(lambda a, b, c, s: fn(a, b, c, profond.tensor(w if w is not None else 1.0,
                                                            dtype=a.dtype), s),
             lambda a, b, c, s: ref(a, b, c, w, float(s)), q, k, v, np.array(0.6))


def test_dropout_on_the_weights_is_inverted_and_seeded():
    q, k, v = RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 6, 3)), RNG.normal(size=(2, 6, 2))
    out, w = ops.attention(q, k, v, return_weights=True)
    dropped = ops.attention(q, k, v, dropout=0.5, seed=3)
    keep = np.random.default_rng(3).random((2, 4, 6), dtype="float32") >= 0.5
    np.testing.assert_allclose(dropped.numpy(), (w.numpy() * keep * 2.0) @ v.astype("float32"),
                               rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda a, b, c: ops.attention(a, b, c, dropout=0.5, seed=3), q, k, v)
    assert not np.allclose(dropped.numpy(), out.numpy())


def test_attention_matches_pytorch_scaled_dot_product_attention():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    q, k, v = (RNG.normal(size=s) for s in ((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)))
    mask = _mask((2, 1, 5, 7))
    tq, tk, tv = (torch.tensor(a) for a in (q, k, v))
    for kwargs, torch_kwargs in (({}, {}), (dict(mask=mask), dict(attn_mask=torch.tensor(mask))),
                                 (dict(is_causal=True), dict(is_causal=True)),
                                 (dict(scale=0.3), dict(scale=0.3))):
        expected = F.scaled_dot_product_attention(tq, tk, tv, **torch_kwargs).numpy()
        got = ops.attention(profond.tensor(q, dtype="float64"), k, v, **kwargs)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
    # and the gradients
    a, b, c = (torch.tensor(x, requires_grad=True) for x in (q, k, v))
    g = RNG.normal(size=(2, 3, 5, 6))
    (F.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(mask)) *
     torch.tensor(g)).sum().backward()
    mine = [profond.tensor(x, dtype="float64", requires_grad=True) for x in (q, k, v)]
    (ops.attention(*mine, mask=mask) * g).sum().backward()
    for p, t in zip(mine, (a, b, c)):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_multi_head_attention_matches_pytorch_multihead_attention(float64):
    torch = pytest.importorskip("torch")
    embed, heads = 8, 2
    torch.manual_seed(0)
    reference = torch.nn.MultiheadAttention(embed, heads, batch_first=True, dtype=torch.float64)
    layer = layers.MultiHeadAttention(heads, embed // heads)
    q, v = RNG.normal(size=(3, 5, embed)), RNG.normal(size=(3, 6, embed))
    layer(q, v)
    w_in = reference.in_proj_weight.detach().numpy()
    b_in = reference.in_proj_bias.detach().numpy()
    weights = []
    for i in range(3):  # query, key, value: torch's rows are (out, in)
        weights += [w_in[i * embed:(i + 1) * embed].T.reshape(embed, heads, embed // heads),
                    b_in[i * embed:(i + 1) * embed].reshape(heads, embed // heads)]
    weights += [reference.out_proj.weight.detach().numpy().T.reshape(heads, embed // heads,
                                                                      embed),
                reference.out_proj.bias.detach().numpy()]
    layer.set_weights(weights)
    padding = ~_mask((3, 6))  # torch: True where the key is ignored
    expected, expected_weights = reference(torch.tensor(q), torch.tensor(v), torch.tensor(v),
                                           key_padding_mask=torch.tensor(padding))
    out, scores = layer(q, v, value_mask=~padding, return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores.numpy().mean(axis=1), expected_weights.detach().numpy(),
                               rtol=1e-10, atol=1e-12)


# --- the layers: gradients of inputs and weights -----------------------------------------------
def _check_layer_gradients(call, inputs, layer, eps=1e-6, tol=1e-6):
    """Backward through ``call(*tensors)`` against central differences, for the inputs and
    every weight of ``layer`` (float64)."""
    assert gradcheck(call, *inputs)
    tensors = [profond.tensor(x, dtype="float64") for x in inputs]
    probe = np.random.default_rng(7).normal(size=call(*tensors).shape)

    def loss():
        return float((call(*tensors).numpy() * probe).sum())

    for w in layer.trainable_weights:
        w.grad = None
    (call(*tensors) * probe).sum().backward()
    for w in layer.trainable_weights:
        flat = w.data.reshape(-1)
        numeric = np.empty(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss()
            flat[i] = old - eps
            down = loss()
            flat[i] = old
            numeric[i] = (up - down) / (2 * eps)
        analytic = np.zeros(flat.size) if w.grad is None else w.grad.reshape(-1)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=tol, err_msg=w.path)


def _randomise(layer, seed=2):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(0.3, 0.5, w.shape) for w in layer.get_weights()])


@pytest.mark.parametrize("kwargs", [dict(num_heads=2, key_dim=3),
                                    dict(num_heads=1, key_dim=2, value_dim=3, use_bias=False,
                                         output_shape=(2, 2)),
                                    dict(num_heads=2, key_dim=2, use_gate=True)])
def test_multi_head_attention_gradients(kwargs, float64):
    layer = layers.MultiHeadAttention(**kwargs)
    q, v = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 4, 5))
    layer(q, v)
    _randomise(layer)
    value_mask = _mask((2, 4))
    _check_layer_gradients(lambda a, b: layer(a, b, value_mask=value_mask,
                                              use_causal_mask=True), (q, v), layer)
    _check_layer_gradients(lambda a, b: layer(a, b, return_attention_scores=True)[1] * 3.0,
                           (q, v), layer)


def test_multi_head_attention_over_two_axes_gradients(float64):
    layer = layers.MultiHeadAttention(2, 2, attention_axes=(1, 2))
    x = RNG.normal(size=(2, 2, 3, 3))
    layer(x, x)
    _randomise(layer)
    _check_layer_gradients(lambda a: layer(a, a), (x,), layer)


@pytest.mark.parametrize("make", [lambda: layers.Attention(use_scale=True),
                                  lambda: layers.Attention(True, "concat"),
                                  lambda: layers.AdditiveAttention()],
                         ids=["dot", "concat", "additive"])
def test_attention_layers_gradients(make, float64):
    layer = make()
    q, v, k = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 2)), RNG.normal(size=(2, 5, 4))
    layer([q, v, k])
    _randomise(layer)
    mask = [_mask((2, 3)), _mask((2, 5))]
    _check_layer_gradients(lambda a, b, c: layer([a, b, c], mask=mask, use_causal_mask=True),
                           (q, v, k), layer)


def test_attention_layers_against_the_numpy_references(float64):
    q, v = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4))
    query_mask, value_mask = _mask((2, 3), seed=4), _mask((2, 5))
    dot = layers.Attention(use_scale=True)
    dot([q, v])
    dot.set_weights([np.array(0.8)])
    out, p = ref_attention(q, v, v, value_mask[:, None, :], 0.8, fill="shift")
    got, scores = dot([q, v], mask=[query_mask, value_mask], return_attention_scores=True)
    np.testing.assert_allclose(got.numpy(), out * query_mask[..., None], rtol=1e-12)
    np.testing.assert_allclose(scores.numpy(), p, rtol=1e-12)
    additive = layers.AdditiveAttention()
    additive([q, v])
    scale = additive.get_weights()[0]
    out, _ = ref_additive(q, v, v, scale, 1.0, value_mask[:, None, :])
    got = additive([q, v], mask=[None, value_mask])
    np.testing.assert_allclose(got.numpy(), out, rtol=1e-12)


# --- masks ------------------------------------------------------------------------------------------
def test_the_embeddings_masks_flow_into_multi_head_attention():
    ids = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 1]])
    embed = layers.Embedding(10, 4, mask_zero=True)
    layer = layers.MultiHeadAttention(2, 3)
    out, scores = layer(embed(ids), embed(ids), return_attention_scores=True)
    np.testing.assert_array_equal(get_mask(out), ids != 0)
    scores = scores.numpy()
    assert (scores[0, :, :, 3:] == 0).all() and (scores[0, :, 3:] == 0).all()
    np.testing.assert_allclose(scores[0, :, :3].sum(axis=-1), 1.0, rtol=1e-6)
    # the same as the masks given explicitly
    x = embed(ids).numpy()
    explicit = layer(x, x, query_mask=ids != 0, value_mask=ids != 0)
    np.testing.assert_allclose(explicit.numpy(), out.numpy(), rtol=1e-6)


def test_attention_mask_and_causal_combine():
    layer = layers.MultiHeadAttention(1, 2)
    x = RNG.normal(size=(1, 4, 3))
    band = np.abs(np.arange(4)[:, None] - np.arange(4)[None, :]) <= 1
    _, scores = layer(x, x, attention_mask=band[None], use_causal_mask=True,
                      return_attention_scores=True)
    np.testing.assert_array_equal(scores.numpy()[0, 0] > 0, band & np.tri(4, dtype=bool))
    _, windowed = layers.MultiHeadAttention(1, 2, sliding_window=2)(
        x, x, return_attention_scores=True)
    np.testing.assert_array_equal(windowed.numpy()[0, 0] > 0, band)


def test_dropout_only_in_training():
    layer = layers.MultiHeadAttention(2, 3, dropout=0.5, seed=1)
    x = RNG.normal(size=(2, 4, 5)).astype("float32")
    inference = layer(x, x).numpy()
    np.testing.assert_array_equal(layer(x, x, training=False).numpy(), inference)
    assert not np.allclose(layer(x, x, training=True).numpy(), inference)
    attention = layers.Attention(dropout=0.5, seed=1)
    np.testing.assert_array_equal(attention([x, x]).numpy(), attention([x, x]).numpy())
    assert not np.allclose(attention([x, x], training=True).numpy(), attention([x, x]).numpy())


# --- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: layers.MultiHeadAttention(2, 0), r"'key_dim' parameter of MultiHeadAttention must "
                                             r"be an int in \[1, inf\)\. Got 0"),
    (lambda: layers.MultiHeadAttention(0, 2), r"'num_heads' parameter .* Got 0"),
    (lambda: layers.MultiHeadAttention(2, 2, value_dim=-1), r"'value_dim' parameter .* Got -1"),
    (lambda: layers.MultiHeadAttention(2, 2, dropout=1.0), r"'dropout' parameter"),
    (lambda: layers.MultiHeadAttention(2, 2, output_shape="x"), r"'output_shape' parameter"),
    (lambda: layers.MultiHeadAttention(2, 2, attention_axes=1.5), r"'attention_axes' parameter"),
    (lambda: layers.MultiHeadAttention(2, 2, flash_attention=True),
     r"'flash_attention' parameter .* no flash-attention kernel"),
    (lambda: layers.Attention(score_mode="bilinear"), r"'score_mode' parameter of Attention "
                                                       r"must be 'dot' or 'concat'"),
    (lambda: layers.AdditiveAttention(dropout=-0.1), r"'dropout' parameter of "
                                                      r"AdditiveAttention"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_name_the_layer_the_argument_and_the_shapes():
    x = np.zeros((2, 4, 6), "float32")
    with pytest.raises(ValueError, match=r"layer 'att1' \(Attention\) must have query and key "
                                         r"of the same last axis.*\(2, 4, 6\).*\(2, 4, 5\)"):
        layers.Attention(name="att1")([x, np.zeros((2, 4, 5), "float32")])
    with pytest.raises(ValueError, match=r"'inputs' parameter of layer 'att2' \(Attention\) "
                                         r"must be a list \[query, value\]"):
        layers.Attention(name="att2")(x)
    with pytest.raises(ValueError, match=r"rank >= 3.*\(2, 6\)"):
        layers.Attention()([x[:, 0], x[:, 0]])
    with pytest.raises(ValueError, match=r"'mask' parameter of layer 'att3' \(Attention\) must "
                                         r"have shape \(2, 4\)\. Got shape \(2, 5\)"):
        layers.Attention(name="att3")([x, x], mask=[np.ones((2, 5), bool), None])
    mha = layers.MultiHeadAttention(2, 3, name="mha1")
    with pytest.raises(ValueError, match=r"'value' parameter of layer 'mha1' "
                                         r"\(MultiHeadAttention\) must be given"):
        mha(x)
    with pytest.raises(ValueError, match=r"layer 'mha2' \(MultiHeadAttention\) must be query, "
                                         r"value and key of one rank >= 3.*\(2, 6\)"):
        layers.MultiHeadAttention(2, 3, name="mha2")(x[:, 0], x[:, 0])
    mha(x, x)
    with pytest.raises(ValueError, match=r"'value' parameter of layer 'mha1' "
                                         r"\(MultiHeadAttention\) must have shape \(batch, \.\.\., "
                                         r"6\).*Got shape \(2, 4, 5\)"):
        mha(x, np.zeros((2, 4, 5), "float32"))
    with pytest.raises(ValueError, match=r"'value_mask' parameter of layer 'mha1' "
                                         r"\(MultiHeadAttention\) must have shape \(2, 4\)\. "
                                         r"Got shape \(2, 3\)"):
        mha(x, x, value_mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"'attention_mask' parameter of layer 'mha1' .* Got "
                                         r"shape \(2, 3, 4\)"):
        mha(x, x, attention_mask=np.ones((2, 3, 4), bool))
    with pytest.raises(ValueError, match=r"'attention_axes' parameter of layer 'mha3' .* "
                                         r"\[1, 1\]. Got \(2,\)"):
        layers.MultiHeadAttention(2, 3, attention_axes=2, name="mha3")(x, x)
    with pytest.raises(ValueError, match=r"use_causal_mask .* rank 3"):
        y = np.zeros((2, 3, 4, 6), "float32")
        layers.MultiHeadAttention(2, 3)(y, y, use_causal_mask=True)


def test_op_errors():
    q = profond.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"'key' and 'value' parameters of attention must have "
                                         r"shapes \(\.\.\., Tv, 4\)"):
        ops.attention(q, np.zeros((2, 5, 3)), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match=r"'mask' parameter of attention must broadcast to the "
                                         r"scores' shape \(2, 3, 5\)"):
        ops.attention(q, np.zeros((2, 5, 4)), np.zeros((2, 5, 2)), mask=np.ones((4, 5), bool))
    with pytest.raises(ValueError, match=r"'fill' parameter of attention"):
        ops.attention(q, q, q, fill="zero")
    with pytest.raises(ValueError, match=r"'weight' parameter of additive_attention must have "
                                         r"shape \(4,\)"):
        ops.additive_attention(q, q, q, weight=np.ones(3))
    with pytest.raises(ValueError, match=r"same rank >= 2"):
        ops.attention(q, np.zeros((5, 4)), np.zeros((5, 2)))


# --- functional models, Sequential, configs, saving ------------------------------------------------
def _functional(scores=False):
    ids = layers.Input((6,), dtype="int32")
    x = layers.Embedding(12, 8, mask_zero=True)(ids)
    result = layers.MultiHeadAttention(2, 4, name="mha")(x, x, use_causal_mask=True,
                                                          return_attention_scores=scores)
    attended = result[0] if scores else result
    y = layers.Attention(use_scale=True, name="att")([attended, x])
    y = layers.AdditiveAttention(name="add_att")([y, x])
    out = layers.Dense(2)(layers.GlobalAveragePooling1D()(y))
    return profond.Model(ids, [out, result[1]] if scores else out)


def test_symbolic_shapes_in_a_functional_model():
    model = _functional(scores=True)
    assert model.output_shape == [(None, 2), (None, 2, 6, 6)]
    x = RNG.integers(0, 12, (3, 6))
    out, scores = model.predict(x, verbose=0)
    assert out.shape == (3, 2) and scores.shape == (3, 2, 6, 6)
    ids = layers.Input((5, 7))
    other = layers.Input((3, 4))
    assert layers.MultiHeadAttention(2, 3, output_shape=(2, 3))(ids, other).shape == \
        (None, 5, 2, 3)
    assert layers.Attention()([ids, layers.Input((3, 7))]).shape == (None, 5, 7)


def test_sequential_refuses_a_layer_that_needs_two_inputs():
    model = profond.Sequential([layers.Input((4, 3)), layers.Dense(3),
                                layers.MultiHeadAttention(2, 2)])
    with pytest.raises(ValueError, match=r"'value' parameter .* must be given"):
        model.predict(np.zeros((2, 4, 3)), verbose=0)


@pytest.mark.parametrize("layer", [
    layers.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, use_bias=False, output_shape=(5,),
                              kernel_initializer="he_normal", kernel_regularizer="l2",
                              activity_regularizer="l1", bias_constraint="non_neg", seed=4,
                              sliding_window=3, use_gate=True),
    layers.Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=2),
    layers.AdditiveAttention(use_scale=False)], ids=["mha", "attention", "additive"])
def test_config_round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == {**layer.get_config(), "name": clone.name} or \
        clone.get_config() == layer.get_config()
    x = np.zeros((2, 4, 6), "float32")
    (layer(x, x) if isinstance(layer, layers.MultiHeadAttention) else layer([x, x]))
    built = profond.saving.deserialize_keras_object(
        profond.saving.serialize_keras_object(layer))
    assert [w.shape for w in built.get_weights()] == [w.shape for w in layer.get_weights()]


def test_activity_regularizer_penalises_each_projection_as_keras():
    layer = layers.MultiHeadAttention(1, 2, activity_regularizer="l2")
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    out, _ = layer(x, x, return_attention_scores=True)
    assert len(layer.losses) == 4  # query, key, value and output projections, not the scores
    np.testing.assert_allclose(layer.losses[-1].numpy(), 0.01 * (out.numpy() ** 2).sum(),
                               rtol=1e-5)
    # a model collects (and clears) them at every step
    inputs = layers.Input((3, 4))
    model = profond.Model(inputs, layers.MultiHeadAttention(1, 2, activity_regularizer="l2")(
        inputs, inputs))
    model.compile("sgd", "mse")
    plain = profond.Model(inputs, layers.MultiHeadAttention(1, 2)(inputs, inputs))
    plain.compile("sgd", "mse")
    plain.set_weights(model.get_weights())
    y = np.zeros((2, 3, 4), "float32")
    assert model.evaluate(x, y, verbose=0) > plain.evaluate(x, y, verbose=0) + 1e-3
    model.fit(x, y, epochs=2, verbose=0)
    assert len(model.losses) == 4


def test_save_and_load_a_functional_model_with_attention(tmp_path):
    model = _functional()
    model.compile("adam", "mse")
    x = RNG.integers(0, 12, (4, 6))
    model.fit(x, RNG.normal(size=(4, 2)), epochs=1, verbose=0)
    path = tmp_path / "attention.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert [w.path.split("/", 1)[1] for w in loaded.get_layer("mha").weights][:2] == \
        ["query/kernel", "query/bias"]


# --- a transformer block learns --------------------------------------------------------------------
def test_a_transformer_block_learns_a_small_task():
    profond.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10, (256, 8))
    y = ((x == 3).sum(axis=1) > (x == 7).sum(axis=1)).astype("float32")  # more 3s than 7s?

    ids = layers.Input((8,), dtype="int32")
    embedded = layers.Embedding(10, 16)(ids)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=8)(embedded, embedded)
    x_ = layers.LayerNormalization()(layers.Add()([embedded, attended]))
    x_ = layers.Dense(16, activation="relu")(x_)
    x_ = layers.GlobalAveragePooling1D()(x_)
    model = profond.Model(ids, layers.Dense(1, activation="sigmoid")(x_))
    model.compile(profond.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses
    assert history.history["accuracy"][-1] > 0.85, history.history["accuracy"]
