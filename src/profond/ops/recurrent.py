"""Recurrent sequence kernels: a whole SimpleRNN, GRU or LSTM pass as one fused node.

A recurrent layer applied to a sequence of ``T`` steps would make ``T`` small graphs of a dozen
nodes each if written with tensor operations. Here the whole pass is a single node with a
hand-written backward pass through time (BPTT).

LSTM and GRU (``reset_after=True``) run transposed, one column per sample (see
:class:`~profond.ops._recurrent_columns._Columns`):

* each step is one GEMM ``W^T @ [h_{t-1}; x_t; 1]`` for every gate, input projection and bias
  at once, then one ``tanh`` over the gates: with the sigmoid gates' weights halved,
  ``sigmoid(z) = (1 + tanh(z/2)) / 2``;
* the backward loop computes each step's gate derivatives in cache and one GEMM for
  ``dh_{t-1}``; the weight gradients are summed step by step, ``dZ_t @ [h; x; 1]^T``;
* the elementwise work between those calls runs as compiled loops when numba is installed
  (:mod:`profond.ops._recurrent_numba`), else as NumPy passes.

SimpleRNN and GRU with ``reset_after=False`` make the input projections of all steps one GEMM
before the loop, one recurrent GEMM per step, compute the backward's gate factors for all steps
at once, and gather the weight gradients after the loop as one GEMM over all steps.

Weight layouts and gate orders are Keras's: ``kernel (in, G*units)``, ``recurrent_kernel
(units, G*units)``; LSTM gates ``i, f, c, o``; GRU gates ``z, r, h``. The numbers equal
PyTorch's ``nn.RNN``/``nn.GRU``/``nn.LSTM`` once the weights are mapped (PyTorch's GRU is
Keras's ``reset_after=True`` variant with the gates ordered ``r, z, n``).

Masks follow Keras: at a masked step the states keep their previous values, and the output is
the previous output (or zeros with ``zero_output_for_mask=True``).

Each function returns ``(output, states)``: ``output`` is ``(batch, time, units)`` with
``return_sequences=True`` (in processing order, so reversed when ``go_backwards=True``, as in
Keras) or the last output ``(batch, units)``; ``states`` is the list of final states.

References
----------
Elman, "Finding structure in time", Cognitive Science 14 (1990).
Hochreiter & Schmidhuber, "Long short-term memory", Neural Computation 9 (1997); the forget gate
of Gers, Schmidhuber & Cummins (2000).
Cho et al., "Learning phrase representations using RNN encoder-decoder", EMNLP 2014.
Werbos, "Backpropagation through time: what it does and how to do it", Proc. IEEE 78 (1990).
"""

from __future__ import annotations

from profond.ops import _recurrent_numba as _compiled
from profond.ops._recurrent_columns import (
    _Columns,
    internal_to_keras,
    keras_to_internal,
    stack_weights,
)
from profond.ops._recurrent_gru import _gru_reset_after
from profond.ops._recurrent_pass import _Activation, _blocks, _Pass

__all__ = ["gru", "lstm", "simple_rnn"]


