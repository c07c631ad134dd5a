"""The LSTM and GRU kernels' two ways of running: the NumPy backward step and the compiled one
(numba, optional), and inference (two state slots) against the training pass (every step
kept)."""

import numpy as np
import pytest

import profond
from profond import ops
from profond.autograd import engine
from profond.ops import _recurrent_numba, kernels
from profond.testing import gradcheck

B, T, F, U = 3, 5, 4, 6
CELLS = {"lstm": (ops.lstm, 4, 2, (4 * U,)), "gru": (ops.gru, 3, 1, (2, 3 * U))}
needs_numba = pytest.mark.skipif(not kernels.available(), reason="numba not installed")


@pytest.fixture(params=[False, pytest.param(True, marks=needs_numba)], ids=["numpy", "numba"])
def compiled(request, monkeypatch):
    monkeypatch.setattr(kernels, "ENABLED", request.param)
    return request.param


def _inputs(name, rng, dtype=np.float64):
    _, gates, n_states, bias_shape = CELLS[name]
    arrays = [rng.normal(size=(B, T, F)), rng.normal(size=(F, gates * U)) * 0.5,
              rng.normal(size=(U, gates * U)) * 0.5, rng.normal(size=bias_shape) * 0.5]
    states = [rng.normal(size=(B, U)) * 0.5 for _ in range(n_states)]
    return [a.astype(dtype) for a in arrays], [s.astype(dtype) for s in states]


def _run(name, arrays, states, **kw):
    """Outputs and every gradient (of a fixed random mix of the outputs), as NumPy arrays."""
    fn = CELLS[name][0]
    ts = [profond.tensor(a, requires_grad=True, dtype=a.dtype) for a in arrays + states]
    out, final = fn(*ts[:4], initial_state=ts[4:], **kw)
    rng = np.random.default_rng(3)
    total = (out * rng.normal(size=out.shape)).sum()
    for s in final:
        total = total + (s * rng.normal(size=s.shape)).sum()
    total.backward()
    return [out.numpy()] + [s.numpy() for s in final] + [np.asarray(t.grad) for t in ts]


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("go_backwards, return_sequences", [(False, False), (True, True)])
def test_gradcheck_both_paths(name, go_backwards, return_sequences, compiled, rng):
    fn = CELLS[name][0]
    arrays, states = _inputs(name, rng)
    rdrop = (rng.random((B, U)) > 0.3) / 0.7

    def f(x, k, r, b, *init):
        out, final = fn(x, k, r, b, initial_state=list(init), go_backwards=go_backwards,
                        return_sequences=return_sequences, recurrent_dropout_mask=rdrop)
        total = (out * np.linspace(-1, 1, out.size).reshape(out.shape)).sum()
        for s in final:
            total = total + (s * np.linspace(1, -0.5, s.size).reshape(s.shape)).sum()
        return total

    assert gradcheck(f, *arrays, *states)


@needs_numba
@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("kw", [{}, {"return_sequences": True, "go_backwards": True}])
def test_compiled_path_equals_numpy_path(name, dtype, tol, kw, rng, monkeypatch):
    arrays, states = _inputs(name, rng, dtype)
    monkeypatch.setattr(kernels, "ENABLED", False)
    ref = _run(name, arrays, states, **kw)
    monkeypatch.setattr(kernels, "ENABLED", True)
    got = _run(name, arrays, states, **kw)
    for a, b in zip(got, ref):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("kw", [{}, {"return_sequences": True}, {"go_backwards": True},
                                {"activation": "softsign", "recurrent_activation": "hard_sigmoid"}])
@pytest.mark.parametrize("masked", [False, True])
def test_inference_equals_training_pass(name, kw, masked, rng):
    """Without gradients the kernels keep two state slots instead of every step."""
    fn = CELLS[name][0]
    arrays, states = _inputs(name, rng, np.float32)
    if masked:
        m = np.ones((B, T), dtype=bool)
        m[0, 3:] = False
        m[1, 0] = False
        kw = {**kw, "mask": m}
    ts = [profond.tensor(a, requires_grad=True) for a in arrays + states]
    out, final = fn(*ts[:4], initial_state=ts[4:], **kw)
    with engine.no_grad():
        out2, final2 = fn(*arrays, initial_state=states, **kw)
    for a, b in zip([out, *final], [out2, *final2]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)


def _count_calls(names, monkeypatch):
    """``{name: calls}`` of the compiled kernels ``names``, counted from now on."""
    _recurrent_numba.kernel("lstm_step", np)  # compiled once, before the counting wrappers
    calls = dict.fromkeys(names, 0)

    def counting(key, fn):
        def wrapper(*args):
            calls[key] += 1
            return fn(*args)
        return wrapper

    for key in names:
        monkeypatch.setitem(_recurrent_numba.kernel.table, key,
                            counting(key, _recurrent_numba.kernel.table[key]))
    return calls


