"""Attention as fused nodes: scores, mask, softmax, dropout and the weighted sum of the values
in one node with its own backward.

Two ways to score a query against a key share the rest:

* ``attention``: the scaled dot product ``s_ij = c * q_i . k_j`` (Luong et al., 2015;
  ``c = 1/sqrt(d)`` in Vaswani et al., 2017);
* ``additive_attention``: ``s_ij = sum_d w_d * tanh(c * (q_id + k_jd))`` (Bahdanau et al.,
  2015, with the query and key already projected).

Then, with ``m`` the mask (True: the key is seen), as Keras 3 does::

    s'  = where(m, s, -1e9)   "replace" (MultiHeadAttention: a row that sees no key gets zero
                              weights, p = where(m, p, 0) after the softmax)
    s'  = where(m, s, s - 1e9) "shift" (Attention, AdditiveAttention)
    p   = softmax(s') over the keys
    out = dropout(p) @ v

The backward is the closed form, through the softmax (``ds = p * (dp - sum(dp * p))``) and
the score function. The weights ``p`` can be returned as a second tensor; it is a node of its
own, differentiable too, whose backward reuses the forward's arrays.
"""

from __future__ import annotations

from profond import random as prandom
from profond._validation import check_float
from profond.autograd.function import as_tensor, make
from profond.autograd.tensor import Tensor

__all__ = ["additive_attention", "attention"]

_LARGE = 1e9  # Keras's "large negative number" for masked scores (float32 and float64)


def _check_inputs(query, key, value, owner):
    """The three as tensors of a common float dtype, with matching shapes."""
    query = as_tensor(query)
    key = as_tensor(key, query)
    value = as_tensor(value, query)
    if query.data.dtype.kind != "f":
        query = make(query.data.astype(value.data.dtype if value.data.dtype.kind == "f"
                                       else "float32"))
    for name, t in (("key", key), ("value", value)):
        if t.data.dtype != query.data.dtype:
            raise ValueError(f"The '{name}' parameter of {owner} must have the query's dtype "
                             f"{query.data.dtype}. Got {t.data.dtype} instead.")
    shapes = {n: tuple(t.shape) for n, t in (("query", query), ("key", key), ("value", value))}
    if any(len(s) < 2 for s in shapes.values()) or \
            len({len(s) for s in shapes.values()}) != 1:
        raise ValueError(f"The 'query', 'key' and 'value' parameters of {owner} must have the "
                         "same rank >= 2 ((..., Tq, d), (..., Tv, d), (..., Tv, dv)). Got shapes "
                         f"{shapes['query']}, {shapes['key']} and {shapes['value']} instead.")
    q, k, v = shapes["query"], shapes["key"], shapes["value"]
    if q[:-2] != k[:-2] or q[:-2] != v[:-2] or k[-2] != v[-2] or q[-1] != k[-1]:
        raise ValueError(f"The 'key' and 'value' parameters of {owner} must have shapes "
                         f"(..., Tv, {q[-1]}) and (..., Tv, dv) with the query's leading axes "
                         f"{q[:-2]}. Got query {q}, key {k} and value {v} instead.")
    return query, key, value


def _full_mask(mask, is_causal, scores_shape, xp, owner):
    """The boolean mask broadcast to the scores' shape, or None when nothing is masked."""
    if mask is not None:
        m = mask.data if isinstance(mask, Tensor) else mask
        m = xp.asarray(m)
        m = m if m.dtype == bool else m > 0.5  # Keras keeps a float mask's entries above 0.5
        try:
            m = xp.broadcast_to(m, scores_shape)
        except ValueError:
            raise ValueError(f"The 'mask' parameter of {owner} must broadcast to the scores' "
                             f"shape {tuple(scores_shape)} (..., Tq, Tv). Got shape "
                             f"{tuple(m.shape)} instead.") from None
    else:
        m = None
    if is_causal:
        tq, tv = scores_shape[-2:]
        # row i sees the keys j <= i (Keras's causal mask, aligned at the first step)
        causal = xp.arange(tq)[:, None] >= xp.arange(tv)[None, :]
        m = causal if m is None else m & causal
    return None if m is None else xp.broadcast_to(m, scores_shape)


