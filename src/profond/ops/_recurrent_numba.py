"""Optional compiled kernels (numba) for the elementwise parts of the LSTM and GRU steps of
:mod:`profond.ops.recurrent`.

A backward step of either cell is a dozen elementwise NumPy passes over (units, batch) arrays
(one call each, with its own read and write of memory); here each step is one loop that reads
every input once. Forward steps keep NumPy's tanh (SIMD; numba would call a scalar tanhf) and
fuse what lies between the tanh calls. The NumPy path stays, and is what runs without numba, on other array types
(CuPy), for masked sequences and for activations other than sigmoid and tanh, or when
``enabled`` is set to False.

Both kernels take the arrays of :class:`profond.ops._recurrent_columns._Columns`: gates as
blocks of rows of a (G*U, B) array, states (U, B).
"""

from __future__ import annotations

try:
    import numba
except ImportError:  # the optional extra is not installed: the NumPy path runs
    numba = None

#: Set to False to force the NumPy path (the tests run both).
enabled = True

_kernels = {}


def kernel(name, xp):
    """The compiled kernel ``name`` when it can run on ``xp``'s arrays, else None."""
    if numba is None or not enabled or xp.__name__ != "numpy":
        return None
    if not _kernels:
        _compile()
    return _kernels[name]


def _compile():
    jit = numba.njit(cache=True, nogil=True)

    @jit
    def lstm_step(G, tc, c_prev, dh, dc, dZ, dc_prev):
        # G: o, i, f, g (activated); dZ: the gradient of their pre-activations
        U, B = tc.shape
        for u in range(U):
            for b in range(B):
                o = G[u, b]
                i = G[U + u, b]
                f = G[2 * U + u, b]
                g = G[3 * U + u, b]
                t = tc[u, b]
                d = dh[u, b]
                dcn = dc[u, b] + d * o * (1 - t * t)
                dZ[u, b] = d * t * o * (1 - o)
                dZ[U + u, b] = dcn * g * i * (1 - i)
                dZ[2 * U + u, b] = dcn * c_prev[u, b] * f * (1 - f)
                dZ[3 * U + u, b] = dcn * i * (1 - g * g)
                dc_prev[u, b] = dcn * f

    @jit
    def gru_step(M, hh, h_prev, dh, dZ, direct):
        # M: z, r (activated), h_h, x_h; dZ: the gradient of z, r's pre-activations, h_h, x_h
        U, B = hh.shape
        for u in range(U):
            for b in range(B):
                z = M[u, b]
                r = M[U + u, b]
                h = hh[u, b]
                d = dh[u, b]
                da = d * (1 - z) * (1 - h * h)
                dZ[u, b] = d * (h_prev[u, b] - h) * z * (1 - z)
                dZ[U + u, b] = da * M[2 * U + u, b] * r * (1 - r)
                dZ[2 * U + u, b] = da * r
                dZ[3 * U + u, b] = da
                direct[u, b] = d * z

    @jit
    def lstm_cell(Z, c_prev, c):
        # Z: tanh(z/2) for o, i, f, tanh(z) for g; the sigmoid gates are written back
        U, B = c.shape
        for u in range(U):
            for b in range(B):
                o = 0.5 * Z[u, b] + 0.5
                i = 0.5 * Z[U + u, b] + 0.5
                f = 0.5 * Z[2 * U + u, b] + 0.5
                Z[u, b] = o
                Z[U + u, b] = i
                Z[2 * U + u, b] = f
                c[u, b] = f * c_prev[u, b] + i * Z[3 * U + u, b]

    @jit
    def gru_gates(M, hh):
        # M: tanh(z/2), tanh(r/2), h_h, x_h; z, r are written back, hh = r * h_h + x_h
        U, B = hh.shape
        for u in range(U):
            for b in range(B):
                z = 0.5 * M[u, b] + 0.5
                r = 0.5 * M[U + u, b] + 0.5
                M[u, b] = z
                M[U + u, b] = r
                hh[u, b] = r * M[2 * U + u, b] + M[3 * U + u, b]

    @jit
    def gru_state(z, hh, h_prev, h):
        U, B = hh.shape
        for u in range(U):
            for b in range(B):
                h[u, b] = hh[u, b] + z[u, b] * (h_prev[u, b] - hh[u, b])

    _kernels.update(lstm_step=lstm_step, gru_step=gru_step, lstm_cell=lstm_cell,
                    gru_gates=gru_gates, gru_state=gru_state)