# --- SimpleRNN ---------------------------------------------------------------------------------
def simple_rnn(x, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, *,
               activation="tanh", go_backwards=False, return_sequences=False,
               zero_output_for_mask=False, dropout_mask=None, recurrent_dropout_mask=None):
    """Fully connected recurrence ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent + b)``.

    Parameters
    ----------
    x : Tensor, shape (batch, time, features)
    kernel : Tensor, shape (features, units)
    recurrent_kernel : Tensor, shape (units, units)
    bias : Tensor, shape (units,), optional
    initial_state : list of one Tensor (batch, units), optional
        Zeros when omitted.
    mask : array of bool, shape (batch, time), optional
        False marks padded steps: the state is carried over them unchanged.
    activation : str or callable, default "tanh"
    go_backwards : bool, default False
        Process the sequence from its end; the output sequence is then in reversed order.
    return_sequences : bool, default False
        Output every step ``(batch, time, units)`` rather than the last ``(batch, units)``.
    zero_output_for_mask : bool, default False
        Output zeros at masked steps (else the previous output).
    dropout_mask, recurrent_dropout_mask : array, shape (batch, features) / (batch, units)
        Multiply the inputs / the previous state before their projection (the same mask at
        every step, as in Gal & Ghahramani, 2016).

    Returns
    -------
    output : Tensor
    states : list of one Tensor, shape (batch, units)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond.ops.recurrent import simple_rnn
    >>> x = profond.tensor(np.ones((2, 5, 3)))
    >>> k, r = profond.tensor(np.full((3, 4), 0.1)), profond.tensor(np.eye(4) * 0.5)
    >>> out, (h,) = simple_rnn(x, k, r)
    >>> out.shape, bool((out.data == h.data).all())
    ((2, 4), True)
    """
    ps = _Pass("simple_rnn", x, kernel, recurrent_kernel, bias, initial_state, mask, 1, 1,
               go_backwards, dropout_mask, recurrent_dropout_mask)
    act = _Activation(activation, "activation")
    xp, T, B, U, P, keep = ps.xp, ps.T, ps.B, ps.U, ps.P, ps.keep
    XW = ps.project(None if ps.bias is None else ps.bias.data)
    Rk = ps.recurrent_kernel.data
    masked = ps.mask is not None
    HN = ps.steps(U) if masked else None  # new outputs before masking
    A = ps.steps(U) if act.keeps_input and keep else None
    for t in range(T):
        k = t if keep else 0
        h_prev = P[0, t]
        hr = ps.recurrent_input(t)
        a = P[0, t + 1] if HN is None else HN[k]
        xp.matmul(hr, Rk, out=a)
        a += XW[t]
        if A is not None:
            A[k] = a
        act(xp, a)
        if HN is not None:
            P[0, t + 1] = a if not masked else xp.where(ps.mask[t], a, h_prev)

    def backward(gP):
        Y = P[0, 1:] if HN is None else HN
        F = act.derivative(xp, Y, A)  # d h_new / d pre-activation, all steps at once
        carry = None
        if masked:
            F *= ps.maskf
            carry = 1 - ps.maskf
        dA = xp.empty((T, B, U), dtype=ps.dtype)
        dh = gP[0, T].copy()  # from the last output and the final state
        for t in range(T - 1, -1, -1):
            if return_sequences and t < T - 1:
                dh += gP[0, t + 1]
            xp.multiply(dh, F[t], out=dA[t])
            dprev = dA[t] @ Rk.T
            if ps.rec_mask is not None:
                dprev *= ps.rec_mask
            if carry is not None:
                dprev += dh * carry[t]
            dh = dprev
        return (*ps.gate_grads(dA), [dh] if ps.initial else [])

    return ps.finish(backward, return_sequences, zero_output_for_mask)


# --- LSTM --------------------------------------------------------------------------------------
def _compiled_inference(xp, cols, WT, z, C, tc, gates, feed_gates, one):
    """The float32 inference steps of the compiled path: two slots used in turn, the kernel
    ``feed_gates`` writing the next step's inputs beside the state, no feed between steps and
    no contiguous copy of the inputs (predict per batch, min of 15 in-process alternations:
    batch 32 1.69 -> 1.62 ms, 64 2.91 -> 2.78, 256 10.5 -> 10.2; against the step-by-step loop:
    ``python bench/rnn_ab.py lstm_gates_feed``)."""
    T, U, F = cols.ps.T, cols.ps.U, cols.ps.F
    XS, CS, HS = (cols.XH[0], cols.XH[1]), (C[0], C[1]), (cols.H[0], cols.H[1])
    XX, xt = (XS[0][U:U + F], XS[1][U:U + F]), cols.xt
    for t in range(T - 1):
        a, b = t & 1, (t + 1) & 1
        xp.matmul(WT, XS[a], out=z)
        feed_gates(z, CS[a], CS[b], tc, HS[b], xt[t + 1], XX[b], one)
    a, b = (T - 1) & 1, T & 1
    xp.matmul(WT, XS[a], out=z)
    gates(z, CS[a], CS[b], tc, HS[b], one)


