"""Embedding look-up as one node: rows of a table gathered by integer ids."""

from __future__ import annotations

from profond import backend
from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor, make

__all__ = ["embedding"]


def embedding(ids, table) -> Tensor:
    """Gather ``table[ids]``: each integer id becomes a row of the table.

    The backward pass adds each output row's gradient into the row it came from (an id that
    appears several times gets the sum), so only the rows that were used receive gradient.

    Parameters
    ----------
    ids : Tensor or array of int, any shape
        Row indices in ``[0, table.shape[0])``.
    table : Tensor, shape (n_rows, dim)

    Returns
    -------
    Tensor, shape ``ids.shape + (dim,)``

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond.ops.embedding import embedding
    >>> table = profond.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    >>> out = embedding(np.array([[0, 2, 2]]), table)
    >>> out.data.tolist()
    [[[0.0, 1.0], [4.0, 5.0], [4.0, 5.0]]]
    >>> out.sum().backward()
    >>> table.grad.tolist()
    [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]
    """
    table = as_tensor(table)
    xp = table.xp
    idx = ids.data if isinstance(ids, Tensor) else xp.asarray(ids)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"The 'ids' parameter of embedding must hold integers. Got "
                        f"dtype {idx.dtype} instead.")
    if table.ndim != 2:
        raise ValueError(f"The 'table' parameter of embedding must have shape (n_rows, dim). "
                         f"Got shape {tuple(table.shape)} instead.")
    flat = idx.reshape(-1)
    out = table.data[flat].reshape(idx.shape + (table.shape[1],))

    def backward(g):
        grad = xp.zeros_like(table.data)
        backend.scatter_add(grad, flat, g.reshape(-1, table.shape[1]))
        return (grad,)

    return make(out, (table,), backward)
