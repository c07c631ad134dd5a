"""Initializers: fans, means and variances on large tensors, seeding, names, errors."""

import math

import numpy as np
import pytest

import profond
from profond import initializers
from profond.initializers import (Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
                                  Identity, LecunNormal, LecunUniform, Ones, Orthogonal,
                                  RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
                                  Zeros, compute_fans)

# A standard normal truncated to [-2, 2] has variance 1 - 4 phi(2) / (2 Phi(2) - 1).
_PHI2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
_TRUNC_VAR = 1 - 4 * _PHI2 / math.erf(2 / math.sqrt(2))


def test_truncation_constant_is_keras():
    assert math.sqrt(_TRUNC_VAR) == pytest.approx(0.87962566103423978, rel=1e-12)


@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)), ((7,), (7, 7)), ((30, 40), (30, 40)),          # bias, Dense
    ((3, 5, 8), (15, 24)),                                         # Conv1D (k, in, out)
    ((3, 3, 16, 32), (144, 288)),                                  # Conv2D (kh, kw, in, out)
    ((10, 4 * 6), (10, 24)),                                       # LSTM kernel (in, 4u)
])
def test_fans_as_keras_computes_them(shape, fans):
    assert compute_fans(shape) == fans


SHAPE = (400, 500)  # fan_in 400, fan_out 500, fan_avg 450
N_IN, N_OUT, N_AVG = 400, 500, 450


@pytest.mark.parametrize("init, variance, limit", [
    (GlorotUniform(seed=1), 1 / N_AVG, math.sqrt(3 / N_AVG)),
    (GlorotNormal(seed=1), 1 / N_AVG, 2 * math.sqrt(1 / N_AVG) / 0.87962566103423978),
    (HeUniform(seed=1), 2 / N_IN, math.sqrt(6 / N_IN)),
    (HeNormal(seed=1), 2 / N_IN, 2 * math.sqrt(2 / N_IN) / 0.87962566103423978),
    (LecunUniform(seed=1), 1 / N_IN, math.sqrt(3 / N_IN)),
    (LecunNormal(seed=1), 1 / N_IN, 2 * math.sqrt(1 / N_IN) / 0.87962566103423978),
    (VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=1), 3 / N_OUT, None),
    (VarianceScaling(0.5, "fan_avg", "uniform", seed=1), 0.5 / N_AVG, math.sqrt(1.5 / N_AVG)),
    (RandomNormal(0.0, 0.2, seed=1), 0.04, None),
    (RandomUniform(-0.3, 0.3, seed=1), 0.6 ** 2 / 12, 0.3),
    (TruncatedNormal(0.0, 0.2, seed=1), 0.04 * _TRUNC_VAR, 0.4),
], ids=lambda v: repr(v) if not isinstance(v, float) else None)
def test_moments_match_the_formulas(init, variance, limit):
    w = init(SHAPE, dtype="float64")
    n = w.size
    assert w.shape == SHAPE and w.dtype == np.float64
    # The sample mean has standard error sqrt(variance / n); the sample variance about
    # variance * sqrt(2 / n) (less for uniform draws): 5 standard errors.
    assert abs(w.mean()) < 5 * math.sqrt(variance / n)
    assert w.var() == pytest.approx(variance, rel=5 * math.sqrt(2 / n))
    if limit is not None:
        assert np.abs(w).max() <= limit + 1e-12
        assert np.abs(w).max() > 0.98 * limit  # the support is really used


def test_means_away_from_zero():
    assert RandomNormal(mean=1.5, stddev=0.1, seed=0)((300, 300)).mean() == pytest.approx(
        1.5, abs=1e-3)
    w = TruncatedNormal(mean=-2.0, stddev=0.5, seed=0)((300, 300))
    assert w.mean() == pytest.approx(-2.0, abs=5e-3) and w.min() >= -3.0 and w.max() <= -1.0
    assert RandomUniform(1.0, 3.0, seed=0)((300, 300)).mean() == pytest.approx(2.0, abs=1e-2)


def test_conv_kernel_uses_receptive_field():
    w = HeNormal(seed=0)((3, 3, 64, 64), dtype="float64")
    assert w.var() == pytest.approx(2 / (9 * 64), rel=0.03)


def test_defaults_and_dtype():
    w = GlorotUniform()((3, 4))
    assert w.dtype == np.float32
    with profond.backend.floatx_scope("float64"):
        assert GlorotUniform()((3, 4)).dtype == np.float64
    assert np.array_equal(Zeros()((2, 2)), np.zeros((2, 2)))
    assert np.array_equal(Ones()((3,)), np.ones(3))
    assert np.array_equal(Constant(2.5)((2,)), [2.5, 2.5])
    assert np.array_equal(Constant([1.0, 2.0])((3, 2)), [[1, 2]] * 3)
    with pytest.raises(ValueError, match=r"'shape' parameter of Constant must be a shape that its "
                                         r"value of shape \(2,\) can fill.*Got \(3,\) instead"):
        Constant([1.0, 2.0])((3,))
    rn = RandomNormal()
    assert (rn.mean, rn.stddev) == (0.0, 0.05)
    assert (RandomUniform().minval, RandomUniform().maxval) == (-0.05, 0.05)


