"""Mapping a function over a nested structure (one leaf, lists/tuples, dicts).

It sits on the ground floor because layers (calling on several inputs) and training (arrays
for ``fit``) both walk such structures; ``profond.training.structure`` re-exports it beside
its flatten/unflatten.
"""

from __future__ import annotations

__all__ = ["map_structure"]


def map_structure(fn, x):
    """Apply ``fn`` to every leaf of ``x``, keeping lists, tuples and dicts as they are.

    ``None`` stands for a missing entry (an absent ``sample_weight``, say) and stays ``None``.

    Parameters
    ----------
    fn : callable
        Called on each leaf.
    x : object
        A leaf, or a list, tuple or dict of structures.

    Returns
    -------
    object
        The structure of ``x`` with each leaf replaced by ``fn(leaf)``.

    Examples
    --------
    >>> map_structure(lambda v: v * 2, {"a": [1, (2, 3)], "b": None})
    {'a': [2, (4, 6)], 'b': None}
    """
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: map_structure(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(map_structure(fn, v) for v in x)
    return fn(x)
