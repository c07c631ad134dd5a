"""``ops.tensordot`` (forward against numpy.tensordot, float64 gradcheck) and the ``ops.nn``
namespace (Keras's ``keras.ops.nn`` names): each op against a NumPy reference, gradchecked where
differentiable, and against Keras's own op where Keras is installed."""

import os

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import ops
from profond.testing import gradcheck


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


# --- tensordot ------------------------------------------------------------------------------------
TENSORDOT = [((3, 4), (4, 5), 1), ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (4,), 0),
             ((2, 3, 4), (4, 3), ([1, 2], [1, 0])), ((3, 4, 2), (2, 3), ([0, 2], [1, 0])),
             ((4,), (4,), 1), ((2, 5), (5, 2), (1, 0)), ((2, 3, 4), (2, 3, 4), 3)]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT, ids=str)
def test_tensordot_against_numpy_and_gradcheck(sa, sb, axes):
    a, b = draw(sa, seed=1), draw(sb, seed=2)
    check_op(lambda x, y: ops.tensordot(x, y, axes=axes),
             lambda x, y: np.tensordot(x, y, axes=axes), a, b)


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT[:5], ids=str)
def test_tensordot_matches_keras(sa, sb, axes):
    keras = _keras()
    a, b = draw(sa, seed=1).astype("float32"), draw(sb, seed=2).astype("float32")
    np.testing.assert_allclose(ops.tensordot(a, b, axes=axes).numpy(),
                               keras.ops.convert_to_numpy(keras.ops.tensordot(a, b, axes=axes)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axes,match", [
    (3, r"must be an int in \[0, 2\]"), (([0], [0, 1]), "pair of axis lists of one length"),
    (([1], [1]), "pair axes of one size"), ("x", "pair of axis lists"),
    (([5], [0]), "pair of axis lists")], ids=str)
def test_tensordot_refuses_bad_axes(axes, match):
    with pytest.raises(ValueError, match="'axes' parameter of tensordot .*" + match):
        ops.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=axes)