def _softmax_core(scores, value, mask, fill, rate, seed, xp):
    """Forward of the shared part. Returns the output, the weights and the backward helpers:
    ``back_out(g)`` gives ``(d scores, d value)`` and ``back_weights(g)`` ``d scores``."""
    dtype = scores.dtype
    if mask is not None:
        if fill == "replace":
            scores = xp.where(mask, scores, xp.asarray(-_LARGE, dtype=dtype))
        else:
            scores = xp.where(mask, scores, scores - xp.asarray(_LARGE, dtype=dtype))
    p = scores - scores.max(axis=-1, keepdims=True)
    xp.exp(p, out=p)
    p /= p.sum(axis=-1, keepdims=True)
    if mask is not None and fill == "replace":
        p = xp.where(mask, p, xp.asarray(0, dtype=dtype))
    if rate > 0.0:
        rng = prandom.generator(seed)
        keep = xp.asarray(rng.random(p.shape, dtype="float32") >= rate, dtype=dtype)
        keep *= 1.0 / (1.0 - rate)
        dropped = p * keep
    else:
        keep = None
        dropped = p
    vd = value.data
    out = dropped @ vd

    def softmax_back(gp):
        # p = softmax(s') (then zeroed where masked, for "replace"): dp is blocked there
        if mask is not None and fill == "replace":
            gp = xp.where(mask, gp, xp.asarray(0, dtype=dtype))
        gs = p * (gp - (gp * p).sum(axis=-1, keepdims=True))
        return gs

    def back_out(g):
        gv = xp.swapaxes(dropped, -1, -2) @ g if value.requires_grad else None
        gp = g @ xp.swapaxes(vd, -1, -2)
        if keep is not None:
            gp *= keep
        return softmax_back(gp), gv

    return out, p, back_out, softmax_back


def _scalar_param(c, owner, name, like):
    """A float, or a Tensor of one element (a learned scale), or None."""
    if c is None or isinstance(c, Tensor):
        if isinstance(c, Tensor) and c.size != 1:
            raise ValueError(f"The '{name}' parameter of {owner} must be a number or a tensor "
                             f"of one element. Got a tensor of shape {tuple(c.shape)} instead.")
        return c
    return check_float(c, name, owner)


def _finish(out, p, back_out, back_weights, parents, grads_from_scores, value, return_weights):
    """The output node (and the weights' node) over ``parents`` (+ ``value`` for the output)."""
    def backward(g):
        gs, gv = back_out(g)
        return (*grads_from_scores(gs), gv)

    result = make(out, (*parents, value), backward)
    if not return_weights:
        return result
    weights = make(p, parents, lambda g: grads_from_scores(back_weights(g)))
    return result, weights


def _dropout_rate(dropout, owner):
    return check_float(dropout, "dropout", owner, low=0, high=1, high_open=True)


def attention(query, key, value, mask=None, scale=None, is_causal=False, dropout=0.0,
              seed=None, fill="replace", return_weights=False):
    """Scaled dot-product attention, one node: ``softmax(c * q @ k.T, masked) @ v``.

    Parameters
    ----------
    query : Tensor, shape (..., Tq, d)
    key : Tensor, shape (..., Tv, d)
    value : Tensor, shape (..., Tv, dv)
    mask : bool array or Tensor, optional
        Broadcasts to the scores' shape ``(..., Tq, Tv)``; True where the query may attend to
        the key (a float mask counts above 0.5).
    scale : float or one-element Tensor, optional
        ``c``; default ``1 / sqrt(d)``. A Tensor (a learned scale) gets its gradient.
    is_causal : bool, default False
        Also mask the keys after the query's step (``j > i``).
    dropout : float in [0, 1), default 0
        Rate of inverted dropout on the weights (applied only when > 0: call it in training).
    seed : int or numpy.random.Generator, optional
        The dropout's draws (profond's global generator by default).
    fill : {"replace", "shift"}, default "replace"
        How masked scores are lowered (see the module docstring): "replace" is Keras's
        ``MultiHeadAttention`` (a row with no visible key gets zero weights), "shift" its
        ``Attention`` (such a row keeps a near-uniform softmax).
    return_weights : bool, default False
        Also return the weights ``p`` (after the mask and softmax, before dropout).

    Returns
    -------
    Tensor, shape (..., Tq, dv), and with ``return_weights`` the weights (..., Tq, Tv)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> q = profond.tensor(np.array([[[1.0, 0.0]]]))
    >>> k = profond.tensor(np.array([[[1.0, 0.0], [0.0, 1.0]]]))
    >>> v = profond.tensor(np.array([[[1.0], [3.0]]]))
    >>> ops.attention(q, k, v, mask=np.array([[[True, False]]])).numpy()
    array([[[1.]]], dtype=float32)
    >>> out, w = ops.attention(q, k, v, scale=0.0, return_weights=True)
    >>> out.numpy(), w.numpy()
    (array([[[2.]]], dtype=float32), array([[[0.5, 0.5]]], dtype=float32))
    """
    owner = "attention"
    query, key, value = _check_inputs(query, key, value, owner)
    if fill not in ("replace", "shift"):
        raise ValueError(f"The 'fill' parameter of {owner} must be 'replace' or 'shift'. Got "
                         f"{fill!r} instead.")
    rate = _dropout_rate(dropout, owner)
    xp = query.xp
    qd, kd = query.data, key.data
    c = _scalar_param(scale, owner, "scale", query)
    c_value = 1.0 / float(qd.shape[-1]) ** 0.5 if c is None else \
        (c.data.reshape(()) if isinstance(c, Tensor) else c)
    raw = qd @ xp.swapaxes(kd, -1, -2)
    scores = raw * xp.asarray(c_value, dtype=qd.dtype)
    m = _full_mask(mask, is_causal, scores.shape, xp, owner)
    out, p, back_out, back_weights = _softmax_core(scores, value, m, fill, rate, seed, xp)
    learned = isinstance(c, Tensor)
    parents = (query, key, c) if learned else (query, key)

    def grads_from_scores(gs):
        gq = (gs @ kd) * c_value if query.requires_grad else None
        gk = (xp.swapaxes(gs, -1, -2) @ qd) * c_value if key.requires_grad else None
        if not learned:
            return gq, gk
        gc = (gs * raw).sum().reshape(c.shape).astype(qd.dtype) if c.requires_grad else None
        return gq, gk, gc

    return _finish(out, p, back_out, back_weights, parents, grads_from_scores, value,
                   return_weights)


