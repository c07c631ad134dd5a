"""The transposed layout of the LSTM and GRU kernels of :mod:`profond.ops.recurrent`: one
column per sample, each step's input and weights stacked for one GEMM, and the outputs' node."""

from __future__ import annotations

from profond.autograd.function import make


class _Columns:
    """A pass laid out transposed, one column per sample, for the LSTM and GRU kernels.

    Every per-step array is ``(rows, batch)`` and C-contiguous, so the gates of a step are
    contiguous blocks of rows and every elementwise op runs over contiguous memory (ops over
    column blocks of a (B, 4U) array measured 2-3x slower), and the step's GEMM ``W^T @ XH[t]``
    reads its input as it is. ``XH[t]`` (D, B) stacks ``h_{t-1}`` (times the recurrent dropout
    mask), ``x_t`` (times the dropout mask) and a row of ones (D = U + F + 1): one GEMM gives
    the whole pre-activation, and its gradient ``dZ_t @ XH[t]^T`` those of the recurrent kernel,
    the kernel and the bias at once (faster than a separate input projection, a GEMM with only
    F = 28 inner products, plus a bias sum).

    Nothing of size T is allocated beyond what the outputs or the backward pass need: fresh
    arrays of megabytes cost page faults on every call (the LSTM's training step measured 14 ms
    of 32 in them). Without ``full`` (inference, last output only) ``XH`` and the states have
    two slots, used in turn.

    ``WT`` (G*U, D) is the GEMM's matrix: the stacked weights, transposed, each gate block's
    row ``[recurrent kernel; kernel; bias]`` (see :func:`stack_weights`).
    """

    def __init__(self, ps, WT, full=True):
        xp, T, B, U, F, dtype = ps.xp, ps.T, ps.B, ps.U, ps.F, ps.dtype
        self.ps, self.xp, self.full, self.WT = ps, xp, full, WT
        self.has_bias = ps.bias is not None
        D = self.D = WT.shape[1]
        xt = ps.x.data.transpose(1, 2, 0)                           # (T, F, B)
        if ps.reverse:
            xt = xt[::-1]
        if ps.dropout_mask is not None:
            xt = xt * ps.dropout_mask.T
        XH = self.XH = xp.empty((T + 1 if full else 2, D, B), dtype=dtype)
        self.xt, self._X = xt, None
        if full:
            XH[:T, U:U + F] = xt
        else:
            XH[0, U:U + F] = xt[0]
        if self.has_bias:
            XH[:, D - 1] = 1
        self.rec_mask = None if ps.rec_mask is None else xp.ascontiguousarray(ps.rec_mask.T)
        # the states h_t: the rows of XH when they are what the GEMM reads, else their own array
        self.H = XH[:, :U] if self.rec_mask is None else xp.empty(XH[:, :U].shape, dtype=dtype)
        self.H[0] = ps.P[0, 0].T
        # whether feed() has anything to do: the loops skip the call otherwise
        self.feeds = not full or self.rec_mask is not None
        self.feed(0)
        self.mask = self.maskf = None
        if ps.mask is not None:
            self.mask = xp.ascontiguousarray(ps.mask.transpose(0, 2, 1))   # (T, 1, B)
            self.maskf = self.mask.astype(dtype)

    def slot(self, t):
        """Where the states after ``t`` steps live in ``H``, ``XH`` and the like."""
        return t if self.full else t & 1

    def states(self, width=None):
        """A buffer for a state, one slot per step boundary: (T+1 or 2, width or U, B)."""
        ps = self.ps
        return self.xp.empty((self.XH.shape[0], width or ps.U, ps.B), dtype=ps.dtype)

    def feed(self, t):
        """Write the GEMM input ``XH`` of step ``t`` once ``H[slot(t)]`` is known: ``x_t`` (in
        the two-slot layout) and ``h_{t-1} * mask`` under recurrent dropout."""
        ps, s = self.ps, self.slot(t)
        if t >= ps.T:
            return
        U = ps.U
        if not self.full and t > 0:
            if self._X is None:  # a step's copy from the strided view took 12 us
                self._X = self.xp.ascontiguousarray(self.xt)
            self.XH[s, U:U + ps.F] = self._X[t]
        if self.rec_mask is not None:
            self.xp.multiply(self.H[s], self.rec_mask, out=self.XH[s, :U])

    def split(self, dW):
        """``(gk, grk, gb)`` from the gradient ``dW`` of the stacked weights (Keras column
        order): the rows of the kernel, the recurrent kernel and the bias, where needed."""
        ps, U = self.ps, self.ps.U
        grk = dW[:U] if ps.recurrent_kernel.requires_grad else None
        gk = dW[U:U + ps.F] if ps.kernel.requires_grad else None
        gb = dW[self.D - 1] if self.has_bias and ps.bias.requires_grad else None
        return gk, grk, gb

    def weight_grads(self, Wx=None, chunk=1):
        """An accumulator for the gradients of the stacked weights and of x (through ``Wx``
        (F, G*U), the unscaled kernel rows of the stacked weights, given when x needs one):
        ``add(t, dZ_t)`` for every step, then ``result()``."""
        return _WeightGrads(self, Wx, chunk)

    def finish(self, backward, return_sequences, zero_output_for_mask, finals):
        """The fused node and its outputs: (output, [final states]).

        The node's array is ``Y`` (S, L, B, U): ``Y[s, L-1]`` the final states, and with
        ``return_sequences`` (L = T) ``Y[0, t]`` the output of step ``t``. ``backward(gY)``
        returns ``(gx, gk, grk, gb, [g_initial...])``. ``finals`` are the final states (U, B).
        """
        ps, xp = self.ps, self.xp
        T, S = ps.T, ps.S
        L = T if return_sequences else 1
        Y = xp.empty((S, L, ps.B, ps.U), dtype=ps.dtype)
        for s, f in enumerate(finals):
            Y[s, L - 1] = f.T
        if return_sequences:
            Y[0, :T - 1] = self.H[1:T].transpose(0, 2, 1)
        parents = tuple(p for p in (ps.x, ps.kernel, ps.recurrent_kernel, ps.bias)
                        if p is not None) + tuple(ps.initial)
        has_bias = ps.bias is not None

        def node_backward(gY):
            grads = backward(gY)
            out = [grads[0], grads[1], grads[2]] + ([grads[3]] if has_bias else [])
            return tuple(out) + tuple(grads[4])

        core = make(Y, parents, node_backward if ps.keep else None)
        zm = ps.maskf if zero_output_for_mask else None                # (T, B, 1)
        if return_sequences:
            out = xp.ascontiguousarray((Y[0] if zm is None else Y[0] * zm).transpose(1, 0, 2))

            def seq_backward(g):
                gY = xp.zeros_like(Y)
                gt = g.transpose(1, 0, 2)
                gY[0] = gt if zm is None else gt * zm
                return (gY,)

            output = make(out, (core,), seq_backward)
        else:
            last = Y[0, 0] if zm is None else Y[0, 0] * zm[T - 1]

            def last_backward(g):
                gY = xp.zeros_like(Y)
                gY[0, 0] = g if zm is None else g * zm[T - 1]
                return (gY,)

            output = make(last, (core,), last_backward)
        states = []
        for s in range(S):
            def state_backward(g, s=s):
                gY = xp.zeros_like(Y)
                gY[s, L - 1] = g
                return (gY,)

            states.append(make(Y[s, L - 1], (core,), state_backward))
        return output, states

    def output_grads(self, gY):
        """From the node's gradient: the final states' gradients, transposed, (U, B) each, and
        the outputs' of steps 0 .. T-2 as (T-1, U, B) (None without ``return_sequences``)."""
        xp, L = self.xp, gY.shape[1]
        finals = [xp.ascontiguousarray(gY[s, L - 1].T) for s in range(gY.shape[0])]
        seq = xp.ascontiguousarray(gY[0, :L - 1].transpose(0, 2, 1)) if L > 1 else None
        return finals, seq


