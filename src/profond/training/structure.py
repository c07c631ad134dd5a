"""Nested structures of arrays (one array, a list/tuple, or a dict) flattened and rebuilt."""

from __future__ import annotations

from profond._structure import map_structure

__all__ = ["flatten", "unflatten", "map_structure"]


def flatten(x) -> list:
    """Leaves of ``x`` in a fixed order (dict keys sorted)."""
    if x is None:
        return []
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in flatten(item)]
    return [x]


def unflatten(template, leaves):
    """Rebuild ``template``'s structure from ``leaves`` (as produced by :func:`flatten`)."""
    it = iter(leaves)

    def build(t):
        if t is None:
            return None
        if isinstance(t, dict):
            return {k: build(t[k]) for k in sorted(t)}
        if isinstance(t, (list, tuple)):
            return type(t)(build(i) for i in t)
        return next(it)

    return build(template)