def additive_attention(query, key, value, weight=None, scale=None, mask=None, is_causal=False,
                       dropout=0.0, seed=None, fill="shift", return_weights=False):
    """Additive attention, one node: scores ``s_ij = sum_d w_d * tanh(c * (q_id + k_jd))``,
    then masked softmax and the weighted sum of the values.

    ``weight`` as a vector is Keras's ``AdditiveAttention`` scale; a scalar ``weight`` with a
    scalar ``scale`` is Keras's ``Attention(score_mode="concat")`` (its ``concat_score_weight``
    and ``scale``).

    Parameters
    ----------
    query : Tensor, shape (..., Tq, d)
    key : Tensor, shape (..., Tv, d)
    value : Tensor, shape (..., Tv, dv)
    weight : Tensor of shape (d,) or of one element, optional
        ``w``; default 1.
    scale : float or one-element Tensor, optional
        ``c``, inside the tanh; default 1.
    mask, is_causal, dropout, seed, return_weights
        As in :func:`attention`.
    fill : {"replace", "shift"}, default "shift"
        As in :func:`attention`; Keras's attention layers shift.

    Returns
    -------
    Tensor, shape (..., Tq, dv), and with ``return_weights`` the weights (..., Tq, Tv)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> q = profond.tensor(np.array([[[0.0, 0.0]]]))
    >>> v = profond.tensor(np.array([[[1.0, 2.0], [3.0, 4.0]]]))
    >>> ops.additive_attention(q, v, v, weight=profond.tensor([0.0, 0.0])).numpy()
    array([[[2., 3.]]], dtype=float32)
    """
    owner = "additive_attention"
    query, key, value = _check_inputs(query, key, value, owner)
    if fill not in ("replace", "shift"):
        raise ValueError(f"The 'fill' parameter of {owner} must be 'replace' or 'shift'. Got "
                         f"{fill!r} instead.")
    rate = _dropout_rate(dropout, owner)
    xp = query.xp
    qd, kd = query.data, key.data
    dim = qd.shape[-1]
    if weight is not None:
        weight = as_tensor(weight, query)
        if weight.size != 1 and tuple(weight.shape) != (dim,):
            raise ValueError(f"The 'weight' parameter of {owner} must have shape ({dim},) (the "
                             f"query's last axis) or one element. Got shape "
                             f"{tuple(weight.shape)} instead.")
    c = _scalar_param(scale, owner, "scale", query)
    c_value = 1.0 if c is None else (c.data.reshape(()) if isinstance(c, Tensor) else c)
    summed = qd[..., :, None, :] + kd[..., None, :, :]  # (..., Tq, Tv, d)
    t = xp.tanh(summed * xp.asarray(c_value, dtype=qd.dtype))
    if weight is None:
        w = None
        scores = t.sum(axis=-1)
    else:
        w = weight.data.reshape(-1) if weight.size == dim else weight.data.reshape(())
        scores = (t * w).sum(axis=-1)
    m = _full_mask(mask, is_causal, scores.shape, xp, owner)
    out, p, back_out, back_weights = _softmax_core(scores, value, m, fill, rate, seed, xp)
    learned_c = isinstance(c, Tensor)
    parents = (query, key) + ((weight,) if weight is not None else ()) + \
        ((c,) if learned_c else ())

    def grads_from_scores(gs):
        gt = gs[..., None] if w is None else gs[..., None] * w  # d scores / d t
        gu = gt * (1.0 - t * t)  # through the tanh: d / d (c * (q + k))
        grads = [(gu.sum(axis=-2) * c_value) if query.requires_grad else None,
                 (gu.sum(axis=-3) * c_value) if key.requires_grad else None]
        if weight is not None:
            if not weight.requires_grad:
                grads.append(None)
            elif weight.size == dim and dim != 1:
                flat = (gs[..., None] * t).reshape(-1, dim)
                grads.append(flat.sum(axis=0).reshape(weight.shape))
            else:
                grads.append((gs[..., None] * t).sum().reshape(weight.shape).astype(qd.dtype))
        if learned_c:
            grads.append((gu * summed).sum().reshape(c.shape).astype(qd.dtype)
                         if c.requires_grad else None)
        return tuple(grads)

    return _finish(out, p, back_out, back_weights, parents, grads_from_scores, value,
                   return_weights)
