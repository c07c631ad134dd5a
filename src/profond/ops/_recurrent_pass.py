"""What the fused recurrent kernels of :mod:`profond.ops.recurrent` share: gate activations
applied in place on arrays with their derivatives, and the set-up of a pass (checked tensors,
time-major inputs, masks, initial states, the state buffer) with its outputs."""

from __future__ import annotations

from profond.autograd import engine
from profond.autograd.activation import sigmoid_
from profond.autograd.function import as_tensor, make
from profond.autograd.tensor import Tensor
from profond.ops import activation as activation_ops

# --- activations on raw arrays ----------------------------------------------------------------
_FAST = {activation_ops.tanh: "tanh", activation_ops.sigmoid: "sigmoid",
         activation_ops.relu: "relu", activation_ops.hard_sigmoid: "hard_sigmoid",
         activation_ops.linear_activation: "linear"}


class _Activation:
    """An elementwise activation applied in place on arrays, with its derivative.

    The usual recurrent activations (tanh, sigmoid, hard_sigmoid, relu, linear) give their
    derivative from their output alone. Any other elementwise callable works too: its input is
    kept, and its derivative comes from its own backward pass, for all steps at once.
    """

    def __init__(self, fn, what: str):
        fn = activation_ops.get(fn)
        if fn in (activation_ops.softmax, activation_ops.log_softmax):
            raise ValueError(f"The '{what}' of a recurrent layer must be elementwise. Got "
                             f"{activation_ops.name_of(fn)!r} instead.")
        self.fn = fn
        self.kind = _FAST.get(fn)

    @property
    def keeps_input(self) -> bool:
        """True when the derivative needs the pre-activation (a generic callable)."""
        return self.kind is None

    def __call__(self, xp, a, out=None):
        """Write ``f(a)`` into ``out`` (by default over ``a`` itself) and return it."""
        kind = self.kind
        if out is not None:
            if kind == "tanh":
                return xp.tanh(a, out=out)
            out[...] = a
            a = out
        if kind == "tanh":
            xp.tanh(a, out=a)
        elif kind == "sigmoid":
            sigmoid_(a, xp)
        elif kind == "hard_sigmoid":
            a /= 6
            a += 0.5
            xp.clip(a, 0, 1, out=a)
        elif kind == "relu":
            xp.maximum(a, 0, out=a)
        elif kind is None:
            with engine.no_grad():
                a[...] = self.fn(Tensor._make(a)).data
        return a

    def derivative(self, xp, y, a=None):
        """``f'(a)`` elementwise, from the output ``y`` (or the kept input ``a``)."""
        kind = self.kind
        if kind == "tanh":
            return 1 - y * y
        if kind == "sigmoid":
            return y * (1 - y)
        if kind == "hard_sigmoid":
            return ((y > 0) & (y < 1)).astype(y.dtype) / 6
        if kind == "relu":
            return (y > 0).astype(y.dtype)
        if kind == "linear":
            return xp.ones_like(y)
        leaf = Tensor._make(xp.ascontiguousarray(a))
        leaf.requires_grad = True
        with engine.enable_grad():
            out = self.fn(leaf)
            if out.requires_grad:
                out.backward(xp.ones_like(out.data))
        return leaf.grad if leaf.grad is not None else xp.zeros_like(y)


# --- shared set-up and outputs -----------------------------------------------------------------
def _data(a):
    return a.data if isinstance(a, Tensor) else a


