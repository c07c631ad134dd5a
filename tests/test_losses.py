"""Losses against NumPy transcriptions of Keras 3's formulas: reductions, sample weights inside
the reduction (``sum_over_batch_size`` = sum(w * l) / n), from_logits, label smoothing, fused
softmax/sigmoid + cross-entropy equal to the unfused computation, and gradients."""

import numpy as np
import pytest
from _opcheck import draw

import profond
from profond import activations, losses
from profond.layers.masks import set_mask
from profond.testing import gradcheck

EPS = 1e-7


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# Per-sample references (last axis reduced), transcribed from keras/src/losses/losses.py
def ref_mse(t, p):
    return np.mean((p - t) ** 2, axis=-1)


def ref_mae(t, p):
    return np.mean(np.abs(p - t), axis=-1)


def ref_huber(t, p, delta=1.0):
    a = np.abs(p - t)
    q = np.minimum(a, delta)
    return np.mean(0.5 * q ** 2 + delta * (a - q), axis=-1)


def ref_logcosh(t, p):
    return np.mean(np.log(np.cosh(p - t)), axis=-1)


def ref_bce(t, p, ls=0.0):
    t = t * (1 - ls) + 0.5 * ls
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)), axis=-1)


def ref_cce(t, p, ls=0.0):
    t = t * (1 - ls) + ls / t.shape[-1]
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(p), axis=-1)


def _data(n=6, k=4, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * 2
    labels = rng.integers(0, k, size=n)
    onehot = np.eye(k)[labels]
    return logits, labels, onehot


REGRESSION = [(losses.MeanSquaredError, ref_mse, "mse"), (losses.MeanAbsoluteError, ref_mae, "mae"),
              (losses.Huber, ref_huber, "huber"), (losses.LogCosh, ref_logcosh, "log_cosh")]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("cls,ref,name", REGRESSION, ids=lambda v: getattr(v, "__name__", v))
def test_regression_losses(cls, ref, name, reduction):
    t = draw((5, 3), low=-2, high=2, seed=1)
    p = draw((5, 3), low=-3, high=3, seed=2)
    w = np.array([1.0, 0.0, 2.0, 0.5, 3.0])
    per = ref(t, p)
    expected = {"sum_over_batch_size": (per * w).sum() / per.size, "sum": (per * w).sum(),
                "none": per * w}[reduction]
    out = cls(reduction=reduction)(t, profond.tensor(p, dtype="float64"), sample_weight=w)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)
    unweighted = losses.get(name)(t, profond.tensor(p, dtype="float64"))
    np.testing.assert_allclose(unweighted.numpy(), per.mean(), rtol=1e-10)
    # dodge the kinks of |e| (MAE) and |e| = delta (Huber)
    pd = t + np.where(np.abs(p - t) < 0.2, 0.5, p - t)
    pd = np.where(np.abs(np.abs(pd - t) - 1.0) < 0.1, t + 1.5 * np.sign(pd - t), pd)
    assert gradcheck(lambda y: cls(reduction=reduction)(t, y, sample_weight=w), pd)


def test_huber_delta_and_float32():
    t, p = draw((4, 2), seed=3), draw((4, 2), low=-4, high=4, seed=4)
    out = losses.Huber(delta=0.5)(t, profond.tensor(p))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref_huber(t, p, 0.5).mean(), rtol=1e-5)


@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_binary_crossentropy(ls):
    rng = np.random.default_rng(5)
    z = rng.normal(size=(6, 2)) * 3
    t = rng.integers(0, 2, size=(6, 2)).astype(float)
    p = _sigmoid(z)
    expected = ref_bce(t, p, ls).mean()
    from_probs = losses.BinaryCrossentropy(label_smoothing=ls)(t, profond.tensor(p, dtype="float64"))
    np.testing.assert_allclose(from_probs.numpy(), expected, rtol=1e-8)
    from_logits = losses.BinaryCrossentropy(from_logits=True, label_smoothing=ls)(
        t, profond.tensor(z, dtype="float64"))
    np.testing.assert_allclose(from_logits.numpy(), expected, rtol=1e-6)
    fused = losses.BinaryCrossentropy(label_smoothing=ls)(
        t, activations.sigmoid(profond.tensor(z, dtype="float64")))
    np.testing.assert_allclose(fused.numpy(), expected, rtol=1e-6)
    for fn in (lambda y: losses.BinaryCrossentropy(label_smoothing=ls)(t, activations.sigmoid(y)),
               lambda y: losses.BinaryCrossentropy(from_logits=True, label_smoothing=ls)(t, y)):
        assert gradcheck(fn, z)