class _WeightGrads:
    """The gradients of the stacked weights ``W`` and of ``x``, summed as the backward loop
    goes: one GEMM ``dZ_t @ XH[t]^T`` a step or, with ``chunk`` > 1, one GEMM of ``chunk``
    steps side by side, their ``dZ_t`` written in place by the caller (:meth:`target`)."""

    def __init__(self, cols, Wx, chunk=1):
        ps, xp = cols.ps, cols.xp
        self.cols, self.xp, self.B = cols, xp, ps.B
        self.need_w = ps.kernel.requires_grad or ps.recurrent_kernel.requires_grad or (
            cols.has_bias and ps.bias.requires_grad)
        GU, D = cols.WT.shape[0], cols.D
        self.chunk = chunk if self.need_w else 1
        if self.need_w:
            self.dWT = xp.zeros((GU, D), dtype=ps.dtype)
            self.tmp = xp.empty((GU, D), dtype=ps.dtype)
        self.DZ = xp.empty((GU, self.chunk * ps.B), dtype=ps.dtype)
        self.XS = xp.empty((D, self.chunk * ps.B), dtype=ps.dtype) if self.chunk > 1 else None
        self.n = 0
        self.GX = xp.empty((ps.T, ps.F, ps.B), dtype=ps.dtype) if ps.x.requires_grad else None
        self.Wx = Wx

    def target(self):
        """Where the next step's ``dZ`` (G*U, B) goes, for :meth:`add`."""
        B, n = self.B, self.n
        return self.DZ[:, n * B:(n + 1) * B]

    def add(self, t, dZ):
        """Add step ``t``'s part, from its pre-activation gradient ``dZ`` (G*U, B), written in
        :meth:`target`'s array; steps come down to 0."""
        xp = self.xp
        if self.need_w:
            if self.chunk == 1:
                xp.matmul(dZ, self.cols.XH[t].T, out=self.tmp)
                self.dWT += self.tmp
            else:
                B, n = self.B, self.n
                self.XS[:, n * B:(n + 1) * B] = self.cols.XH[t]
                self.n = n = n + 1
                if n == self.chunk or t == 0:
                    xp.matmul(self.DZ[:, :n * B], self.XS[:, :n * B].T, out=self.tmp)
                    self.dWT += self.tmp
                    self.n = 0
        if self.GX is not None:
            xp.matmul(self.Wx, dZ, out=self.GX[t])

    def result(self):
        """``(gx, dW)``: the gradient of x (None when not needed) and that of the stacked
        weights ``W`` (D, G*U), internal order (None when no weight needs one)."""
        ps, xp = self.cols.ps, self.xp
        dW = self.dWT.T if self.need_w else None
        gx = None
        if self.GX is not None:
            gxt = self.GX.transpose(0, 2, 1)                          # (T, B, F)
            if ps.dropout_mask is not None:
                gxt = gxt * ps.dropout_mask
            if ps.reverse:
                gxt = gxt[::-1]
            gx = xp.ascontiguousarray(gxt.transpose(1, 0, 2), dtype=ps.x.dtype)
        return gx, dW


