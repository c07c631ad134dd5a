"""Optional compiled kernels (numba) for the optimizers' in-place updates.

An update written with NumPy is a few passes over each variable (``w -= lr * g``: a product
into a buffer, then a subtraction), each reading and writing whole arrays; the first Dense
kernel of bench/mlp.py (784 x 256 float32, 0.8 MB) is out of the core's L2 cache with its
gradient and the buffer, so each pass is paid at L3 speed. A loop reads each array once:
SGD's update of that kernel, 121 -> ~40 us.

The kernels compute in the arrays' dtype (``lr`` and the coefficients are passed as
numbers of that dtype: a float literal would make numba compute float32 in float64) and in
NumPy's order of operations, so they give the NumPy paths' results bit for bit (numba does
not contract ``a * b + c`` into a fused multiply-add unless told to). They run when numba is
installed, the arrays are NumPy's, of one float dtype and one memory layout, and
:data:`profond.ops.kernels.ENABLED` is true; otherwise the optimizer's NumPy path runs.
"""

from __future__ import annotations

from profond.ops import kernels

_kernels = {}


def flat(grad, var, *slots):
    """``grad``, ``var`` and the ``slots`` arrays as 1-D views in one memory order when a
    compiled update can run on them (NumPy arrays of one float dtype, shape and contiguous
    layout; numba installed; :data:`profond.ops.kernels.ENABLED`), else None."""
    arrays = (grad, var, *slots)
    if not kernels.ENABLED or type(var).__module__ != "numpy" or var.dtype.char not in "fd" \
            or not kernels.available():
        return None
    if any(type(a) is not type(var) or a.dtype != var.dtype or a.shape != var.shape
           for a in arrays):
        return None
    for order, flag in (("C", "c_contiguous"), ("F", "f_contiguous")):
        if all(getattr(a.flags, flag) for a in arrays):
            return [a.reshape(-1, order=order) for a in arrays]
    return None


def kernel(name):
    """The compiled update ``name`` (numba compiles them all on first use)."""
    if not _kernels:
        _compile()
    return _kernels[name]


def _compile():
    import numba  # here, not at import: numba's own import costs ~0.25 s

    jit = numba.njit(cache=True, nogil=True)

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

    _kernels.update(sgd=sgd, sgd_momentum=sgd_momentum)