def lstm(x, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, *,
         activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
         return_sequences=False, zero_output_for_mask=False, dropout_mask=None,
         recurrent_dropout_mask=None):
    """Long short-term memory over a whole sequence (Keras's gate order i, f, c, o).

    For each step, with ``z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias`` split in four::

        i = recurrent_activation(z_i)       # input gate
        f = recurrent_activation(z_f)       # forget gate
        g = activation(z_c)                 # candidate
        o = recurrent_activation(z_o)       # output gate
        c_t = f * c_{t-1} + i * g
        h_t = o * activation(c_t)

    Parameters
    ----------
    x : Tensor, shape (batch, time, features)
    kernel : Tensor, shape (features, 4 * units)
    recurrent_kernel : Tensor, shape (units, 4 * units)
    bias : Tensor, shape (4 * units,), optional
    initial_state : list of two Tensors ``[h0, c0]``, each (batch, units), optional
    mask, go_backwards, return_sequences, zero_output_for_mask, dropout_mask, \
recurrent_dropout_mask
        As in :func:`simple_rnn`.
    activation, recurrent_activation : str or callable, default "tanh" and "sigmoid"

    Returns
    -------
    output : Tensor
    states : list ``[h, c]`` of Tensors, shape (batch, units)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond.ops.recurrent import lstm
    >>> rng = np.random.default_rng(0)
    >>> x = profond.tensor(rng.normal(size=(2, 6, 3)))
    >>> k = profond.tensor(rng.normal(size=(3, 8)) * 0.3, requires_grad=True)
    >>> r = profond.tensor(rng.normal(size=(2, 8)) * 0.3, requires_grad=True)
    >>> seq, (h, c) = lstm(x, k, r, return_sequences=True)
    >>> seq.shape, h.shape, c.shape
    ((2, 6, 2), (2, 2), (2, 2))
    >>> (seq.sum() + c.sum()).backward()
    >>> k.grad.shape, r.grad.shape
    ((3, 8), (2, 8))
    """
    ps = _Pass("lstm", x, kernel, recurrent_kernel, bias, initial_state, mask, 2, 4,
               go_backwards, dropout_mask, recurrent_dropout_mask)
    act = _Activation(activation, "activation")
    ract = _Activation(recurrent_activation, "recurrent_activation")
    xp, T, B, U, keep, dtype = ps.xp, ps.T, ps.B, ps.U, ps.keep, ps.dtype
    n = ps.n
    # Gates in the order o, i, f, g: the sigmoid gates are one block of rows, the three whose
    # gradients dc drives another. sigmoid(z) = (1 + tanh(z/2)) / 2: with the o, i, f weights
    # halved, one tanh over the whole (4U, B) gate array gives every gate.
    fast = ract.kind == "sigmoid" and act.kind == "tanh"
    order = (3, 0, 1, 2)
    cols = _Columns(ps, stack_weights(ps, order, 0.5 if fast else None, 3),
                    full=keep or return_sequences)
    XH, H, WT, slot = cols.XH, cols.H, cols.WT, cols.slot
    C = cols.states()                                    # cell states, C[0] initial
    C[0] = ps.P[1, 0].T
    masked = ps.mask is not None
    G = xp.empty((n, 4 * U, B), dtype=dtype)             # activated gates o, i, f, g
    TC = xp.empty((n, U, B), dtype=dtype)                # activation(c_new)
    Z = xp.empty((n, 4 * U, B), dtype=dtype) if keep and not fast and (
        act.keeps_input or ract.keeps_input) else None
    CN = xp.empty((n, U, B), dtype=dtype) if keep and act.keeps_input else None
    tmp = xp.empty((U, B), dtype=dtype)
    cm = xp.empty((U, B), dtype=dtype) if masked else None
    hm = xp.empty((U, B), dtype=dtype) if masked else None
    cell = _compiled.kernel("lstm_cell", xp) if fast and not masked else None
    # float32: the step's elementwise work in one compiled loop (rational tanh, 5 ulp)
    gates = _compiled.kernel("lstm_gates", xp) if cell is not None and \
        xp.dtype(dtype) == xp.float32 else None
    one = xp.dtype(dtype).type(1)
    feed_gates = _compiled.kernel("lstm_gates_feed", xp) if gates is not None and \
        not cols.full and cols.rec_mask is None else None
    if feed_gates is not None:
        _compiled_inference(xp, cols, WT, G[0], C, TC[0], gates, feed_gates, one)
    else:
        for t in range(T):
            k, a, b = (t if keep else 0), slot(t), slot(t + 1)
            z = G[k]
            xp.matmul(WT, XH[a], out=z)
            if gates is not None:
                gates(z, C[a], C[b], TC[k], H[b], one)
            elif cell is not None:
                xp.tanh(z, out=z)
                cell(z, C[a], C[b], one)
                xp.multiply(z[:U], xp.tanh(C[b], out=TC[k]), out=H[b])
            if cell is not None:
                if cols.feeds:
                    cols.feed(t + 1)
                continue
            if fast:
                xp.tanh(z, out=z)
                s = z[:3 * U]
                s *= 0.5
                s += 0.5
            else:
                if Z is not None:
                    Z[k] = z
                ract(xp, z[:3 * U])
                act(xp, z[3 * U:])
            o, i, f, g = z[:U], z[U:2 * U], z[2 * U:3 * U], z[3 * U:]
            c = cm if masked else C[b]
            xp.multiply(f, C[a], out=c)
            c += xp.multiply(i, g, out=tmp)
            if CN is not None:
                CN[k] = c
            tc = xp.tanh(c, out=TC[k]) if fast else act(xp, c, out=TC[k])
            h = hm if masked else H[b]
            xp.multiply(o, tc, out=h)
            if masked:
                m = cols.mask[t]
                C[b] = xp.where(m, c, C[a])
                H[b] = xp.where(m, h, H[a])
            if cols.feeds:
                cols.feed(t + 1)

    def backward(gY):
        (dh, dc), gH = cols.output_grads(gY)
        step = _compiled.kernel("lstm_step", xp) if fast and not masked else None
        grads = cols.weight_grads(keras_to_internal(ps.kernel.data, order, U)
                                  if ps.x.requires_grad else None,
                                  _compiled.chunk(B, T) if step is not None else 1)
        Rk = keras_to_internal(ps.recurrent_kernel.data, order, U)   # dh_prev = Rk @ dZ
        dZ = xp.empty((4 * U, B), dtype=dtype)
        dS = xp.empty((3 * U, B), dtype=dtype)
        dcn, dh2, dc2 = xp.empty_like(dh), xp.empty_like(dh), xp.empty_like(dc)
        for t in range(T - 1, -1, -1):
            if gH is not None and t < T - 1:
                dh += gH[t]
            if step is not None:
                dZt = grads.target()
                step(G[t], TC[t], C[t], dh, dc, dZt, dc2, one)
                xp.matmul(Rk, dZt, out=dh2)
                grads.add(t, dZt)
                if cols.rec_mask is not None:
                    dh2 *= cols.rec_mask
                dh, dh2, dc, dc2 = dh2, dh, dc2, dc
                continue
            o, i, f, g = (G[t, j * U:(j + 1) * U] for j in range(4))
            tc = TC[t]
            # the gate derivatives here, in cache, rather than for all steps at once: arrays of
            # (T, 4U, B) measured slower to fill and read back than these small passes
            if fast:
                xp.multiply(tc, tc, out=dcn)                 # d c_new / d h_new = o (1 - tc^2)
                xp.subtract(1, dcn, out=dcn)
                xp.multiply(G[t, :3 * U], G[t, :3 * U], out=dS)
                xp.subtract(G[t, :3 * U], dS, out=dS)        # s (1 - s) for o, i, f
                xp.multiply(g, g, out=dZ[:U])
                xp.subtract(1, dZ[:U], out=dc2)              # 1 - g^2
            else:
                dcn[...] = act.derivative(xp, tc, None if CN is None else CN[t])
                dS[...] = ract.derivative(xp, G[t, :3 * U], None if Z is None else Z[t, :3 * U])
                dc2[...] = act.derivative(xp, g, None if Z is None else Z[t, 3 * U:])
            dcn *= o
            dcn *= dh
            dcn += dc
            if masked:
                dcn *= cols.maskf[t]
            xp.multiply(dh, tc, out=dZ[:U])
            xp.multiply(dcn, g, out=dZ[U:2 * U])
            xp.multiply(dcn, C[t], out=dZ[2 * U:3 * U])
            xp.multiply(dcn, i, out=dZ[3 * U:])
            dZ[3 * U:] *= dc2
            dZ[:3 * U] *= dS
            if masked:
                dZ[:U] *= cols.maskf[t]
            xp.multiply(dcn, f, out=dc2)
            xp.matmul(Rk, dZ, out=dh2)
            grads.add(t, dZ)
            if cols.rec_mask is not None:
                dh2 *= cols.rec_mask
            if masked:
                keep_f = 1 - cols.maskf[t]
                dc2 += dc * keep_f
                dh2 += dh * keep_f
            dh, dh2, dc, dc2 = dh2, dh, dc2, dc
        gx, dW = grads.result()
        gk, grk, gb = cols.split(None if dW is None else internal_to_keras(dW, order, U))
        return gx, gk, grk, gb, [dh.T, dc.T] if ps.initial else []

    return cols.finish(backward, return_sequences, zero_output_for_mask,
                       (H[slot(T)], C[slot(T)]))