class _Pass:
    """What every cell needs: checked tensors, time-major inputs, masks, initial states, the
    state buffer, and the recurrent inputs of each step.

    ``bias_rows`` is 2 for GRU's ``reset_after`` bias ``(2, G*units)`` (input and recurrent
    rows), else 1 for a bias ``(G*units,)``.
    """

    def __init__(self, name, x, kernel, recurrent_kernel, bias, initial_state, mask, n_states,
                 gates, go_backwards, dropout_mask, recurrent_dropout_mask, bias_rows=1):
        x, kernel, recurrent_kernel = as_tensor(x), as_tensor(kernel), as_tensor(recurrent_kernel)
        bias = None if bias is None else as_tensor(bias)
        if x.ndim != 3:
            raise ValueError(f"{name} expects inputs of shape (batch, time, features). Got shape "
                             f"{tuple(x.shape)}.")
        B, T, F = x.shape
        U = recurrent_kernel.shape[0]
        if tuple(kernel.shape) != (F, gates * U) or \
                tuple(recurrent_kernel.shape[1:]) != (gates * U,):
            raise ValueError(f"{name}: kernel {tuple(kernel.shape)} and recurrent kernel "
                             f"{tuple(recurrent_kernel.shape)} do not fit inputs with {F} "
                             f"features (expected ({F}, {gates * U}) and ({U}, {gates * U})).")
        if T == 0:
            raise ValueError(f"{name} needs at least one time step. Got input shape "
                             f"{tuple(x.shape)}.")
        bias_shape = (gates * U,) if bias_rows == 1 else (bias_rows, gates * U)
        if bias is not None and tuple(bias.shape) != bias_shape:
            raise ValueError(f"{name}: bias must have shape {bias_shape}. Got "
                             f"{tuple(bias.shape)}.")
        self.x, self.kernel, self.recurrent_kernel, self.bias = x, kernel, recurrent_kernel, bias
        self.B, self.T, self.F, self.U, self.S = B, T, F, U, n_states
        self.reverse = bool(go_backwards)
        xp = self.xp = x.xp
        dtype = self.dtype = kernel.data.dtype

        self.dropout_mask = None if dropout_mask is None else xp.asarray(_data(dropout_mask),
                                                                         dtype=dtype)
        self._x2 = None

        # mask, time-major (T, B, 1): boolean for the forward pass, float for the backward
        self.mask = self.maskf = None
        if mask is not None:
            m = xp.asarray(_data(mask))
            if m.shape != (B, T):
                raise ValueError(f"{name}: the mask must have shape (batch, time) = {(B, T)}. "
                                 f"Got {tuple(m.shape)}.")
            m = m.astype(bool).T
            if self.reverse:
                m = m[::-1]
            self.mask = xp.ascontiguousarray(m)[..., None]
            self.maskf = self.mask.astype(dtype)

        self.rec_mask = None if recurrent_dropout_mask is None else \
            xp.asarray(_data(recurrent_dropout_mask), dtype=dtype)

        # states: P[s, 0] initial, P[s, t + 1] after step t (carried through masked steps)
        self.P = xp.empty((n_states, T + 1, B, U), dtype=dtype)
        self.initial = []
        states = [] if initial_state is None else list(initial_state)
        if states and len(states) != n_states:
            raise ValueError(f"{name} has {n_states} state(s); got {len(states)} initial "
                             f"state(s).")
        for s in range(n_states):
            if states:
                st = as_tensor(states[s])
                if tuple(st.shape) != (B, U):
                    raise ValueError(f"{name}: initial state {s} must have shape (batch, units) "
                                     f"= {(B, U)}. Got {tuple(st.shape)}.")
                self.P[s, 0] = st.data
                self.initial.append(st)
            else:
                self.P[s, 0] = 0
        self.keep = engine.is_grad_enabled() and any(
            t is not None and t.requires_grad
            for t in (x, kernel, recurrent_kernel, bias, *self.initial))
        # the backward pass needs each step's intermediate values; inference reuses one slot
        self.n = T if self.keep else 1
        # under recurrent dropout, h_{t-1} * mask is what the recurrent GEMM reads: kept
        self.HR = self.steps(U) if self.rec_mask is not None else None

    @property
    def x2(self):
        """The inputs, time-major and in processing order, times the dropout mask: (T*B, F),
        one contiguous copy made on first use."""
        if self._x2 is None:
            xp = self.xp
            xt = self.x.data.transpose(1, 0, 2)
            if self.reverse:
                xt = xt[::-1]
            if self.dropout_mask is not None:
                xt = xt * self.dropout_mask
            self._x2 = xp.ascontiguousarray(xt, dtype=self.dtype).reshape(self.T * self.B,
                                                                          self.F)
        return self._x2

    def steps(self, width):
        """An uninitialised per-step buffer ``(n, batch, width)`` (``n``: T, or 1 in inference)."""
        return self.xp.empty((self.n, self.B, width), dtype=self.dtype)

    def recurrent_input(self, t):
        """``h_{t-1}`` as the recurrent GEMM of step ``t`` reads it (times the recurrent
        dropout mask)."""
        h_prev = self.P[0, t]
        if self.HR is None:
            return h_prev
        return self.xp.multiply(h_prev, self.rec_mask, out=self.HR[t if self.keep else 0])

    def project(self, bias_row=None):
        """Input projections of all steps, one GEMM: (T, B, G*units)."""
        xw = self.x2 @ self.kernel.data
        if bias_row is not None:
            xw += bias_row
        return xw.reshape(self.T, self.B, -1)

    def hidden_inputs(self):
        """The recurrent GEMM's inputs of all steps as (T*B, units)."""
        return (self.P[0, :-1] if self.HR is None else self.HR).reshape(self.T * self.B, self.U)

    def input_grads(self, dZ2):
        """Gradients of x and kernel from the gate gradients of all steps, (T*B, G*units)."""
        xp = self.xp
        gk = self.x2.T @ dZ2 if self.kernel.requires_grad else None
        gx = None
        if self.x.requires_grad:
            gxt = (dZ2 @ self.kernel.data.T).reshape(self.T, self.B, self.F)
            if self.dropout_mask is not None:
                gxt *= self.dropout_mask
            if self.reverse:
                gxt = gxt[::-1]
            gx = xp.ascontiguousarray(gxt.transpose(1, 0, 2), dtype=self.x.dtype)
        return gx, gk

    def gate_grads(self, dZ):
        """Gradients of x, kernel, recurrent kernel and bias from the gate gradients of all
        steps ``dZ`` (T, B, G*units), when one bias and the whole recurrent kernel act on
        ``z = x @ kernel + h_prev @ recurrent_kernel + bias`` (SimpleRNN, LSTM)."""
        dZ2 = dZ.reshape(self.T * self.B, -1)
        gx, gk = self.input_grads(dZ2)
        grk = self.hidden_inputs().T @ dZ2 if self.recurrent_kernel.requires_grad else None
        bias = self.bias
        gb = dZ2.sum(axis=0) if bias is not None and bias.requires_grad else None
        return gx, gk, grk, gb

    def finish(self, backward, return_sequences, zero_output_for_mask):
        """The fused node and its outputs: (output, [final states])."""
        parents = tuple(p for p in (self.x, self.kernel, self.recurrent_kernel, self.bias)
                        if p is not None) + tuple(self.initial)
        has_bias = self.bias is not None

        def node_backward(gP):
            grads = backward(gP)  # (gx, gk, grk, gb, [g_initial...])
            out = [grads[0], grads[1], grads[2]]
            if has_bias:
                out.append(grads[3])
            return tuple(out) + tuple(grads[4])

        core = make(self.P, parents, node_backward if self.keep else None)
        P, T, xp = self.P, self.T, self.xp
        zm = self.maskf if zero_output_for_mask else None
        if return_sequences:
            seq = P[0, 1:] if zm is None else P[0, 1:] * zm
            out = xp.ascontiguousarray(seq.transpose(1, 0, 2))

            def seq_backward(g):
                gP = xp.zeros_like(P)
                gt = g.transpose(1, 0, 2)
                gP[0, 1:] = gt if zm is None else gt * zm
                return (gP,)

            output = make(out, (core,), seq_backward)
        else:
            last = P[0, T] if zm is None else P[0, T] * zm[T - 1]

            def last_backward(g):
                gP = xp.zeros_like(P)
                gP[0, T] = g if zm is None else g * zm[T - 1]
                return (gP,)

            output = make(last, (core,), last_backward)
        states = []
        for s in range(self.S):
            def state_backward(g, s=s):
                gP = xp.zeros_like(P)
                gP[s, T] = g
                return (gP,)

            states.append(make(P[s, T], (core,), state_backward))
        return output, states


def _blocks(Z, U, count):
    """The ``count`` gate blocks of the kept pre-activations ``Z`` (Nones when not kept)."""
    if Z is None:
        return [None] * count
    return [Z[..., j * U:(j + 1) * U] for j in range(count)]
