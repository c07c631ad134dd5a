"""Optional compiled update (numba) for :class:`profond.optimizers.Adam` and its subclasses.

Adam's NumPy update makes nine passes over each variable and its slots (a subtraction, a
product, an addition and so on, each its own call and its own read and write of memory);
here one loop reads each element once (the update of the five variables of an LSTM(128) -
Dense(10) model: 0.193 ms a step in NumPy, 0.069 ms compiled). It runs when numba is installed, the arrays are NumPy's,
C-contiguous and of one dtype, and :data:`profond.ops.kernels.ENABLED` is true; else the NumPy
path runs. The operations are those of the NumPy path, in its order and in the arrays' dtype
(the scalars are passed in that dtype: a float literal would make numba compute float32 data in
float64), so the two give the same numbers up to float rounding.
"""

from __future__ import annotations

from profond.ops import kernels

_kernels = {}


def kernel(name, xp):
    """The compiled update ``name`` when it can run on ``xp``'s arrays, else None (numba missing,
    not NumPy, or :data:`profond.ops.kernels.ENABLED` false)."""
    if not kernels.ENABLED or xp.__name__ != "numpy" or not kernels.available():
        return None
    if not _kernels:
        _compile()
    return _kernels[name]


def _compile():
    import math

    import numba  # here, not at import: numba's own import costs ~0.25 s

    # error_model="numpy": no ZeroDivisionError check, which would keep the loop scalar
    jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    @jit
    def adam(w, g, m, v, v_hat, b1, b2, eps, alpha, amsgrad):
        # flat arrays; b1 = 1 - beta_1, b2 = 1 - beta_2, every scalar in the arrays' dtype;
        # v_hat is read only with amsgrad
        for j in range(w.size):
            gj = g[j]
            mj = m[j] + (gj - m[j]) * b1
            vj = v[j] + (gj * gj - v[j]) * b2
            m[j] = mj
            v[j] = vj
            if amsgrad:
                h = v_hat[j]
                if h > vj or h != h:                   # maximum(v_hat, v), NaN as NumPy's
                    vj = h
                v_hat[j] = vj
            w[j] -= mj / (math.sqrt(vj) + eps) * alpha

    _kernels.update(adam=adam)