@needs_numba
@pytest.mark.parametrize("name, dtype, names", [
    ("lstm", np.float32, ("lstm_gates", "lstm_step")),
    ("lstm", np.float64, ("lstm_cell", "lstm_step")),
    ("gru", np.float32, ("gru_gates", "gru_state", "gru_step"))])
def test_compiled_kernels_run_when_enabled(name, dtype, names, rng, monkeypatch):
    """The compiled path is taken on the fast path (else the comparison above would compare the
    NumPy path with itself), and not at all when disabled or under a mask."""
    arrays, states = _inputs(name, rng, dtype)
    calls = _count_calls(names, monkeypatch)
    _run(name, arrays, states)
    assert all(n == T for n in calls.values()), calls   # one call per step, forward or backward
    monkeypatch.setattr(kernels, "ENABLED", False)
    _run(name, arrays, states)
    monkeypatch.setattr(kernels, "ENABLED", True)
    _run(name, arrays, states, mask=np.ones((B, T), dtype=bool))
    assert all(n == T for n in calls.values()), calls


@needs_numba
@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("steps_per_gemm", [1, 2, T])
def test_weight_gradient_chunks(name, steps_per_gemm, rng, monkeypatch):
    """The compiled path's weight gradients, one GEMM per step or per chunk of steps (2: the
    last chunk of T = 5 steps is short), equal the NumPy path's."""
    arrays, states = _inputs(name, rng)
    monkeypatch.setattr(kernels, "ENABLED", False)
    ref = _run(name, arrays, states, return_sequences=True)
    monkeypatch.setattr(kernels, "ENABLED", True)
    monkeypatch.setattr(_recurrent_numba, "width", steps_per_gemm * B)
    assert _recurrent_numba.chunk(B, T) == steps_per_gemm
    for a, b in zip(_run(name, arrays, states, return_sequences=True), ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@needs_numba
def test_float32_tanh_of_the_lstm_kernel():
    """The rational tanh of ``lstm_gates``: within 4.2e-7 of tanh over a dense sample of
    [-10, 10] and where its branches meet, 4e-7 relative near 0; odd; NaN stays NaN, and the
    infinities give +-1 within the same bound."""
    import numba

    tanh32 = _recurrent_numba.kernel("tanh32", np)

    @numba.njit
    def apply(a, out, one):
        for j in range(a.size):
            out[j] = tanh32(a[j], one)

    edges = np.array([0.0, 0.0004, 0.00040001, 1e-30, 1e-45, 0.5, 1.0, 7.9053111, 7.9053, 9.0,
                      10.0], dtype=np.float32)
    normal = np.random.default_rng(0).standard_normal(100_000).astype(np.float32)
    x = np.concatenate([np.linspace(-10, 10, 2_000_001, dtype=np.float32), normal, edges])
    x = np.concatenate([x, -x])
    y = np.empty_like(x)
    apply(x, y, np.float32(1))
    np.testing.assert_allclose(y, np.tanh(x.astype(np.float64)), rtol=0, atol=4.2e-7)
    assert np.array_equal(y[: x.size // 2], -y[x.size // 2:])          # odd
    assert np.abs(y).max() <= 1
    small = np.abs(x) < 1e-3
    np.testing.assert_allclose(y[small], np.tanh(x[small]), rtol=4e-7, atol=0)
    special = np.array([np.nan, np.inf, -np.inf], dtype=np.float32)
    out = np.empty_like(special)
    apply(special, out, np.float32(1))
    assert np.isnan(out[0]) and 1 - 4.2e-7 <= out[1] <= 1 and out[2] == -out[1]


@needs_numba
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_inference_steps_of_the_compiled_path(go_backwards, rng, monkeypatch):
    """Inference in float32 runs one kernel call a step, the first T - 1 writing the next step's
    inputs too (read from the strided batch, reversed with go_backwards), and gives the NumPy
    path's outputs."""
    arrays, states = _inputs("lstm", rng, np.float32)
    calls = _count_calls(("lstm_gates", "lstm_gates_feed"), monkeypatch)

    def run():
        with engine.no_grad():
            out, final = ops.lstm(*arrays, initial_state=states, go_backwards=go_backwards)
        return [out.numpy()] + [s.numpy() for s in final]

    got = run()
    assert calls == {"lstm_gates": 1, "lstm_gates_feed": T - 1}
    monkeypatch.setattr(kernels, "ENABLED", False)
    for a, b in zip(got, run()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
