"""Optional compiled kernels (numba) for the elementwise parts of the LSTM and GRU steps of
:mod:`profond.ops.recurrent`.

A backward step of either cell is a dozen elementwise NumPy passes over (units, batch) arrays
(one call each, with its own read and write of memory); here each step is one loop that reads
every input once. Forward steps keep NumPy's tanh (SIMD; numba would call a scalar tanhf) and
fuse what lies between the tanh calls, except the LSTM's float32 forward steps: there one loop
does all of a step's elementwise work, its tanh a vectorised rational function (``tanh32``,
float32's precision) compiled with fused multiply-adds. The NumPy path stays, and is what runs
without numba, on other array types (CuPy), for masked sequences and for activations other than
sigmoid and tanh, or when :data:`profond.ops.kernels.ENABLED` is set to False.

The kernels take the arrays of :class:`profond.ops._recurrent_columns._Columns`: gates as
blocks of rows of a (G*U, B) array, states (U, B), and ``one``, the number 1 of the arrays'
dtype: a float literal would make numba compute float32 data in float64 (the LSTM's cell
update measured 9.9 us with literals, 5.0 us with ``one``, B=64).
"""

from __future__ import annotations

from profond.ops import kernels

#: inner products of the weight-gradient GEMMs of the compiled path, at most: its kernels write
#: each step's gradient beside the previous ones', ``chunk`` steps per GEMM (train step of the
#: LSTM op at B=32: 8.97 ms with one GEMM a step, 8.35 ms with four; B=64: no difference)
width = 128


