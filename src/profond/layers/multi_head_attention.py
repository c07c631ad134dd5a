"""``MultiHeadAttention`` (Vaswani et al., 2017) with Keras 3's arguments, weight layouts,
``get_weights()`` order, masks and config.

The four projections are weights of this layer, stored in Keras's einsum layouts (a kernel
``(dim, num_heads, head_size)``) and applied as one GEMM each (the kernel viewed as
``(dim, num_heads * head_size)``); the heads attend in one fused node,
:func:`profond.ops.attention`.
"""

from __future__ import annotations

import math
import numbers

from profond import backend, ops
from profond import random as prandom
from profond._validation import check_float, check_int
from profond.autograd.tensor import Tensor
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_weight_arguments,
    weight_arguments_config,
)
from profond.layers.attention import _as_tensor, _mask_array, _same
from profond.layers.base import Layer
from profond.layers.masks import get_mask, set_mask

__all__ = ["MultiHeadAttention"]


def _shape(x):
    """The shape of a tensor, a symbolic tensor or array-like data."""
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return tuple(backend.xp().asarray(x).shape)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), with Keras 3's weights and arguments.

    The query, key and value are each projected to ``num_heads`` heads
    (``(..., dim) -> (..., num_heads, key_dim)``); each head attends with
    ``softmax(q . k / sqrt(key_dim))`` over the attention axes; the heads' outputs are projected
    back to the query's last size (or ``output_shape``). Weights in Keras order and layouts:
    ``query/kernel (dim_q, num_heads, key_dim)``, ``query/bias (num_heads, key_dim)``, the same
    for ``key`` (and ``gate``, with ``use_gate``), ``value/kernel (dim_v, num_heads,
    value_dim)``, ``value/bias``, ``attention_output/kernel (num_heads, value_dim,
    *output_shape)``, ``attention_output/bias (*output_shape)``; no biases without ``use_bias``.

    Parameters
    ----------
    num_heads : int >= 1
    key_dim : int >= 1
        Size of each head for the query and key.
    value_dim : int >= 1, optional
        Size of each head for the value; default ``key_dim``.
    dropout : float in [0, 1), default 0
        Dropout on the attention weights, in training.
    use_bias : bool, default True
    output_shape : int or tuple of int, optional
        The output's trailing shape; default the query's last size.
    attention_axes : int or tuple of int, optional
        The axes attended over (the others, batch aside, are batch-like); default every axis
        between the batch and the features. Negative values count as in Keras (``r + axis``
        for a query of rank ``r``).
    sliding_window : int >= 1, optional
        Query step ``i`` sees only the steps ``j`` with ``|i - j| < sliding_window``.
    flash_attention : None or False
        Keras's; profond has no flash-attention kernel.
    kernel_initializer, bias_initializer : default "glorot_uniform", "zeros"
    kernel_regularizer, bias_regularizer, activity_regularizer : optional
        The activity regularizer applies to each projection's output, as in Keras.
    kernel_constraint, bias_constraint : optional
    use_gate : bool, default False
        Multiply the heads' outputs by ``sigmoid(query @ gate/kernel + gate/bias)`` before the
        output projection.
    seed : int, optional
        Makes the dropout reproducible on its own.

    Call arguments
    --------------
    query : (batch, Tq, dim_q)
    value : (batch, Tv, dim_v)
    key : (batch, Tv, dim_k), optional; default ``value``.
    query_mask, value_mask, key_mask : boolean arrays (batch, Tq), (batch, Tv), optional
        By default the masks the inputs carry (from ``Embedding(mask_zero=True)``). Unlike
        Keras 3.15.1, which drops an explicit ``query_mask``, an explicit mask is honoured.
    attention_mask : boolean array broadcasting to (batch, Tq, Tv), optional
        True where a query step may attend to a value step.
    return_attention_scores : bool, default False
        Also return the weights ``(batch, num_heads, Tq, Tv)``; a query step that sees no key
        has zero weights (Keras's fused kernel, used when scores are not asked, averages the
        values there instead; that output is masked downstream anyway).
    training : bool, optional
    use_causal_mask : bool, default False

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import MultiHeadAttention
    >>> layer = MultiHeadAttention(num_heads=2, key_dim=3)
    >>> x = np.random.default_rng(0).normal(size=(4, 5, 8))
    >>> out, scores = layer(x, x, return_attention_scores=True)
    >>> out.shape, scores.shape
    ((4, 5, 8), (4, 2, 5, 5))
    >>> [w.shape for w in layer.get_weights()][:2], layer.get_weights()[6].shape
    ([(8, 2, 3), (2, 3)], (2, 3, 8))
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        owner = "MultiHeadAttention"
        self.num_heads = check_int(num_heads, "num_heads", owner, low=1)
        self.key_dim = check_int(key_dim, "key_dim", owner, low=1)
        self.value_dim = check_int(value_dim, "value_dim", owner, low=1, allow_none=True) \
            or self.key_dim
        self.dropout = check_float(dropout, "dropout", owner, low=0, high=1, high_open=True)
        self.use_bias = bool(use_bias)
        self.use_gate = bool(use_gate)
        self._output_shape = _int_tuple(output_shape, "output_shape", owner)
        self.attention_axes = _int_tuple(attention_axes, "attention_axes", owner,
                                         positive=False)
        self.sliding_window = check_int(sliding_window, "sliding_window", owner, low=1,
                                        allow_none=True)
        if flash_attention:
            raise ValueError(f"The 'flash_attention' parameter of {owner} must be None or "
                             f"False: profond has no flash-attention kernel. Got "
                             f"{flash_attention!r} instead.")
        self.seed = check_int(seed, "seed", owner, low=0, allow_none=True)
        self._rng = prandom.generator(self.seed) if self.seed is not None else None
        store_weight_arguments(self, activity_regularizer=activity_regularizer,
                               kernel=(kernel_initializer, kernel_regularizer,
                                       kernel_constraint),
                               bias=(bias_initializer, bias_regularizer, bias_constraint))
        self._build_shapes = None
        self._projection_regularizer = self.activity_regularizer
        self.supports_masking = True

    # --- building -----------------------------------------------------------------------------
    def __call__(self, query, value=None, key=None, **kwargs):
        if value is None:
            raise ValueError(f"The 'value' parameter of layer '{self.name}' "
                             "(MultiHeadAttention) must be given: call it as layer(query, value) "
                             "(layer(x, x) for self-attention). Got None instead.")
        if not self.built:
            shapes = [_shape(x) for x in (query, value, key) if x is not None]
            self.build(*shapes)
        # Keras applies the activity regularizer to the four projections (``call`` does), not
        # to the outputs, which Layer.__call__ would: hidden from it during the call, while a
        # model still sees that this layer leaves activity penalties to collect.
        hidden, self.activity_regularizer = self.activity_regularizer, None
        try:
            return super().__call__(query, value, key, **kwargs)
        finally:
            self.activity_regularizer = hidden

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Create the weights for a query, value (and key) of these shapes (batch first)."""
        label = f"layer '{self.name}' (MultiHeadAttention)"
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        given_key = key_shape is not None
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        rank = len(query_shape)
        if rank < 3 or len(value_shape) != rank or len(key_shape) != rank:
            raise ValueError(f"The inputs of {label} must be query, value and key of one rank "
                             f">= 3 ((batch, Tq, dim), (batch, Tv, dim), ...). Got shapes "
                             f"{query_shape}, {value_shape} and {key_shape} instead.")
        if not _same(value_shape[1:-1], key_shape[1:-1]):
            raise ValueError(f"The 'key' parameter of {label} must have the value's shape but "
                             f"for the last axis. Got value shape {value_shape} and key shape "
                             f"{key_shape} instead.")
        if any(s[-1] is None for s in (query_shape, value_shape, key_shape)):
            raise ValueError(f"The inputs of {label} must have a known last axis. Got shapes "
                             f"{query_shape}, {value_shape} and {key_shape} instead.")
        self.attention_axes = self._resolve_axes(rank, query_shape)
        heads, kdim, vdim = self.num_heads, self.key_dim, self.value_dim
        out_shape = self._output_shape or (int(query_shape[-1]),)

        def projection(name, dim, size):
            kernel = add_configured_weight(self, "kernel", (int(dim), heads, size),
                                           name=f"{name}/kernel",
                                           initializer=self._einsum_initializer(1))
            bias = add_configured_weight(self, "bias", (heads, size), name=f"{name}/bias") \
                if self.use_bias else None
            return kernel, bias

        self._query = projection("query", query_shape[-1], kdim)
        self._key = projection("key", key_shape[-1], kdim)
        self._gate = projection("gate", query_shape[-1], vdim) if self.use_gate else None
        self._value = projection("value", value_shape[-1], vdim)
        kernel = add_configured_weight(self, "kernel", (heads, vdim, *out_shape),
                                       name="attention_output/kernel",
                                       initializer=self._einsum_initializer(2))
        bias = add_configured_weight(self, "bias", out_shape, name="attention_output/bias") \
            if self.use_bias else None
        self._out = (kernel, bias)
        self._build_shapes = (query_shape, value_shape, key_shape if given_key else None)
        self._build_input_shape = query_shape
        self.built = True

    def _keras_variable_groups(self):
        """Where Keras's files keep this layer's variables: in one ``EinsumDense`` sub-layer
        per projection (``query_dense``, ``key_dense`` ...), visited in sorted order."""
        parts = {"query_dense": self._query, "key_dense": self._key,
                 "value_dense": self._value, "output_dense": self._out}
        if self._gate is not None:
            parts["gate_dense"] = self._gate
        return [("", [])] + [(name, [v for v in parts[name] if v is not None])
                             for name in sorted(parts)]

    def _einsum_initializer(self, inputs):
        """The kernel initializer drawn on the kernel as a matrix (its first ``inputs`` axes
        as rows): the fans of Keras 3's EinsumDense (``(dim, heads, size)``: fan-in ``dim``,
        fan-out ``heads * size``), not those of a convolution kernel of that shape."""
        initializer = self.kernel_initializer

        def draw(shape, dtype=None):
            rows = math.prod(shape[:inputs])
            return initializer((rows, math.prod(shape) // rows), dtype=dtype).reshape(shape)

        return draw

    def _resolve_axes(self, rank, query_shape):
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = tuple(a if a >= 0 else rank + a for a in self.attention_axes)
        if any(not 1 <= a <= rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f"The 'attention_axes' parameter of layer '{self.name}' "
                             f"(MultiHeadAttention) must name distinct axes between the batch "
                             f"and the features of the query, in [1, {rank - 2}]. Got "
                             f"{self.attention_axes} for a query of shape {query_shape} "
                             "instead.")
        return tuple(sorted(axes))

    def get_build_config(self):
        if not self.built or self._build_shapes is None:
            return None
        names = ("query_shape", "value_shape", "key_shape")
        return {"shapes_dict": {n: [None] + list(s[1:]) for n, s in zip(names, self._build_shapes)
                                if s is not None}}

    def build_from_config(self, config):
        shapes = (config or {}).get("shapes_dict")
        if shapes:
            self.build(*(tuple(shapes[n]) if shapes.get(n) is not None else None
                         for n in ("query_shape", "value_shape", "key_shape")))
        elif config and config.get("input_shape") is not None:
            self.build(tuple(config["input_shape"]))

    # --- computing ----------------------------------------------------------------------------
    def _project(self, x, weights, size):
        """``x (..., dim) -> (..., num_heads, size)``; the kernel's own layout kept."""
        kernel, bias = weights
        dim = kernel.shape[0]
        flat = ops.linear(x, ops.reshape(kernel, (dim, self.num_heads * size)),
                          None if bias is None else ops.reshape(bias, (-1,)))
        out = ops.reshape(flat, (*x.shape[:-1], self.num_heads, size))
        if self._projection_regularizer is not None:
            self._activity_losses.append(self._projection_regularizer(out))
        return out

    def _check_call(self, query, value, key):
        label = f"layer '{self.name}' (MultiHeadAttention)"
        built_q, built_v, built_k = self._build_shapes
        built_k = built_v if built_k is None else built_k
        for name, x, built in (("query", query, built_q), ("value", value, built_v),
                               ("key", key, built_k)):
            if x.ndim != len(built) or x.shape[-1] != built[-1]:
                raise ValueError(f"The '{name}' parameter of {label} must have shape "
                                 f"(batch, ..., {built[-1]}) of rank {len(built)}, as the "
                                 f"layer was built for. Got shape {tuple(x.shape)} instead.")
        if tuple(key.shape[:-1]) != tuple(value.shape[:-1]) or query.shape[0] != key.shape[0] \
                or any(query.shape[a] != key.shape[a] for a in range(1, query.ndim - 1)
                       if a not in self.attention_axes):
            raise ValueError(f"The 'key' and 'value' parameters of {label} must share their "
                             f"axes but the last, and with the query all but the attention "
                             f"axes {self.attention_axes} and the last. Got query "
                             f"{tuple(query.shape)}, value {tuple(value.shape)} and key "
                             f"{tuple(key.shape)} instead.")

    def _attention_mask(self, query, value, masks, attention_mask, use_causal_mask):
        """The combined boolean mask in Keras's layout, or None."""
        label = f"layer '{self.name}' (MultiHeadAttention)"
        xp = backend.xp()
        query_mask, value_mask, key_mask = masks
        tq, tv = query.shape[1], value.shape[1]
        implicit = any(m is not None for m in masks) or use_causal_mask or \
            self.sliding_window is not None
        if implicit and query.ndim != 3:
            raise ValueError(f"The query, value and key masks, use_causal_mask and "
                             f"sliding_window of {label} apply to inputs of rank 3 (batch, "
                             f"steps, features). Got a query of shape {tuple(query.shape)} "
                             "instead: give an attention_mask.")
        batch = query.shape[0]
        combined = None

        def both(a, b):
            return b if a is None else a & b

        if query_mask is not None:
            combined = _mask_array(query_mask, (batch, tq), "query_mask", label)[:, :, None]
        if value_mask is not None:
            combined = both(combined, _mask_array(value_mask, (batch, tv), "value_mask",
                                                  label)[:, None, :])
        if key_mask is not None:
            combined = both(combined, _mask_array(key_mask, (batch, tv), "key_mask",
                                                  label)[:, None, :])
        rows, cols = xp.arange(tq)[:, None], xp.arange(tv)[None, :]
        if use_causal_mask:
            combined = both(combined, (rows >= cols)[None])
        if self.sliding_window is not None:
            combined = both(combined, (abs(rows - cols) < self.sliding_window)[None])
        if attention_mask is not None:
            m = xp.asarray(attention_mask.data if isinstance(attention_mask, Tensor)
                           else attention_mask)
            m = m if m.dtype == bool else m > 0.5
            try:
                combined = both(combined, m)
            except ValueError:
                raise ValueError(f"The 'attention_mask' parameter of {label} must broadcast "
                                 f"to (batch, query steps, key steps) {(batch, tq, tv)}. Got "
                                 f"shape {tuple(m.shape)} instead.") from None
        return combined

    def _heads(self, x, attended):
        """``(batch, ..., heads, size)`` -> ``(batch-like..., heads, T, size)`` and the
        permutation used; ``attended`` are the attention axes."""
        rank = x.ndim
        batch_like = [0] + [a for a in range(1, rank - 2) if a not in attended]
        perm = batch_like + [rank - 2] + list(attended) + [rank - 1]
        moved = ops.permute(x, perm)
        lead = tuple(x.shape[a] for a in batch_like)
        steps = math.prod(x.shape[a] for a in attended)
        return ops.reshape(moved, (*lead, self.num_heads, steps, x.shape[-1])), perm

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        query, value = _as_tensor(query), _as_tensor(value)
        key_given = key is not None
        key = _as_tensor(key) if key_given else value
        self._check_call(query, value, key)
        masks = (query_mask if query_mask is not None else get_mask(query),
                 value_mask if value_mask is not None else get_mask(value),
                 key_mask if key_mask is not None else
                 (get_mask(key) if key_given and key is not value else None))
        mask = self._attention_mask(query, value, masks, attention_mask, use_causal_mask)
        q = self._project(query, self._query, self.key_dim)
        k = self._project(key, self._key, self.key_dim)
        v = self._project(value, self._value, self.value_dim)
        axes = self.attention_axes
        qh, perm = self._heads(q, axes)
        kh, _ = self._heads(k, axes)
        vh, _ = self._heads(v, axes)
        # scores' layout: (batch-like..., heads, query attention axes..., key attention axes...)
        lead = qh.shape[:-3]
        q_steps = tuple(query.shape[a] for a in axes)
        k_steps = tuple(key.shape[a] for a in axes)
        layout = (*lead, self.num_heads, *q_steps, *k_steps)
        flat_mask = None
        if mask is not None:
            given = tuple(mask.shape)
            xp = backend.xp()
            while mask.ndim < len(layout):  # the heads axis (and any missing), as Keras adds
                mask = xp.expand_dims(mask, -2 * len(axes) - 1)
            try:
                flat_mask = xp.broadcast_to(mask, layout).reshape(qh.shape[:-1] +
                                                                  (kh.shape[-2],))
            except ValueError:
                raise ValueError(f"The 'attention_mask' parameter of layer '{self.name}' "
                                 f"(MultiHeadAttention) must broadcast to "
                                 f"{(*lead, *q_steps, *k_steps)} (batch, query steps, key "
                                 f"steps). Got shape {given} instead.") from None
        result = ops.attention(qh, kh, vh, mask=flat_mask, scale=1.0 / math.sqrt(self.key_dim),
                               dropout=self.dropout if training else 0.0, seed=self._rng,
                               fill="replace", return_weights=return_attention_scores)
        heads_out, scores = result if return_attention_scores else (result, None)
        # back to (batch, ..., heads, value_dim)
        spread = ops.reshape(heads_out, (*lead, self.num_heads, *q_steps, self.value_dim))
        inverse = [perm.index(a) for a in range(len(perm))]
        out = ops.permute(spread, inverse)
        if self._gate is not None:
            out = out * ops.sigmoid(self._project(query, self._gate, self.value_dim))
        out = self._output(out)
        if masks[0] is not None:
            set_mask(out, masks[0])
        if not return_attention_scores:
            return out
        return out, ops.reshape(scores, layout)

    def _output(self, x):
        kernel, bias = self._out
        out_shape = tuple(kernel.shape[2:])
        width = self.num_heads * self.value_dim
        flat = ops.linear(ops.reshape(x, (*x.shape[:-2], width)),
                          ops.reshape(kernel, (width, math.prod(out_shape))),
                          None if bias is None else ops.reshape(bias, (-1,)))
        out = ops.reshape(flat, (*x.shape[:-2], *out_shape))
        if self._projection_regularizer is not None:
            self._activity_losses.append(self._projection_regularizer(out))
        return out

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if self._output_shape:
            return query_shape[:-1] + self._output_shape
        return query_shape

    def get_config(self):
        config = {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                  "value_dim": self.value_dim, "dropout": self.dropout,
                  "use_bias": self.use_bias, "use_gate": self.use_gate,
                  "output_shape": self._output_shape,
                  "attention_axes": self.attention_axes,
                  "sliding_window": self.sliding_window, **weight_arguments_config(self),
                  "seed": self.seed}
        return config


def _int_tuple(value, argument, owner, positive=True):
    """None, or an int or a sequence of ints as a tuple (Keras's ``output_shape`` and
    ``attention_axes``)."""
    if value is None:
        return None

    def ok(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and \
            (v > 0 or not positive)

    if ok(value):
        return (int(value),)
    if isinstance(value, (list, tuple)) and value and all(ok(v) for v in value):
        return tuple(int(v) for v in value)
    kind = "positive ints" if positive else "ints"
    raise ValueError(f"The '{argument}' parameter of {owner} must be an int or a non-empty "
                     f"tuple of {kind}, or None. Got {value!r} instead.")
