"""Optional compiled updates (numba) for :class:`profond.optimizers.SGD` and
:class:`profond.optimizers.Adam` (and its subclasses).

An update written with NumPy makes two (SGD) to nine (Adam) passes over each variable and its
slots, each its own call and its own read and write of memory; here one loop reads each element
once. Adam's update of the five variables of an LSTM(128) - Dense(10) model: 0.193 ms a step in
NumPy, 0.069 ms compiled; SGD's of bench/mlp.py's six: 138 -> 90 us (momentum 214 -> 137 us).
They run when numba is installed, the arrays are NumPy's, of one float dtype and shape,
C-contiguous (see :func:`flat`), and :data:`profond.ops.kernels.ENABLED` is true; else the
NumPy path runs. The operations are those of the NumPy path, in its order and in the arrays'
dtype (the scalars are passed in that dtype: a float literal would make numba compute float32
data in float64), so the two give the same numbers up to float rounding -- for SGD the same
bits (numba does not contract ``a * b + c`` into a fused multiply-add unless told to).
"""

from __future__ import annotations

from profond.ops import kernels

def flat(grad, var, *slots):
    """``grad``, ``var`` and the ``slots`` arrays as 1-D views when a compiled update can take
    them (C-contiguous float32 or float64 arrays of one type, dtype and shape: a variable's data
    always are; a gradient from a transposed product is not, and takes the NumPy path), else
    None."""
    arrays = (grad, var, *slots)
    kind, dtype, shape = type(var), var.dtype, var.shape
    if dtype.char not in "fd":
        return None
    for a in arrays:  # a loop, not any(...): this runs once per variable per step
        if type(a) is not kind or a.dtype != dtype or a.shape != shape \
                or not a.flags.c_contiguous:
            return None
    return [a.reshape(-1) for a in arrays]


def _build():
    import math

    import numba  # here, not at import: numba's own import costs ~0.25 s

    # error_model="numpy": no ZeroDivisionError check, which would keep the loop scalar
    jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    @jit
    def adam(g, w, m, v, v_hat, b1, b2, eps, alpha, amsgrad):
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

    @jit
    def sgd(g, w, lr):
        for i in range(w.size):
            w[i] = w[i] - g[i] * lr                     # w -= lr * g

    @jit
    def sgd_momentum(g, w, v, lr, momentum, nesterov):
        for i in range(w.size):
            step = g[i] * lr
            vi = v[i] * momentum - step                 # v = momentum * v - lr * g
            v[i] = vi
            if nesterov:
                w[i] = (w[i] - step) + vi * momentum    # w += momentum * v - lr * g
            else:
                w[i] = w[i] + vi

    return {"adam": adam, "sgd": sgd, "sgd_momentum": sgd_momentum}


#: ``kernel(name, xp)``: the compiled update ``name`` when it can run on ``xp``'s arrays, else
#: None (numba missing, not NumPy, or :data:`profond.ops.kernels.ENABLED` false)
kernel = kernels.lazy(_build)
