"""The optimizers' two update paths, the NumPy passes and the compiled loops (numba, optional),
give the same variables and slots (SGD: the same bits)."""

import numpy as np
import pytest

from profond import Variable
from profond.ops import kernels
from profond.optimizers import SGD, Adam, AdamW, _compiled

needs_numba = pytest.mark.skipif(not kernels.available(), reason="numba not installed")


def _steps(enabled, monkeypatch, make, w0, grads):
    monkeypatch.setattr(kernels, "ENABLED", enabled)
    w = Variable(w0.copy(), dtype=w0.dtype.name)
    opt = make()
    for g in grads:
        opt.apply([g], [w])
    return w.numpy(), {k: a.copy() for k, a in opt._slots[0].items()}


MAKERS = [lambda: Adam(0.01), lambda: Adam(0.01, amsgrad=True, epsilon=1e-3),
          lambda: AdamW(0.01, weight_decay=0.1, beta_1=0.5, amsgrad=True)]


@needs_numba
@pytest.mark.parametrize("make", MAKERS, ids=["adam", "amsgrad", "adamw"])
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-14)])
def test_compiled_update_equals_numpy(make, dtype, rtol, monkeypatch, rng):
    w0 = rng.normal(size=(6, 5)).astype(dtype)
    # shrinking gradients, so that AMSGrad's maximum keeps old second moments
    grads = [(rng.normal(size=(6, 5)) * 0.5 ** k).astype(dtype) for k in range(6)]
    calls = []
    fused = _compiled.kernel("adam", np)
    monkeypatch.setitem(_compiled.kernel.table, "adam",
                        lambda *a: calls.append(1) or fused(*a))
    w_c, slots_c = _steps(True, monkeypatch, make, w0, grads)
    assert len(calls) == len(grads)                    # the compiled path did run
    w_n, slots_n = _steps(False, monkeypatch, make, w0, grads)
    assert len(calls) == len(grads)                    # and the NumPy one did not call it
    assert w_c.dtype == dtype
    np.testing.assert_allclose(w_c, w_n, rtol=rtol, atol=0)
    assert slots_c.keys() == slots_n.keys()
    for k in slots_c:
        np.testing.assert_allclose(slots_c[k], slots_n[k], rtol=rtol, atol=0, err_msg=k)


@needs_numba
@pytest.mark.parametrize("amsgrad", [False, True])
def test_compiled_update_propagates_nan_as_numpy(amsgrad, monkeypatch, rng):
    w0 = rng.normal(size=(8,))
    grads = [rng.normal(size=(8,)) for _ in range(3)]
    grads[1][[2, 5]] = np.nan
    make = lambda: Adam(0.1, amsgrad=amsgrad)  # noqa: E731
    w_c, slots_c = _steps(True, monkeypatch, make, w0, grads)
    w_n, slots_n = _steps(False, monkeypatch, make, w0, grads)
    assert np.isnan(w_c[[2, 5]]).all()
    np.testing.assert_allclose(w_c, w_n, rtol=1e-14, atol=0)
    for k in slots_c:
        np.testing.assert_allclose(slots_c[k], slots_n[k], rtol=1e-14, atol=0, err_msg=k)


@pytest.mark.parametrize("enabled", [False, pytest.param(True, marks=needs_numba)],
                         ids=["numpy", "numba"])
def test_strided_or_mixed_gradients_take_the_numpy_path(enabled, monkeypatch, rng):
    w0 = rng.normal(size=(4, 3)).astype(np.float32)
    base = [rng.normal(size=(3, 4)).astype(np.float32) for _ in range(3)]
    strided = [g.T for g in base]                                   # not C-contiguous
    mixed = [g.T.astype(np.float64) for g in base]                  # float64 for float32
    contiguous = [np.ascontiguousarray(g.T) for g in base]
    ref, _ = _steps(False, monkeypatch, lambda: Adam(0.05), w0, contiguous)
    for grads in (strided, mixed):
        w, _ = _steps(enabled, monkeypatch, lambda: Adam(0.05), w0, grads)
        np.testing.assert_allclose(w, ref, rtol=1e-6, atol=0)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}])
def test_compiled_sgd_equals_numpy_bit_for_bit(options, dtype, monkeypatch):
    """The compiled SGD updates keep NumPy's order of operations: the same bits."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((7, 5)).astype(dtype)
    grads = [rng.standard_normal((7, 5)).astype(dtype) for _ in range(3)]
    name = "sgd_momentum" if options else "sgd"
    calls = []
    fused = _compiled.kernel(name, np)
    monkeypatch.setitem(_compiled.kernel.table, name, lambda *a: calls.append(1) or fused(*a))
    w_c, slots_c = _steps(True, monkeypatch, lambda: SGD(0.05, **options), w0, grads)
    assert len(calls) == len(grads)                    # the compiled path did run
    w_n, slots_n = _steps(False, monkeypatch, lambda: SGD(0.05, **options), w0, grads)
    assert len(calls) == len(grads)
    assert w_c.dtype == dtype and not np.array_equal(w_c, w0)
    np.testing.assert_array_equal(w_c, w_n)
    for k in slots_c:
        np.testing.assert_array_equal(slots_c[k], slots_n[k], err_msg=k)


@pytest.mark.parametrize("enabled", [False, pytest.param(True, marks=needs_numba)],
                         ids=["numpy", "numba"])
def test_sgd_on_mixed_layouts(enabled, monkeypatch):
    """A C-ordered variable with a strided gradient takes the NumPy path, with the same result."""
    monkeypatch.setattr(kernels, "ENABLED", enabled)
    w = Variable(np.ones((4, 6), np.float32))
    g = np.arange(48, dtype=np.float32).reshape(4, 12)[:, ::2]
    SGD(learning_rate=0.5, momentum=0.5).apply([g], [w])
    np.testing.assert_array_equal(w.numpy(), 1 - 0.5 * g)
