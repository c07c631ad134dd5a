"""Attention layers with Keras 3's names, arguments, weights and configs: ``Attention``
(Luong et al., 2015) and ``AdditiveAttention`` (Bahdanau et al., 2015);
``MultiHeadAttention`` (Vaswani et al., 2017) is in :mod:`profond.layers.multi_head_attention`.

Each runs one fused node of :mod:`profond.ops.attention` for the scores, mask, softmax,
dropout and weighted sum. Masks travel as in Keras: the masks carried by the inputs (an
``Embedding(mask_zero=True)``'s) hide the padded keys and zero the padded queries, and the
output carries the query's mask.
"""

from __future__ import annotations

from profond import backend, ops
from profond import random as prandom
from profond._validation import check_float, check_int
from profond.autograd.tensor import Tensor
from profond.layers.base import Layer, to_tensor
from profond.layers.masks import get_mask, set_mask

__all__ = ["AdditiveAttention", "Attention"]


def _as_tensor(x):
    return x if isinstance(x, Tensor) else to_tensor(x)


def _mask_array(mask, shape, argument, owner):
    """``mask`` as a boolean array of ``shape`` (or None), checked."""
    if mask is None:
        return None
    xp = backend.xp()
    m = xp.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if tuple(m.shape) != tuple(shape):
        raise ValueError(f"The '{argument}' parameter of {owner} must have shape "
                         f"{tuple(shape)}. Got shape {tuple(m.shape)} instead.")
    return m if m.dtype == bool else m > 0.5