# --- ops.nn ---------------------------------------------------------------------------------------
def test_nn_activations_are_the_ops():
    for name in ("relu", "sigmoid", "softmax", "log_softmax", "elu", "selu", "celu", "glu",
                 "sparsemax", "relu6", "hard_silu", "threshold", "softplus", "silu"):
        assert getattr(ops.nn, name) is getattr(ops, name)
    assert ops.nn.swish is ops.silu
    x = profond.tensor([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(ops.nn.gelu(x).numpy(), ops.gelu(x, approximate=True).numpy())


def test_nn_activations_match_keras_ops():
    keras = _keras()
    x = draw((3, 6), low=-4, high=4, seed=3).astype("float32")
    for name in ops.nn.__all__:
        fn = getattr(ops.nn, name)
        kfn = getattr(keras.ops.nn, name)
        if name in ("conv", "max_pool", "average_pool", "one_hot", "multi_hot", "moments",
                    "batch_normalization") or name.endswith("crossentropy"):
            continue
        kwargs = {"threshold": 0.3, "default_value": -1.0} if name == "threshold" else {}
        if name == "sparsemax":  # keras-team/keras#23425: compare where one input stays
            x = x.copy()
            x[:, 0] = x.max(axis=1) + 1.5
        expected = keras.ops.convert_to_numpy(kfn(x, **kwargs))
        np.testing.assert_allclose(fn(profond.tensor(x), **kwargs).numpy(), expected,
                                   rtol=1e-5, atol=2e-6, err_msg=name)


@pytest.mark.parametrize("shape,kernel", [((2, 7, 3), (3, 3, 4)), ((2, 6, 5, 3), (2, 3, 3, 4))],
                         ids=str)
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv_and_pools_by_rank_match_keras(shape, kernel, padding):
    keras = _keras()
    x, k = draw(shape, seed=4).astype("float32"), draw(kernel, seed=5).astype("float32")
    cases = [(ops.nn.conv(x, k, strides=1, padding=padding),
              keras.ops.nn.conv(x, k, strides=1, padding=padding)),
             (ops.nn.max_pool(x, 2, padding=padding), keras.ops.nn.max_pool(x, 2, padding=padding)),
             (ops.nn.average_pool(x, 2, strides=1, padding="valid"),
              keras.ops.nn.average_pool(x, 2, strides=1, padding="valid"))]
    for ours, theirs in cases:
        np.testing.assert_allclose(ours.numpy(), keras.ops.convert_to_numpy(theirs), rtol=1e-5,
                                   atol=1e-5)


def test_conv_and_pools_by_rank_are_the_profond_ops():
    x, k = draw((2, 6, 5, 3), seed=4), draw((2, 3, 3, 4), seed=5)
    np.testing.assert_array_equal(ops.nn.conv(profond.tensor(x), k, padding="same").numpy(),
                                  ops.conv2d(profond.tensor(x), profond.tensor(k),
                                             padding="same").numpy())
    np.testing.assert_array_equal(ops.nn.max_pool(profond.tensor(x[:, 0]), 2).numpy(),
                                  ops.max_pool1d(profond.tensor(x[:, 0]), 2).numpy())
    with pytest.raises(ValueError, match="'inputs' parameter of conv must have rank 3"):
        ops.nn.conv(np.ones((2, 3)), k)
    with pytest.raises(ValueError, match="'data_format' parameter of max_pool must be None or "
                                         "'channels_last'"):
        ops.nn.max_pool(x, 2, data_format="channels_first")


def test_one_hot_and_multi_hot_match_keras():
    keras = _keras()
    labels = np.array([[0, 2], [3, -1]])
    for axis in (-1, 0, 1):
        np.testing.assert_array_equal(
            ops.nn.one_hot(labels, 4, axis=axis).numpy(),
            keras.ops.convert_to_numpy(keras.ops.nn.one_hot(labels, 4, axis=axis)))
    np.testing.assert_array_equal(
        ops.nn.multi_hot(np.array([[0, 2], [1, 1]]), 4).numpy(),
        keras.ops.convert_to_numpy(keras.ops.nn.multi_hot(np.array([[0, 2], [1, 1]]), 4)))


def test_one_hot_reference():
    np.testing.assert_array_equal(ops.nn.one_hot([1, -1], 3).numpy(), [[0, 1, 0], [0, 0, 0]])
    assert ops.nn.one_hot([1], 2, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(ops.nn.multi_hot([0, 2], 3).numpy(), [1, 0, 1])
    with pytest.raises(ValueError, match="'num_classes' parameter of one_hot"):
        ops.nn.one_hot([1], 0)


@pytest.mark.parametrize("axes,keepdims", [([0], False), ([0, 1], True), (1, False)], ids=str)
def test_moments_against_numpy_and_gradcheck(axes, keepdims):
    x = draw((3, 4, 2), seed=6)
    ax = tuple(axes) if isinstance(axes, list) else axes
    check_op(lambda t: ops.nn.moments(t, axes, keepdims)[0],
             lambda a: a.mean(axis=ax, keepdims=keepdims), x)
    check_op(lambda t: ops.nn.moments(t, axes, keepdims)[1],
             lambda a: a.var(axis=ax, keepdims=keepdims), x)


def test_batch_normalization_against_numpy_gradcheck_and_keras():
    x, m, v = draw((4, 3), seed=7), draw((3,), seed=8), draw((3,), low=0.5, high=2, seed=9)
    o, s = draw((3,), seed=10), draw((3,), seed=11)
    ref = (x - m) / np.sqrt(v + 1e-3) * s + o
    check_op(lambda *t: ops.nn.batch_normalization(t[0], t[1], t[2], -1, t[3], t[4]),
             lambda *a: (a[0] - a[1]) / np.sqrt(a[2] + 1e-3) * a[4] + a[3], x, m, v, o, s)
    keras = _keras()
    f32 = [a.astype("float32") for a in (x, m, v, o, s)]
    np.testing.assert_allclose(
        ops.nn.batch_normalization(f32[0], f32[1], f32[2], 1, f32[3], f32[4]).numpy(),
        keras.ops.convert_to_numpy(keras.ops.nn.batch_normalization(
            f32[0], f32[1], f32[2], 1, offset=f32[3], scale=f32[4])), rtol=1e-5, atol=1e-6)
    assert ref.shape == (4, 3)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("axis", [-1, 0])
def test_normalize_against_numpy_keras_and_gradcheck(order, axis):
    x = draw((3, 4), seed=12)
    check_op(lambda t: ops.nn.normalize(t, axis=axis, order=order),
             lambda a: a / np.linalg.norm(a, ord=order, axis=axis, keepdims=True), x)
    zero = profond.tensor(np.zeros((2, 3)), requires_grad=True)
    ops.nn.normalize(zero, order=order).sum().backward()
    np.testing.assert_allclose(zero.grad, 1e7, rtol=1e-5)  # x / epsilon there: finite
    keras = _keras()
    np.testing.assert_allclose(
        ops.nn.normalize(x.astype("float32"), axis=axis, order=order).numpy(),
        keras.ops.convert_to_numpy(keras.ops.nn.normalize(x.astype("float32"), axis=axis,
                                                          order=order)), rtol=1e-5, atol=1e-6)


def _probabilities(shape, seed):
    e = np.exp(draw(shape, seed=seed))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropies_against_numpy_gradcheck_and_keras(from_logits):
    target = _probabilities((4, 3), 13)
    output = draw((4, 3), seed=14) if from_logits else _probabilities((4, 3), 15)
    labels = np.array([0, 2, 1, 2])
    binary_target = (draw((4, 3), seed=16) > 0).astype(float)
    binary_output = draw((4, 3), seed=17) if from_logits else _probabilities((4, 3), 18)

    def probs(o):
        if from_logits:
            return np.exp(o) / np.exp(o).sum(-1, keepdims=True)
        return np.clip(o / o.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)

    def bprobs(o):
        return 1 / (1 + np.exp(-o)) if from_logits else np.clip(o, 1e-7, 1 - 1e-7)

    check_op(lambda o: ops.nn.categorical_crossentropy(target, o, from_logits),
             lambda o: -(target * np.log(probs(o))).sum(-1), output)
    check_op(lambda o: ops.nn.sparse_categorical_crossentropy(labels, o, from_logits),
             lambda o: -np.log(probs(o)[np.arange(4), labels]), output)
    check_op(lambda o: ops.nn.binary_crossentropy(binary_target, o, from_logits),
             lambda o: -(binary_target * np.log(bprobs(o)) +
                         (1 - binary_target) * np.log(1 - bprobs(o))), binary_output)
    keras = _keras()
    for name, t, o in [("categorical_crossentropy", target, output),
                       ("sparse_categorical_crossentropy", labels, output),
                       ("binary_crossentropy", binary_target, binary_output)]:
        t = t.astype("float32") if t.dtype.kind == "f" else t
        expected = keras.ops.convert_to_numpy(getattr(keras.ops.nn, name)(
            t, o.astype("float32"), from_logits=from_logits))
        got = getattr(ops.nn, name)(t, o.astype("float32"), from_logits=from_logits).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=name)


def test_crossentropies_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="'target' parameter of categorical_crossentropy must "
                                         r"have the shape of 'output' \(2, 3\)"):
        ops.nn.categorical_crossentropy(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="'target' parameter of binary_crossentropy"):
        ops.nn.binary_crossentropy(np.ones(3), np.ones(2))


def test_gradcheck_of_tensordot_against_a_broadcast_free_reference():
    # the same contraction written with einsum: another route to the gradient's value
    a, b = draw((2, 3, 4), seed=19), draw((4, 3, 5), seed=20)
    out = ops.tensordot(profond.tensor(a), profond.tensor(b), axes=([1, 2], [1, 0]))
    np.testing.assert_allclose(out.numpy(), np.einsum("ijk,kjl->il", a, b), rtol=1e-6)
    assert gradcheck(lambda x: ops.tensordot(x, b, axes=([1, 2], [1, 0])), a)
