"""Dropout: inverted scaling, inactivity at inference, seeding, spatial masks, errors."""

import numpy as np
import pytest

import profond
from profond import layers, ops


def test_dropout_scales_survivors_and_keeps_the_mean():
    x = np.ones((200, 100))
    out = layers.Dropout(0.3)(x, training=True).numpy()
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7], rtol=1e-6)
    dropped = (out == 0).mean()
    assert abs(dropped - 0.3) < 0.01  # 20,000 draws: 3.5 standard deviations is 0.011
    assert abs(out.mean() - 1.0) < 0.02


@pytest.mark.parametrize("training", [False, None])
def test_dropout_is_the_identity_outside_training(training):
    x = profond.tensor(np.random.default_rng(0).normal(size=(4, 5)))
    out = layers.Dropout(0.5)(x, training=training)
    np.testing.assert_array_equal(out.numpy(), x.numpy())


def test_predict_and_evaluate_do_not_drop():
    model = profond.Sequential([layers.Input((20,)), layers.Dropout(0.9),
                                layers.Dense(1, kernel_initializer="ones")])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 20))
    np.testing.assert_allclose(model.predict(x, verbose=0), np.full((8, 1), 20.0), rtol=1e-6)
    assert model.evaluate(x, np.full(8, 20.0), verbose=0) == pytest.approx(0.0, abs=1e-8)


def test_gradient_is_the_mask():
    x = profond.tensor(np.full((6, 7), 2.0), requires_grad=True)
    out = ops.dropout(x, 0.5, seed=3)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.numpy() / 2.0)


def test_global_seed_reproduces_masks():
    x = np.ones((5, 8))
    profond.random.seed(7)
    a = layers.Dropout(0.5)(x, training=True).numpy()
    profond.random.seed(7)
    b = layers.Dropout(0.5)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)


def test_layer_seed_gives_its_own_reproducible_stream():
    x = np.ones((5, 8))
    first, second = layers.Dropout(0.5, seed=11), layers.Dropout(0.5, seed=11)
    a1, a2 = first(x, training=True).numpy(), first(x, training=True).numpy()
    profond.random.seed(999)  # the global generator does not matter
    b1, b2 = second(x, training=True).numpy(), second(x, training=True).numpy()
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)  # successive calls draw new masks


def test_rate_zero_is_the_identity_and_noise_shape_broadcasts():
    x = profond.tensor(np.ones((3, 4, 5)))
    assert ops.dropout(x, 0.0) is x
    out = layers.Dropout(0.5, noise_shape=(None, 1, 5))(x, training=True).numpy()
    assert (out == out[:, :1, :]).all()


@pytest.mark.parametrize("cls,shape", [(layers.SpatialDropout1D, (4, 10, 6)),
                                       (layers.SpatialDropout2D, (4, 5, 5, 6))])
def test_spatial_dropout_drops_whole_channels(cls, shape):
    x = np.ones(shape)
    out = cls(0.5, seed=0)(x, training=True).numpy()
    per_channel = out.reshape(shape[0], -1, shape[-1])
    assert (per_channel == per_channel[:, :1]).all()
    assert set(np.unique(per_channel).tolist()) == {0.0, 2.0}
    np.testing.assert_array_equal(cls(0.5)(x, training=False).numpy(), x)
    assert cls(0.5).compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:]


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "half", None])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match=r"The 'rate' parameter of Dropout must be a float in "
                                         r"\[0, 1\)"):
        layers.Dropout(rate)


def test_other_errors():
    with pytest.raises(ValueError, match="The 'rate' parameter of SpatialDropout2D"):
        layers.SpatialDropout2D(-1)
    with pytest.raises(ValueError, match="The 'seed' parameter of Dropout"):
        layers.Dropout(0.5, seed=-3)
    with pytest.raises(ValueError, match=r"'s' \(SpatialDropout2D\) must have rank 4"):
        layers.SpatialDropout2D(0.5, name="s")(np.ones((2, 3, 4)), training=True)
    with pytest.raises(ValueError, match="'noise_shape' parameter of dropout must broadcast"):
        ops.dropout(profond.tensor(np.ones((2, 3))), 0.5, noise_shape=(2, 2))
    with pytest.raises(ValueError, match="'rate' parameter of dropout"):
        ops.dropout(profond.tensor(np.ones((2, 3))), 1.0)


def test_config_round_trip():
    layer = layers.Dropout(0.25, noise_shape=(None, 1), seed=3)
    clone = layers.Dropout.from_config(layer.get_config())
    assert (clone.rate, clone.noise_shape, clone.seed) == (0.25, (None, 1), 3)
    spatial = layers.SpatialDropout2D.from_config(layers.SpatialDropout2D(0.1).get_config())
    assert spatial.rate == 0.1