@pytest.mark.parametrize("ls", [0.0, 0.2])
def test_categorical_crossentropy(ls):
    z, _, onehot = _data(seed=6)
    expected = ref_cce(onehot, _softmax(z), ls).mean()
    probs = profond.tensor(_softmax(z), dtype="float64")
    np.testing.assert_allclose(losses.CategoricalCrossentropy(label_smoothing=ls)(onehot, probs)
                               .numpy(), expected, rtol=1e-8)
    logits = profond.tensor(z, dtype="float64")
    np.testing.assert_allclose(losses.CategoricalCrossentropy(from_logits=True, label_smoothing=ls)
                               (onehot, logits).numpy(), expected, rtol=1e-6)
    assert gradcheck(lambda y: losses.CategoricalCrossentropy(label_smoothing=ls)(
        onehot, activations.softmax(y)), z)
    assert gradcheck(lambda y: losses.CategoricalCrossentropy(from_logits=True,
                                                              label_smoothing=ls)(onehot, y), z)


@pytest.mark.parametrize("labels_shape", ["flat", "column"])
def test_sparse_categorical_crossentropy(labels_shape):
    z, labels, onehot = _data(seed=7)
    y = labels if labels_shape == "flat" else labels[:, None]
    expected = ref_cce(onehot, _softmax(z)).mean()
    for y_pred, kw in ((_softmax(z), {}), (z, dict(from_logits=True))):
        out = losses.SparseCategoricalCrossentropy(**kw)(y, profond.tensor(y_pred, dtype="float64"))
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert gradcheck(lambda p: losses.SparseCategoricalCrossentropy(from_logits=True)(y, p), z)
    assert gradcheck(lambda p: losses.SparseCategoricalCrossentropy()(y, activations.softmax(p)),
                     z)
    # unfused path: probabilities that did not come from a softmax node
    assert gradcheck(lambda p: losses.SparseCategoricalCrossentropy()(y, p / p.sum(axis=-1,
                                                                                 keepdims=True)),
                     _softmax(z))


def test_sparse_with_label_smoothing_equals_categorical():
    z, labels, onehot = _data(seed=8)
    a = losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(
        labels, profond.tensor(z, dtype="float64"))
    b = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(
        onehot, profond.tensor(z, dtype="float64"))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
    assert gradcheck(lambda p: losses.SparseCategoricalCrossentropy(
        from_logits=True, label_smoothing=0.1)(labels, p), z)


@pytest.mark.parametrize("kind", ["softmax_sparse", "softmax_onehot", "sigmoid"])
def test_fused_equals_unfused_in_value_and_gradient(kind):
    z, labels, onehot = _data(seed=9)
    results = []
    for fused in (True, False):
        x = profond.tensor(z, requires_grad=True, dtype="float64")
        if kind == "sigmoid":
            t = (onehot > 0).astype(float)
            p = activations.sigmoid(x) if fused else 1 / (1 + profond.ops.exp(-x))
            loss = losses.BinaryCrossentropy()(t, p)
        else:
            p = activations.softmax(x) if fused else profond.ops.exp(
                activations.log_softmax(x))
            loss = (losses.SparseCategoricalCrossentropy()(labels, p) if kind == "softmax_sparse"
                    else losses.CategoricalCrossentropy()(onehot, p))
        loss.backward()
        results.append((loss.numpy(), x.grad))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-9)


def test_fused_cross_entropy_is_stable_for_huge_logits():
    z = profond.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([1]), z)
    np.testing.assert_allclose(loss.numpy(), 2000.0, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(z.grad, [[1.0, -1.0, 0.0]], atol=1e-6)
    b = losses.BinaryCrossentropy(from_logits=True)(np.array([[0.0, 1.0]]),
                                                    profond.tensor([[500.0, -500.0]]))
    np.testing.assert_allclose(b.numpy(), 500.0, rtol=1e-6)


def test_softmax_on_another_axis_is_not_fused_wrongly():
    z, _, _ = _data(seed=10)
    p = activations.softmax(profond.tensor(z, dtype="float64"), axis=0)
    t = np.eye(z.shape[1])[np.zeros(z.shape[0], dtype=int)]
    out = losses.CategoricalCrossentropy()(t, p)
    np.testing.assert_allclose(out.numpy(), ref_cce(t, _softmax(z.T).T).mean(), rtol=1e-8)


def test_sample_weight_column_and_mean_reduction_divides_by_n_not_by_weights():
    t, p = draw((4, 1), seed=11), draw((4, 1), seed=12)
    w = np.array([[1.0], [0.0], [0.0], [0.0]])
    out = losses.MeanSquaredError()(t, profond.tensor(p, dtype="float64"), sample_weight=w)
    np.testing.assert_allclose(out.numpy(), ((p - t) ** 2)[0, 0] / 4)


def test_custom_callable_loss_is_weighted_the_same_way():
    def my_loss(y_true, y_pred):
        return ((y_pred - y_true) ** 2).sum(axis=-1)

    loss = losses.get(my_loss)
    t, p = draw((3, 2), seed=13), draw((3, 2), seed=14)
    w = np.array([1.0, 2.0, 0.0])
    out = loss(t, profond.tensor(p, dtype="float64"), sample_weight=w)
    np.testing.assert_allclose(out.numpy(), (((p - t) ** 2).sum(-1) * w).sum() / 3)
    assert loss.name == "my_loss"


def test_get_and_serialize():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("sparse_categorical_crossentropy"),
                      losses.SparseCategoricalCrossentropy)
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    again = losses.get(losses.serialize(loss))
    assert isinstance(again, losses.CategoricalCrossentropy)
    assert again.get_config() == loss.get_config()
    with pytest.raises(ValueError, match=r"Unknown loss 'msee'.*'mse'"):
        losses.get("msee")
    with pytest.raises(ValueError, match="'reduction' parameter"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match="'label_smoothing' parameter"):
        losses.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="'delta' parameter"):
        losses.Huber(delta=0)


