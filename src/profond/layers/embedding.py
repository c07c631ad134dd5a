"""``Embedding``: integer ids (words, categories) to dense trainable vectors."""

from __future__ import annotations

from profond._validation import check_int
from profond.autograd.tensor import Tensor
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_weight_arguments,
    weight_arguments_config,
)
from profond.layers.base import Layer
from profond.ops.embedding import embedding

__all__ = ["Embedding"]


class Embedding(Layer):
    """Turn integer ids into dense vectors: row ``i`` of a trainable table for id ``i``.

    Parameters
    ----------
    input_dim : int
        Size of the vocabulary: ids run from 0 to ``input_dim - 1``.
    output_dim : int
        Length of each vector.
    embeddings_initializer : str or Initializer, default "uniform"
        Keras's default: uniform in [-0.05, 0.05].
    embeddings_regularizer, activity_regularizer : str or Regularizer, optional
    embeddings_constraint : str, dict, Constraint or callable, optional
        Applied to the table after every update, e.g. ``"unit_norm"`` with ``axis=1`` to keep
        every vector on the unit sphere (see :mod:`profond.constraints`).
    mask_zero : bool, default False
        Treat id 0 as padding: the layer then outputs a mask ``ids != 0`` that the following
        layers honour (recurrent layers skip the padded steps, losses leave them out). Id 0 is
        then not available for a real token, so ``input_dim`` should count it.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Embedding
    >>> layer = Embedding(10, 3, mask_zero=True)
    >>> out = layer(np.array([[4, 7, 0, 0]]))
    >>> out.shape
    (1, 4, 3)
    >>> from profond.layers.masks import get_mask
    >>> get_mask(out)
    array([[ True,  True, False, False]])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, activity_regularizer=None, **kwargs):
        kwargs.pop("input_length", None)  # Keras 2 argument, no longer needed
        super().__init__(**kwargs)
        self.input_dim = check_int(input_dim, "input_dim", "Embedding", low=1)
        self.output_dim = check_int(output_dim, "output_dim", "Embedding", low=1)
        # "uniform" is RandomUniform(-0.05, 0.05), Keras's Embedding default.
        store_weight_arguments(
            self, embeddings=(embeddings_initializer, embeddings_regularizer,
                              embeddings_constraint),
            activity_regularizer=activity_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = add_configured_weight(self, "embeddings",
                                                (self.input_dim, self.output_dim))
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _ids(self, inputs):
        data = inputs.data if isinstance(inputs, Tensor) else inputs
        if data.dtype.kind == "f":
            if bool((data != data.round()).any()):
                raise ValueError(f"Input of layer '{self.name}' (Embedding) must hold integer ids. "
                                 f"Got non-integer values of dtype {data.dtype} instead.")
            data = data.astype("int64")
        elif data.dtype.kind not in "iu":
            raise ValueError(f"Input of layer '{self.name}' (Embedding) must hold integer ids. "
                             f"Got dtype {data.dtype} instead.")
        if data.size and (int(data.min()) < 0 or int(data.max()) >= self.input_dim):
            raise ValueError(f"Layer '{self.name}' (Embedding) has input_dim={self.input_dim}: "
                             f"ids must be in [0, {self.input_dim - 1}]. Got ids from "
                             f"{int(data.min())} to {int(data.max())}.")
        return data

    def call(self, inputs):
        return embedding(self._ids(inputs), self.embeddings)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        data = inputs.data if isinstance(inputs, Tensor) else inputs
        return data != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim, **weight_arguments_config(self),
                "mask_zero": self.mask_zero}