def stack_weights(ps, order, scale=None, scaled_blocks=0):
    """The GEMM matrix ``WT`` (G*U, D) of a pass whose ``z = x @ kernel + h @ recurrent_kernel
    + bias`` holds whole (LSTM): gate block ``j`` is Keras's block ``order[j]``, its rows
    ``[recurrent_kernel; kernel; bias]`` transposed, times ``scale`` for the first
    ``scaled_blocks`` blocks."""
    xp, U, F = ps.xp, ps.U, ps.F
    has_bias = ps.bias is not None
    D = U + F + has_bias
    WT = xp.empty((len(order) * U, D), dtype=ps.dtype)
    rk, k = ps.recurrent_kernel.data, ps.kernel.data
    for j, src in enumerate(order):
        rows, cols = WT[j * U:(j + 1) * U], slice(src * U, (src + 1) * U)
        s = scale if j < scaled_blocks else None
        put(xp, rows[:, :U], rk[:, cols].T, s)
        put(xp, rows[:, U:U + F], k[:, cols].T, s)
        if has_bias:
            put(xp, rows[:, D - 1], ps.bias.data[cols], s)
    return WT


def put(xp, dst, src, scale=None):
    """``dst[...] = src`` (times ``scale`` when given), in one pass."""
    if scale is None:
        dst[...] = src
    else:
        xp.multiply(src, scale, out=dst)


def keras_to_internal(a, order, U):
    """``a`` (..., G*U) with its gate blocks in internal ``order``."""
    return a.reshape(a.shape[:-1] + (-1, U))[..., list(order), :].reshape(a.shape)


def internal_to_keras(a, order, U):
    """The inverse of :func:`keras_to_internal`."""
    inverse = [0] * len(order)
    for j, src in enumerate(order):
        inverse[src] = j
    return keras_to_internal(a, inverse, U)