def test_seeded_initializers_repeat_and_unseeded_do_not():
    a = HeNormal(seed=7)
    assert np.array_equal(a((5, 5)), a((5, 5)))  # Keras: a seeded initializer repeats
    assert np.array_equal(a((5, 5)), HeNormal(seed=7)((5, 5)))
    assert not np.array_equal(a((5, 5)), HeNormal(seed=8)((5, 5)))
    b = HeNormal()
    assert not np.array_equal(b((5, 5)), b((5, 5)))
    profond.random.seed(3)
    first = b((5, 5))
    profond.random.seed(3)
    assert np.array_equal(first, b((5, 5)))  # the global seed makes runs reproducible


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 3, 4, 8), (3, 3, 8, 4)])
def test_orthogonal(shape):
    gain = 1.7
    q = Orthogonal(gain=gain, seed=0)(shape, dtype="float64")
    flat = q.reshape(-1, shape[-1]) / gain
    rows, cols = flat.shape
    if rows >= cols:
        np.testing.assert_allclose(flat.T @ flat, np.eye(cols), atol=1e-10)
    else:
        np.testing.assert_allclose(flat @ flat.T, np.eye(rows), atol=1e-10)
    with pytest.raises(ValueError, match="rank >= 2"):
        Orthogonal()((4,))


def test_identity():
    np.testing.assert_array_equal(Identity()((3, 3)), np.eye(3))
    np.testing.assert_array_equal(Identity(0.5)((2, 3)), 0.5 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2-D"):
        Identity()((2, 2, 2))


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", GlorotUniform), ("GlorotUniform", GlorotUniform),
    ("xavier_normal", GlorotNormal), ("he_normal", HeNormal), ("he_uniform", HeUniform),
    ("lecun_normal", LecunNormal), ("lecun_uniform", LecunUniform),
    ("orthogonal", Orthogonal), ("OrthogonalInitializer", Orthogonal),
    ("variance_scaling", VarianceScaling), ("random_normal", RandomNormal),
    ("normal", RandomNormal), ("uniform", RandomUniform), ("truncated_normal", TruncatedNormal),
    ("zeros", Zeros), ("zero", Zeros), ("ones", Ones), ("one", Ones), ("constant", Constant),
    ("identity", Identity),
])
def test_names_resolve(name, cls):
    assert type(initializers.get(name)) is cls


def test_get_and_serialize():
    init = VarianceScaling(2.0, mode="fan_out", distribution="normal", seed=4)
    assert init.distribution == "truncated_normal"  # Keras's alias
    clone = initializers.get(initializers.serialize(init))
    assert type(clone) is VarianceScaling and clone.get_config() == init.get_config()
    assert np.array_equal(clone((3, 3)), init((3, 3)))
    assert initializers.get(HeNormal(seed=1)).seed == 1
    assert type(initializers.get(HeNormal)) is HeNormal
    fn = lambda shape, dtype=None: np.zeros(shape)  # noqa: E731
    assert initializers.get(fn) is fn
    for cls in (GlorotUniform, HeNormal, Orthogonal, Constant, Identity):
        obj = cls()
        assert type(cls.from_config(obj.get_config())) is cls
    with pytest.raises(ValueError, match="Valid names: .*'he_normal'"):
        initializers.get("he_normall")
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        initializers.get(3)


def test_layers_use_them():
    dense = profond.layers.Dense(300, kernel_initializer="he_uniform")
    dense.build((None, 600))
    w = dense.kernel.numpy()
    assert np.abs(w).max() <= math.sqrt(6 / 600) + 1e-6
    assert w.var() == pytest.approx(2 / 600, rel=0.03)
    assert np.all(dense.bias.numpy() == 0)


@pytest.mark.parametrize("make, message", [
    (lambda: RandomNormal(stddev=-1.0), "'stddev' parameter of RandomNormal"),
    (lambda: RandomUniform(1.0, 0.0), "'maxval' parameter of RandomUniform"),
    (lambda: VarianceScaling(scale=0.0), "'scale' parameter of VarianceScaling"),
    (lambda: VarianceScaling(mode="fan_max"), "'mode' parameter of VarianceScaling"),
    (lambda: VarianceScaling(distribution="cauchy"), "'distribution' parameter"),
    (lambda: HeNormal(seed=-1), "'seed' parameter of HeNormal"),
    (lambda: GlorotUniform(seed=1.5), "'seed' parameter of GlorotUniform"),
    (lambda: Constant(float("nan")), "'value' parameter of Constant"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)