# --- GRU ---------------------------------------------------------------------------------------
def gru(x, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, *,
        activation="tanh", recurrent_activation="sigmoid", reset_after=True, go_backwards=False,
        return_sequences=False, zero_output_for_mask=False, dropout_mask=None,
        recurrent_dropout_mask=None):
    """Gated recurrent unit over a whole sequence (Keras's gate order z, r, h).

    With ``reset_after=True`` (Keras's default, and PyTorch's formula)::

        mx = x_t @ kernel + b_input             # (batch, 3u), split in x_z, x_r, x_h
        mh = h_{t-1} @ recurrent_kernel + b_rec  # split in h_z, h_r, h_h
        z = recurrent_activation(x_z + h_z)      # update gate
        r = recurrent_activation(x_r + h_r)      # reset gate
        hh = activation(x_h + r * h_h)           # candidate
        h_t = z * h_{t-1} + (1 - z) * hh

    With ``reset_after=False`` the reset gate applies before the product:
    ``hh = activation(x_h + (r * h_{t-1}) @ recurrent_kernel[:, 2u:])``, and there is one bias.

    Parameters
    ----------
    x : Tensor, shape (batch, time, features)
    kernel : Tensor, shape (features, 3 * units)
    recurrent_kernel : Tensor, shape (units, 3 * units)
    bias : Tensor, shape (2, 3 * units) with ``reset_after`` (input and recurrent biases),
        else (3 * units,); optional
    initial_state : list of one Tensor (batch, units), optional
    activation, recurrent_activation : str or callable, default "tanh" and "sigmoid"
    reset_after : bool, default True
    mask, go_backwards, return_sequences, zero_output_for_mask, dropout_mask, \
recurrent_dropout_mask
        As in :func:`simple_rnn`.

    Returns
    -------
    output : Tensor
    states : list of one Tensor, shape (batch, units)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond.ops.recurrent import gru
    >>> rng = np.random.default_rng(0)
    >>> x = profond.tensor(rng.normal(size=(2, 6, 3)))
    >>> k, r = profond.tensor(rng.normal(size=(3, 6))), profond.tensor(rng.normal(size=(2, 6)))
    >>> out, (h,) = gru(x, k, r, bias=profond.tensor(np.zeros((2, 6))))
    >>> out.shape
    (2, 2)
    """
    ps = _Pass("gru", x, kernel, recurrent_kernel, bias, initial_state, mask, 1, 3,
               go_backwards, dropout_mask, recurrent_dropout_mask,
               bias_rows=2 if reset_after else 1)
    act = _Activation(activation, "activation")
    ract = _Activation(recurrent_activation, "recurrent_activation")
    if reset_after:
        return _gru_reset_after(ps, act, ract, return_sequences, zero_output_for_mask)
    # reset_after=False: the reset gate acts before a second GEMM of its own in each step
    xp, T, B, U, P, keep, dtype = ps.xp, ps.T, ps.B, ps.U, ps.P, ps.keep, ps.dtype
    bias, recurrent_kernel = ps.bias, ps.recurrent_kernel
    XW = ps.project(None if bias is None else bias.data)
    Rk = recurrent_kernel.data
    masked = ps.mask is not None
    G = ps.steps(3 * U)                                       # z, r, hh (activated)
    Z = ps.steps(3 * U) if keep and (act.keeps_input or ract.keeps_input) else None
    MH = ps.steps(2 * U)                                      # h_{t-1} @ Rk[:, :2u]
    RH = ps.steps(U)                                          # r * h_{t-1}
    Rzr, Rh = Rk[:, :2 * U], Rk[:, 2 * U:]
    for t in range(T):
        k = t if keep else 0
        h_prev = P[0, t]
        hr = ps.recurrent_input(t)
        g, mh, xw = G[k], MH[k], XW[t]
        xp.matmul(hr, Rzr, out=mh)
        xp.add(xw[:, :2 * U], mh[:, :2 * U], out=g[:, :2 * U])
        if Z is not None:
            Z[k, :, :2 * U] = g[:, :2 * U]
        ract(xp, g[:, :2 * U])
        zg, r, hh = g[:, :U], g[:, U:2 * U], g[:, 2 * U:]
        xp.matmul(xp.multiply(r, hr, out=RH[k]), Rh, out=hh)
        hh += xw[:, 2 * U:]
        if Z is not None:
            Z[k, :, 2 * U:] = hh
        act(xp, hh)
        out = P[0, t + 1] if not masked else xp.empty((B, U), dtype=dtype)
        xp.subtract(h_prev, hh, out=out)  # h = hh + z * (h_prev - hh)
        out *= zg
        out += hh
        if masked:
            P[0, t + 1] = xp.where(ps.mask[t], out, h_prev)

    def backward(gP):
        gz, gr, ghh = _blocks(G, U, 3)
        zz, zr, zh = _blocks(Z, U, 3)
        d_z = ract.derivative(xp, gz, zz)
        d_r = ract.derivative(xp, gr, zr)
        d_h = act.derivative(xp, ghh, zh)
        H_prev = P[0, :-1]
        Fz = (H_prev - ghh) * d_z          # d z_pre / d h_new
        Fh = (1 - gz) * d_h                # d hh_pre / d h_new
        Cz = gz.copy()                     # d h_new / d h_prev, the direct path
        if masked:
            Fz *= ps.maskf
            Fh *= ps.maskf
            Cz *= ps.maskf
            Cz += 1 - ps.maskf
        Fr = (H_prev if ps.HR is None else ps.HR) * d_r
        dX = xp.empty((T, B, 3 * U), dtype=dtype)      # gradients of x-projections z, r, h
        dh = gP[0, T].copy()  # from the last output and the final state
        for t in range(T - 1, -1, -1):
            if return_sequences and t < T - 1:
                dh += gP[0, t + 1]
            dx = dX[t]
            xp.multiply(dh, Fz[t], out=dx[:, :U])
            dah = xp.multiply(dh, Fh[t], out=dx[:, 2 * U:])
            dprev = dh * Cz[t]
            drh = dah @ Rh.T
            xp.multiply(drh, Fr[t], out=dx[:, U:2 * U])
            drec = dx[:, :2 * U] @ Rzr.T
            drec += drh * gr[t]
            if ps.rec_mask is not None:
                drec *= ps.rec_mask
            dprev += drec
            dh = dprev
        dX2 = dX.reshape(T * B, 3 * U)
        gx, gk = ps.input_grads(dX2)
        grk = gb = None
        HR2 = ps.hidden_inputs()
        if recurrent_kernel.requires_grad:
            grk = xp.empty_like(Rk)
            grk[:, :2 * U] = HR2.T @ dX2[:, :2 * U]
            grk[:, 2 * U:] = RH.reshape(T * B, U).T @ dX2[:, 2 * U:]
        if bias is not None and bias.requires_grad:
            gb = dX2.sum(axis=0)
        return gx, gk, grk, gb, [dh] if ps.initial else []

    return ps.finish(backward, return_sequences, zero_output_for_mask)
