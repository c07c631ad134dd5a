"""Regularizers: values, exact gradients, names, and the penalty in the training loss."""

import numpy as np
import pytest

import profond
from profond import layers, regularizers
from profond.regularizers import L1, L1L2, L2, OrthogonalRegularizer
from profond.testing import gradcheck


def _away_from_zero(shape, seed=0):
    """Values with |w| >= 0.1, so that |w| is differentiable at every finite-difference point."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 2.0, size=shape)
    return w * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("reg, formula", [
    (L1(0.3), lambda w: 0.3 * np.abs(w).sum()),
    (L2(0.3), lambda w: 0.3 * (w ** 2).sum()),
    (L1L2(l1=0.2, l2=0.05), lambda w: 0.2 * np.abs(w).sum() + 0.05 * (w ** 2).sum()),
    (L1L2(), lambda w: 0.0),
])
def test_values(reg, formula):
    w = _away_from_zero((4, 5))
    with profond.backend.floatx_scope("float64"):
        got = float(reg(profond.tensor(w)))
    assert got == pytest.approx(formula(w), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("reg", [L1(0.3), L2(0.3), L1L2(l1=0.2, l2=0.05), L1L2(),
                                 OrthogonalRegularizer(0.5), OrthogonalRegularizer(0.5, "columns")],
                         ids=repr)
@pytest.mark.parametrize("shape", [(3, 4), (6, 2)])
def test_gradients_by_gradcheck(reg, shape):
    assert gradcheck(lambda w: reg(w), _away_from_zero(shape))


def test_gradient_values():
    w = profond.tensor([-2.0, 0.5, 0.0], requires_grad=True)
    L1L2(l1=0.1, l2=0.25)(w).backward()
    np.testing.assert_allclose(w.grad, [-0.1 - 1.0, 0.1 + 0.25, 0.0])  # sign(0) = 0


def test_orthogonal_regularizer():
    reg = OrthogonalRegularizer(factor=2.0)
    assert float(reg(profond.tensor(np.eye(4)))) == pytest.approx(0.0, abs=1e-7)
    # Two identical rows and one orthogonal to both: |cos| = 1 for one pair out of three.
    w = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert float(reg(profond.tensor(w))) == pytest.approx(2.0 * 0.5 * 2 * 1.0 / 3, rel=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        reg(profond.tensor(np.ones((2, 2, 2))))


def test_names_and_configs():
    assert type(regularizers.get("l1")) is L1 and regularizers.get("l1").l1 == 0.01
    assert type(regularizers.get("L2")) is L2 and regularizers.get("l2").l2 == 0.01
    assert type(regularizers.get("l1_l2")) is L1L2
    assert type(regularizers.get("orthogonal_regularizer")) is OrthogonalRegularizer
    assert type(regularizers.get(L2)) is L2
    assert regularizers.get(None) is None
    for reg in (L1(0.2), L2(0.3), L1L2(0.1, 0.2), OrthogonalRegularizer(0.1, "columns")):
        clone = regularizers.get(regularizers.serialize(reg))
        assert type(clone) is type(reg) and clone.get_config() == reg.get_config()
    assert L1L2(l1=None, l2=None).get_config() == {"l1": 0.0, "l2": 0.0}
    with pytest.raises(ValueError, match="Valid names"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Could not interpret regularizer"):
        regularizers.get(0.1)


@pytest.mark.parametrize("make, message", [
    (lambda: L1(-0.1), "'l1' parameter of L1 must be a float in [0, inf)"),
    (lambda: L2("big"), "'l2' parameter of L2"),
    (lambda: L1L2(l2=float("inf")), "'l2' parameter of L1L2 must be a finite float"),
    (lambda: OrthogonalRegularizer(mode="diagonal"), "'mode' parameter"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)


# --- in layers and in the training loss ------------------------------------------------------

REG = L1L2(l1=0.01, l2=0.02)


def _penalty(arrays):
    return sum(0.01 * np.abs(a).sum() + 0.02 * (a ** 2).sum() for a in arrays)


@pytest.mark.parametrize("make, x_shape, regularized", [
    (lambda: layers.Dense(3, kernel_regularizer=REG, bias_regularizer=REG), (6, 4),
     ["kernel", "bias"]),
    (lambda: layers.Conv1D(2, 3, kernel_regularizer=REG), (6, 5, 2), ["kernel"]),
    (lambda: layers.Conv2D(2, 3, kernel_regularizer=REG, bias_regularizer=REG), (6, 5, 5, 1),
     ["kernel", "bias"]),
    (lambda: layers.SimpleRNN(3, kernel_regularizer=REG, recurrent_regularizer=REG), (6, 4, 2),
     ["kernel", "recurrent_kernel"]),
    (lambda: layers.LSTM(3, recurrent_regularizer=REG, bias_regularizer=REG), (6, 4, 2),
     ["recurrent_kernel", "bias"]),
    (lambda: layers.GRU(3, kernel_regularizer=REG, recurrent_regularizer=REG), (6, 4, 2),
     ["kernel", "recurrent_kernel"]),
])
def test_penalty_is_added_to_the_training_loss(make, x_shape, regularized):
    rng = np.random.default_rng(0)
    x = rng.normal(size=x_shape)
    layer = make()
    model = profond.Sequential([layer, layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.build((None,) + x_shape[1:])
    y = rng.normal(size=(x_shape[0], 1))
    weights = {v.name: v.numpy().astype(np.float64) for v in layer.weights}
    expected_penalty = _penalty([weights[name] for name in regularized])
    assert sum(float(p) for p in model.losses) == pytest.approx(expected_penalty, rel=1e-5)
    mse = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse + expected_penalty, rel=1e-5)
    first = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0).history["loss"][0]
    assert first == pytest.approx(mse + expected_penalty, rel=1e-5)  # as Keras reports it


def test_penalty_gradient_reaches_the_weights():
    # With a zero data loss the only gradient is the penalty's: one SGD step gives
    # w - lr * (l1 * sign(w) + 2 * l2 * w) exactly.
    dense = layers.Dense(2, use_bias=False, kernel_regularizer=L1L2(l1=0.1, l2=0.5))
    model = profond.Sequential([dense])
    model.compile(optimizer=profond.optimizers.SGD(0.1), loss="mse")
    x = np.zeros((4, 3))
    model.build((None, 3))
    w = dense.kernel.numpy().astype(np.float64)
    model.fit(x, np.zeros((4, 2)), epochs=1, batch_size=4, verbose=0)
    np.testing.assert_allclose(dense.kernel.numpy(), w - 0.1 * (0.1 * np.sign(w) + 1.0 * w),
                               rtol=1e-5, atol=1e-7)


def test_activity_regularizer_penalises_outputs():
    dense = layers.Dense(2, activity_regularizer=L2(0.5))
    model = profond.Sequential([dense])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).normal(size=(5, 3))
    y = np.zeros((5, 2))
    out = model.predict(x, verbose=0).astype(np.float64)
    # Keras 3 divides the activity penalty by the batch size
    expected = float(np.mean(out ** 2)) + 0.5 * float((out ** 2).sum()) / 5
    assert model.evaluate(x, y, batch_size=5, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_add_loss_joins_the_training_loss_each_step_and_is_cleared():
    class KLLike(layers.Layer):
        """A VAE-style term: pulls the layer's outputs towards zero by an added loss."""

        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1], 2), initializer="ones", name="w")

        def call(self, inputs):
            out = inputs @ self.w
            self.add_loss(0.5 * profond.ops.mean(out ** 2))
            return out

    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.zeros((8, 2), "float32")
    model = profond.Sequential([layers.Input((3,)), KLLike()])
    model.compile(optimizer=profond.optimizers.SGD(0.1), loss="mae")
    out = x @ np.ones((3, 2))
    expected = np.mean(np.abs(out)) + 0.5 * np.mean(out ** 2)
    assert model.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(expected, rel=1e-5)
    first = model.train_on_batch(x, y)
    assert first == pytest.approx(expected, rel=1e-5)
    assert len(model.losses) == 1  # the last step's term only: cleared before each step
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < first