# --- the reduced cross-entropy node --------------------------------------------------------------
_CE_CASES = [
    ("sparse", lambda: losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1)),
    ("categorical", lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)),
    ("binary", lambda: losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)),
]


def _targets(kind, shape, rng):
    if kind == "sparse":
        return rng.integers(0, shape[-1], shape[:-1])
    if kind == "categorical":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    return rng.integers(0, 2, shape).astype(np.float64)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean",
                                       "mean_with_sample_weight"])
@pytest.mark.parametrize("weights", ["none", "per_sample", "column", "per_step", "mask"])
@pytest.mark.parametrize("kind,make", _CE_CASES, ids=[c[0] for c in _CE_CASES])
def test_reduced_node_equals_per_sample_values_then_reduction(kind, make, weights, reduction):
    """The cross-entropies reduce inside their node; the result and its gradient must equal the
    general path: per-sample values, weighted, then reduced."""
    rng = np.random.default_rng(3)
    shape = (5, 4, 3)  # samples, steps, classes: per-step weights and masks apply
    z = draw(shape, seed=4)
    t = _targets(kind, shape, rng)
    sw = {"none": None, "per_sample": rng.uniform(0.5, 2, 5), "column": rng.uniform(0.5, 2, (5, 1)),
          "per_step": rng.uniform(0, 2, (5, 4)), "mask": None}[weights]
    mask = (rng.random((5, 4)) > 0.3) if weights == "mask" else None
    loss = make()
    loss.reduction = reduction

    def run(fused):
        x = profond.tensor(z, requires_grad=True, dtype="float64")
        if mask is not None:
            set_mask(x, mask)
        if fused:
            out = loss(t, x, sw)
        else:
            out = losses.reduce_weighted(loss.call(t, x), sw, mask, reduction)
        out.backward()
        return float(out), x.grad

    (fused_value, fused_grad), (plain_value, plain_grad) = run(True), run(False)
    np.testing.assert_allclose(fused_value, plain_value, rtol=1e-12)
    np.testing.assert_allclose(fused_grad, plain_grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("sparse", [True, False])
def test_softmax_cross_entropy_reduced_gradcheck(reduction, sparse):
    rng = np.random.default_rng(0)
    z = draw((4, 5), seed=1)
    t = rng.integers(0, 5, 4) if sparse else rng.dirichlet(np.ones(5), 4)
    w = rng.uniform(0.1, 2.0, 4)

    def fn(x):
        return profond.ops.softmax_cross_entropy(x, t, sparse=sparse, label_smoothing=0.1,
                                                 weight=w, reduction=reduction)
    assert gradcheck(fn, z)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_sigmoid_cross_entropy_reduced_gradcheck(reduction):
    z = draw((3, 4), seed=2)
    t = np.random.default_rng(1).uniform(0, 1, (3, 4))
    assert gradcheck(lambda x: profond.ops.sigmoid_cross_entropy(
        x, t, weight=np.array([[0.5], [1.0], [2.0]]), reduction=reduction), z)


def test_reduced_cross_entropy_bad_arguments():
    z = profond.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="'reduction'.*'avg'"):
        profond.ops.softmax_cross_entropy(z, [0, 1], sparse=True, reduction="avg")
    with pytest.raises(ValueError, match=r"'weight' parameter of softmax_cross_entropy.*\(2,\)\. "
                                         r"Got shape \(3,\) instead"):
        profond.ops.softmax_cross_entropy(z, [0, 1], sparse=True, weight=np.ones(3),
                                          reduction="sum")


@pytest.mark.parametrize("name", ["categorical_crossentropy", "sparse_categorical_crossentropy",
                                  "binary_crossentropy", "mean_squared_error"])
def test_zero_d_prediction_gets_a_clear_error(name):
    y_pred = profond.ops.softmax(profond.tensor(1.0))  # softmax of a 0-d tensor is 1, shape ()
    with pytest.raises(ValueError, match=rf"The 'y_pred' parameter of {name} must have at "
                                         r"least one axis.*shape \(\), instead"):
        getattr(losses, name)(0, y_pred)
    with pytest.raises(ValueError, match="at least one axis"):
        losses.get(name)(0, y_pred)
