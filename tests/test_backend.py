"""Backend: array module dispatch, default float dtype, the seeded random source, and the clear
error when CuPy is asked for and absent."""

import numpy as np
import pytest

import profond
from profond import backend, initializers
from profond import random as prandom


def test_defaults_are_numpy_and_float32():
    assert backend.get_backend() == "numpy" and backend.xp() is np
    assert backend.floatx() == "float32"
    assert profond.tensor([1.0]).dtype == np.float32
    assert profond.tensor(np.array([1.0])).dtype == np.float32  # float64 data becomes float32
    assert profond.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    assert backend.get_array_module(np.ones(2), 1.0, None) is np


def test_float64_on_request():
    with backend.floatx_scope("float64"):
        assert profond.tensor([1.0]).dtype == np.float64
        assert profond.layers.Dense(2)(np.ones((1, 3))).dtype == np.float64
    assert backend.floatx() == "float32"
    backend.set_floatx(np.float64)
    assert backend.floatx() == "float64"
    with pytest.raises(ValueError, match=r"'dtype' parameter of set_floatx must be one of"):
        backend.set_floatx("float16")


def test_asarray_keeps_scalars_and_makes_contiguous_arrays():
    assert backend.asarray(2.0).shape == ()
    assert backend.asarray(np.float64(2.0)).dtype == np.float32
    a = backend.asarray(np.ones((3, 4)).T)
    assert a.flags["C_CONTIGUOUS"] and a.dtype == np.float32
    np.testing.assert_array_equal(backend.to_numpy(a), np.ones((4, 3)))


def test_scatter_add_accumulates_repeated_indices():
    target = np.zeros(3)
    backend.scatter_add(target, np.array([0, 2, 0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(target, [4, 0, 2])


def test_erf_matches_math_erf():
    import math

    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(backend.erf(x), [math.erf(v) for v in x], rtol=1e-12)


def test_unknown_backend_and_missing_cupy():
    with pytest.raises(ValueError, match=r"must be one of \['numpy', 'cupy'\]"):
        backend.set_backend("jax")
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="CuPy is not installed"):
            backend.set_backend("cupy")
        assert backend.get_backend() == "numpy"
        assert not backend.is_cupy_available()
    else:  # pragma: no cover - GPU machines
        pytest.skip("CuPy is installed here")


def test_seed_reproduces_draws_and_initial_weights():
    prandom.seed(7)
    a = prandom.generator().standard_normal(4)
    prandom.seed(7)
    np.testing.assert_array_equal(prandom.generator().standard_normal(4), a)
    kernels = []
    for _ in range(2):
        prandom.seed(3)
        layer = profond.layers.Dense(5, kernel_initializer="he_normal")
        layer.build((None, 4))
        kernels.append(layer.kernel.numpy())
    np.testing.assert_array_equal(*kernels)
    prandom.seed(4)
    other = profond.layers.Dense(5, kernel_initializer="he_normal")
    other.build((None, 4))
    assert not np.array_equal(other.kernel.numpy(), kernels[0])


def test_seed_argument_gives_a_private_generator():
    g1, g2 = prandom.generator(5), prandom.generator(5)
    np.testing.assert_array_equal(g1.random(3), g2.random(3))
    assert prandom.generator() is prandom.generator()
    init = initializers.GlorotUniform(seed=1)
    np.testing.assert_array_equal(init((3, 2)), initializers.GlorotUniform(seed=1)((3, 2)))


def test_state_round_trip():
    prandom.seed(11)
    state = prandom.get_state()
    a = prandom.generator().random(3)
    prandom.set_state(state)
    np.testing.assert_array_equal(prandom.generator().random(3), a)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        prandom.seed(bad)
