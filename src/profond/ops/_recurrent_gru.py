"""The GRU of :func:`profond.ops.recurrent.gru` with ``reset_after=True`` (Keras's default), in
the transposed layout of :class:`~profond.ops._recurrent_columns._Columns`."""

from __future__ import annotations

from profond.ops import _recurrent_numba as _compiled
from profond.ops._recurrent_columns import _Columns, put


def _gru_reset_after(ps, act, ract, return_sequences, zero_output_for_mask):
    """The GRU of :func:`gru` with ``reset_after=True``, in the transposed layout of
    :class:`_Columns`: one GEMM per step gives ``z``, ``r``, the recurrent part ``h_h`` and the
    input part ``x_h`` of the candidate (the stacked weights hold zeros where ``h_h`` would
    see ``x`` and ``x_h`` would see ``h``: the GEMM costs the same, its time is not in its
    multiply-adds at these sizes)."""
    xp, T, B, U, F, keep, dtype, n = ps.xp, ps.T, ps.B, ps.U, ps.F, ps.keep, ps.dtype, ps.n
    has_bias = ps.bias is not None
    D = U + F + has_bias
    fast = ract.kind == "sigmoid" and act.kind == "tanh"   # sigmoid through tanh, as in lstm
    half = 0.5 if fast else None
    rk, kx = ps.recurrent_kernel.data, ps.kernel.data
    WT = xp.zeros((4 * U, D), dtype=dtype)                # rows z, r, h_h, x_h
    put(xp, WT[:2 * U, :U], rk[:, :2 * U].T, half)
    put(xp, WT[:2 * U, U:U + F], kx[:, :2 * U].T, half)
    WT[2 * U:3 * U, :U] = rk[:, 2 * U:].T
    WT[3 * U:, U:U + F] = kx[:, 2 * U:].T
    if has_bias:
        b = ps.bias.data
        put(xp, WT[:2 * U, D - 1], b[0, :2 * U] + b[1, :2 * U], half)
        WT[2 * U:3 * U, D - 1], WT[3 * U:, D - 1] = b[1, 2 * U:], b[0, 2 * U:]
    cols = _Columns(ps, WT, full=keep or return_sequences)
    XH, H, WT, slot = cols.XH, cols.H, cols.WT, cols.slot
    masked = ps.mask is not None
    M = xp.empty((n, 4 * U, B), dtype=dtype)             # z, r (activated), h_h, x_h
    HH = xp.empty((n, U, B), dtype=dtype)                # the candidate, activated
    Zr = xp.empty((n, 2 * U, B), dtype=dtype) if keep and ract.keeps_input else None
    A = xp.empty((n, U, B), dtype=dtype) if keep and act.keeps_input else None
    hm = xp.empty((U, B), dtype=dtype) if masked else None
    gates = _compiled.kernel("gru_gates", xp) if fast and not masked else None
    state = _compiled.kernel("gru_state", xp) if gates is not None else None
    one = xp.dtype(dtype).type(1)
    for t in range(T):
        k, a, b = (t if keep else 0), slot(t), slot(t + 1)
        m = M[k]
        xp.matmul(WT, XH[a], out=m)
        if gates is not None:
            xp.tanh(m[:2 * U], out=m[:2 * U])
            gates(m, HH[k], one)
            state(m[:U], xp.tanh(HH[k], out=HH[k]), H[a], H[b])
            if cols.feeds:
                cols.feed(t + 1)
            continue
        zr = m[:2 * U]
        if fast:
            xp.tanh(zr, out=zr)
            zr *= 0.5
            zr += 0.5
        else:
            if Zr is not None:
                Zr[k] = zr
            ract(xp, zr)
        z, r, h_h, x_h = m[:U], m[U:2 * U], m[2 * U:3 * U], m[3 * U:]
        hh = xp.multiply(r, h_h, out=HH[k])
        hh += x_h
        if A is not None:
            A[k] = hh
        if fast:
            xp.tanh(hh, out=hh)
        else:
            act(xp, hh)
        h = hm if masked else H[b]
        xp.subtract(H[a], hh, out=h)                     # h = hh + z * (h_prev - hh)
        h *= z
        h += hh
        if masked:
            H[b] = xp.where(cols.mask[t], h, H[a])
        if cols.feeds:
            cols.feed(t + 1)

    def backward(gY):
        (dh,), gH = cols.output_grads(gY)
        Wx = None
        if ps.x.requires_grad:
            Wx = xp.concatenate([kx[:, :2 * U], xp.zeros_like(kx[:, :U]), kx[:, 2 * U:]], axis=1)
        step = _compiled.kernel("gru_step", xp) if fast and not masked else None
        grads = cols.weight_grads(Wx, _compiled.chunk(B, T) if step is not None else 1)
        Rk = rk                                              # dh_prev = Rk @ dZ[:3U]
        dZ = xp.empty((4 * U, B), dtype=dtype)
        dS = xp.empty((2 * U, B), dtype=dtype)
        dA, gz, dnew = (xp.empty((U, B), dtype=dtype) for _ in range(3))
        gm = xp.empty((U, B), dtype=dtype) if masked else None
        for t in range(T - 1, -1, -1):
            if gH is not None and t < T - 1:
                dh += gH[t]
            if step is not None:
                dZt = grads.target()
                step(M[t], HH[t], H[t], dh, dZt, gz, one)
                xp.matmul(Rk, dZt[:3 * U], out=dnew)
                grads.add(t, dZt)
                if cols.rec_mask is not None:
                    dnew *= cols.rec_mask
                dnew += gz
                dh, dnew = dnew, dh
                continue
            zr, hh = M[t, :2 * U], HH[t]
            z, r, h_h = M[t, :U], M[t, U:2 * U], M[t, 2 * U:3 * U]
            g = xp.multiply(dh, cols.maskf[t], out=gm) if masked else dh
            if fast:
                xp.multiply(zr, zr, out=dS)
                xp.subtract(zr, dS, out=dS)                  # s (1 - s) for z, r
                xp.multiply(hh, hh, out=dA)
                xp.subtract(1, dA, out=dA)                   # 1 - hh^2
            else:
                dS[...] = ract.derivative(xp, zr, None if Zr is None else Zr[t])
                dA[...] = act.derivative(xp, hh, None if A is None else A[t])
            xp.subtract(H[t], hh, out=dZ[:U])
            dZ[:U] *= g                                      # d z
            xp.multiply(g, z, out=gz)                        # the direct path to h_prev
            da = xp.subtract(g, gz, out=dZ[3 * U:])
            da *= dA                                         # d x_h = d (candidate's input)
            xp.multiply(da, r, out=dZ[2 * U:3 * U])          # d h_h
            xp.multiply(da, h_h, out=dZ[U:2 * U])            # d r
            dZ[:2 * U] *= dS
            xp.matmul(Rk, dZ[:3 * U], out=dnew)
            grads.add(t, dZ)
            if cols.rec_mask is not None:
                dnew *= cols.rec_mask
            dnew += gz
            if masked:
                dnew += dh * (1 - cols.maskf[t])
            dh, dnew = dnew, dh
        gx, dW = grads.result()
        gk = grk = gb = None
        if dW is not None:
            if ps.recurrent_kernel.requires_grad:
                grk = xp.ascontiguousarray(dW[:U, :3 * U])
            if ps.kernel.requires_grad:
                gk = xp.concatenate([dW[U:U + F, :2 * U], dW[U:U + F, 3 * U:]], axis=1)
            if has_bias and ps.bias.requires_grad:
                gb = xp.stack([xp.concatenate([dW[D - 1, :2 * U], dW[D - 1, 3 * U:]]),
                               dW[D - 1, :3 * U]])
        return gx, gk, grk, gb, [dh.T] if ps.initial else []

    return cols.finish(backward, return_sequences, zero_output_for_mask, (H[slot(T)],))