def chunk(B, T):
    """Steps per weight-gradient GEMM on the compiled path, for batch ``B``."""
    return max(1, min(T, width // B))


def _build():
    import numba  # here, not at import: numba's own import costs ~0.25 s

    jit = numba.njit(cache=True, nogil=True)

    @jit
    def lstm_step(G, tc, c_prev, dh, dc, dZ, dc_prev, one):
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
                dcn = dc[u, b] + d * o * (one - t * t)
                dZ[u, b] = d * t * o * (one - o)
                dZ[U + u, b] = dcn * g * i * (one - i)
                dZ[2 * U + u, b] = dcn * c_prev[u, b] * f * (one - f)
                dZ[3 * U + u, b] = dcn * i * (one - g * g)
                dc_prev[u, b] = dcn * f

    @jit
    def gru_step(M, hh, h_prev, dh, dZ, direct, one):
        # M: z, r (activated), h_h, x_h; dZ: the gradient of z, r's pre-activations, h_h, x_h
        U, B = hh.shape
        for u in range(U):
            for b in range(B):
                z = M[u, b]
                r = M[U + u, b]
                h = hh[u, b]
                d = dh[u, b]
                da = d * (one - z) * (one - h * h)
                dZ[u, b] = d * (h_prev[u, b] - h) * z * (one - z)
                dZ[U + u, b] = da * M[2 * U + u, b] * r * (one - r)
                dZ[2 * U + u, b] = da * r
                dZ[3 * U + u, b] = da
                direct[u, b] = d * z

    @jit
    def lstm_cell(Z, c_prev, c, one):
        # Z: tanh(z/2) for o, i, f, tanh(z) for g; the sigmoid gates are written back
        U, B = c.shape
        half = one / (one + one)
        for u in range(U):
            for b in range(B):
                o = half * Z[u, b] + half
                i = half * Z[U + u, b] + half
                f = half * Z[2 * U + u, b] + half
                Z[u, b] = o
                Z[U + u, b] = i
                Z[2 * U + u, b] = f
                c[u, b] = f * c_prev[u, b] + i * Z[3 * U + u, b]

    @jit
    def gru_gates(M, hh, one):
        # M: tanh(z/2), tanh(r/2), h_h, x_h; z, r are written back, hh = r * h_h + x_h
        U, B = hh.shape
        half = one / (one + one)
        for u in range(U):
            for b in range(B):
                z = half * M[u, b] + half
                r = half * M[U + u, b] + half
                M[u, b] = z
                M[U + u, b] = r
                hh[u, b] = r * M[2 * U + u, b] + M[3 * U + u, b]

    @jit
    def gru_state(z, hh, h_prev, h):
        U, B = hh.shape
        for u in range(U):
            for b in range(B):
                h[u, b] = hh[u, b] + z[u, b] * (h_prev[u, b] - hh[u, b])

    # error_model="numpy": no ZeroDivisionError check, which keeps a loop with a division
    # scalar; "contract": the polynomials as fused multiply-adds (lstm_gates at batch 32:
    # 16.9 -> 9.8 us)
    vjit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
    f32 = numba.float32  # float32 constants: a float literal would be float64

    @vjit
    def tanh32(x, one):
        # Eigen's float tanh (generic_fast_tanh_float): a [13/6] rational function on x clamped
        # to +-7.905. A polynomial and one division vectorise, where numba calls a scalar tanhf.
        # Over every float32 in [-10, 10]: at most 2.9e-7 from tanh (5 ulp; 4.1e-7, 7 ulp, where
        # multiply-adds are not fused), odd, |y| <= 1.
        c = one * f32(7.90531110763549805)
        x = c if x > c else x          # so written, NaN stays NaN
        x = -c if x < -c else x
        x2 = x * x
        p = x2 * f32(-2.76076847742355e-16) + f32(2.00018790482477e-13)
        p = p * x2 + f32(-8.60467152213735e-11)
        p = p * x2 + f32(5.12229709037114e-08)
        p = p * x2 + f32(1.48572235717979e-05)
        p = p * x2 + f32(6.37261928875436e-04)
        p = p * x2 + f32(4.89352455891786e-03)
        q = x2 * f32(1.19825839466702e-06) + f32(1.18534705686654e-04)
        q = q * x2 + f32(2.26843463243900e-03)
        q = q * x2 + f32(4.89352518554385e-03)
        tiny = one * f32(0.0004)       # below it, x itself: no product in subnormal range
        return x * p / q if abs(x) > tiny else x

    @vjit
    def lstm_gates(Z, c_prev, c, tc, h, one):
        # float32: every elementwise part of an LSTM step in one loop, from the GEMM's output
        # Z (o, i, f halved, then g), written back activated; the cell state c, tc = tanh(c)
        # and h = o tc (at batch 32, 9.8 us against 14.6 for NumPy's tanh, lstm_cell, tanh,
        # product)
        U, B = c.shape
        half = one / (one + one)
        for u in range(U):
            for j in range(B):
                o = half * tanh32(Z[u, j], one) + half
                i = half * tanh32(Z[U + u, j], one) + half
                f = half * tanh32(Z[2 * U + u, j], one) + half
                g = tanh32(Z[3 * U + u, j], one)
                Z[u, j] = o
                Z[U + u, j] = i
                Z[2 * U + u, j] = f
                Z[3 * U + u, j] = g
                cn = f * c_prev[u, j] + i * g
                c[u, j] = cn
                t = tanh32(cn, one)
                tc[u, j] = t
                h[u, j] = o * t

    @jit
    def lstm_gates_feed(Z, c_prev, c, tc, h, x_next, xh_next, one):
        # inference's two slots: lstm_gates, then the next step's inputs x_{t+1} (F, B), read
        # from the strided batch, into the GEMM input whose rows h is written to (no Python
        # between the steps' kernels but the GEMM)
        lstm_gates(Z, c_prev, c, tc, h, one)
        F, B = x_next.shape
        for f in range(F):
            for j in range(B):
                xh_next[f, j] = x_next[f, j]

    return dict(lstm_step=lstm_step, gru_step=gru_step, lstm_cell=lstm_cell,
                gru_gates=gru_gates, gru_state=gru_state, tanh32=tanh32, lstm_gates=lstm_gates,
                lstm_gates_feed=lstm_gates_feed)


#: ``kernel(name, xp)``: the compiled kernel ``name`` when it can run on ``xp``'s arrays, else
#: None: numba installed, NumPy arrays, and :data:`profond.ops.kernels.ENABLED` (the one switch
#: of every compiled kernel)
kernel = kernels.lazy(_build)