class Attention(Layer):
    """Dot-product attention (Luong et al., 2015): each query step takes the values' average
    weighted by ``softmax(query . key)`` over the value steps.

    ``score_mode="concat"`` scores with ``concat_score_weight * sum(tanh(scale * (q + k)))``
    instead. Called on ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to
    ``value``) of shapes ``(batch, Tq, dim)``, ``(batch, Tv, dim_v)``, ``(batch, Tv, dim)``;
    returns ``(batch, Tq, dim_v)``. Weights in Keras order: ``[scale]`` (a scalar, with
    ``use_scale``) then ``[concat_score_weight]`` (a scalar, with ``score_mode="concat"``).

    Parameters
    ----------
    use_scale : bool, default False
        Learn a scalar that multiplies the scores (``"dot"``) or the sums inside the tanh
        (``"concat"``).
    score_mode : {"dot", "concat"}, default "dot"
    dropout : float in [0, 1), default 0
        Dropout on the attention weights, in training.
    seed : int, optional
        Makes the dropout reproducible on its own.

    Call arguments
    --------------
    inputs : list of 2 or 3 tensors
        ``[query, value]`` or ``[query, value, key]``.
    mask : list of 2 or 3 boolean arrays, optional
        ``[query_mask (batch, Tq), value_mask (batch, Tv)]``; by default the masks the inputs
        carry. Masked values are not attended to; masked queries give zeros.
    return_attention_scores : bool, default False
        Also return the attention weights ``(batch, Tq, Tv)``.
    training : bool, optional
    use_causal_mask : bool, default False
        Query step ``i`` sees the value steps ``j <= i`` only.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Attention
    >>> query = np.array([[[1.0, 0.0]]])
    >>> value = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    >>> out, weights = Attention()([query, value], return_attention_scores=True)
    >>> weights.numpy().round(3)
    array([[[0.731, 0.269]]], dtype=float32)
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"The 'score_mode' parameter of {owner} must be 'dot' or "
                             f"'concat'. Got {score_mode!r} instead.")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = check_float(dropout, "dropout", owner, low=0, high=1, high_open=True)
        self.seed = check_int(seed, "seed", owner, low=0, allow_none=True)
        self._rng = prandom.generator(self.seed) if self.seed is not None else None
        self.supports_masking = True

    # --- inputs -------------------------------------------------------------------------------
    def _shapes(self, inputs):
        """``(query, value, key)`` shapes from a list of 2 or 3 shapes or tensors, checked."""
        owner = f"layer '{self.name}' ({type(self).__name__})"
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3 or \
                any(isinstance(s, (int, type(None))) for s in inputs):
            raise ValueError(f"The 'inputs' parameter of {owner} must be a list [query, value] "
                             f"or [query, value, key]. Got {_describe(inputs)} instead.")
        shapes = [tuple(s.shape) if hasattr(s, "shape") else tuple(s) for s in inputs]
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) == 3 else value
        if len(query) < 3 or len(value) != len(query) or len(key) != len(query):
            raise ValueError(f"The 'inputs' parameter of {owner} must hold query, value and key "
                             "of one rank >= 3 ((batch, Tq, dim), (batch, Tv, dim_v), (batch, "
                             f"Tv, dim)). Got shapes {shapes} instead.")
        if not _same(query[-1:], key[-1:]) or not _same(value[:-1], key[:-1]) or \
                not _same(query[:-2], value[:-2]):
            raise ValueError(f"The 'inputs' parameter of {owner} must have query and key of "
                             f"the same last axis and value and key of the same steps. Got "
                             f"query {query}, value {value} and key {key} instead.")
        return query, value, key

    def _masks(self, inputs, mask):
        """``(query_mask, value_mask)`` as boolean arrays or None (the inputs' own by default)."""
        owner = f"layer '{self.name}' ({type(self).__name__})"
        if mask is None:
            mask = [get_mask(x) for x in inputs]
        if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
            raise ValueError(f"The 'mask' parameter of {owner} must be a list [query_mask, "
                             f"value_mask]. Got {_describe(mask)} instead.")
        query, value = inputs[0], inputs[1]
        return (_mask_array(mask[0], query.shape[:-1], "mask", owner),
                _mask_array(mask[1], value.shape[:-1], "mask", owner))

    # --- weights ------------------------------------------------------------------------------
    def build(self, input_shape):
        self._shapes(input_shape)
        self.scale = self.add_weight((), "ones", name="scale") if self.use_scale else None
        self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight") \
            if self.score_mode == "concat" else None
        self.built = True

    def _attend(self, query, key, value, mask, dropout, return_weights):
        if self.score_mode == "dot":
            return ops.attention(query, key, value, mask=mask,
                                 scale=1.0 if self.scale is None else self.scale,
                                 dropout=dropout, seed=self._rng, fill="shift",
                                 return_weights=return_weights)
        return ops.additive_attention(query, key, value, weight=self.concat_score_weight,
                                      scale=self.scale, mask=mask, dropout=dropout,
                                      seed=self._rng, fill="shift",
                                      return_weights=return_weights)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        self._shapes(inputs)
        inputs = [_as_tensor(x) for x in inputs]
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        query_mask, value_mask = self._masks(inputs, mask)
        full = None if value_mask is None else value_mask[..., None, :]
        dropout = self.dropout if training else 0.0
        result = self._attend(query, key, value, full, dropout, return_attention_scores) \
            if not use_causal_mask else self._attend_causal(query, key, value, full, dropout,
                                                            return_attention_scores)
        out, weights = result if return_attention_scores else (result, None)
        if query_mask is not None:
            keep = backend.xp().asarray(query_mask[..., None], dtype=out.dtype)
            out = out * keep
            set_mask(out, query_mask)
        return (out, weights) if return_attention_scores else out

    def _attend_causal(self, query, key, value, full, dropout, return_weights):
        xp = backend.xp()
        tq, tv = query.shape[-2], value.shape[-2]
        causal = xp.arange(tq)[:, None] >= xp.arange(tv)[None, :]
        full = causal if full is None else full & causal
        return self._attend(query, key, value, full, dropout, return_weights)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            mask = [get_mask(x) for x in inputs] if isinstance(inputs, (list, tuple)) else None
        return None if not mask or mask[0] is None else mask[0]

    def compute_output_shape(self, input_shape):
        query, value, _ = self._shapes(input_shape)
        return (*query[:-1], value[-1])

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau et al., 2015): scores ``sum(scale * tanh(q + k))`` over the
    feature axis, then as :class:`Attention`.

    Weights: ``[scale]`` of shape ``(dim,)`` (glorot-uniform), with ``use_scale``.

    Parameters
    ----------
    use_scale : bool, default True
    dropout : float in [0, 1), default 0
    seed : int, optional
        Seed of the dropout on the attention weights; the call arguments are
        :class:`Attention`'s.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AdditiveAttention
    >>> value = np.array([[[1.0, 2.0], [2.0, 1.0]]])  # equal scores: the values' mean
    >>> AdditiveAttention(use_scale=False)([np.zeros((1, 1, 2)), value]).numpy()
    array([[[1.5, 1.5]]], dtype=float32)
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        query, _, _ = self._shapes(input_shape)
        if query[-1] is None:
            raise ValueError(f"Input of layer '{self.name}' (AdditiveAttention) must have a "
                             f"known last axis. Got query shape {query} instead.")
        self.scale = self.add_weight((int(query[-1]),), "glorot_uniform", name="scale") \
            if self.use_scale else None
        self.concat_score_weight = None
        self.built = True

    def _attend(self, query, key, value, mask, dropout, return_weights):
        return ops.additive_attention(query, key, value, weight=self.scale, mask=mask,
                                      dropout=dropout, seed=self._rng, fill="shift",
                                      return_weights=return_weights)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


def _same(a, b):
    """Shapes equal where both sizes are known."""
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _describe(x):
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)}"
    return f"a {type(x).__name__}" + (f" of shape {tuple(x.shape)}" if hasattr(x, "shape")
                                       else "")
