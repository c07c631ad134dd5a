"""Masks that travel beside tensors from layer to layer (Keras's ``_keras_mask``).

A mask is the layers' business, not the engine's, so ``Tensor`` has no field for it: the masks
are held here, keyed by the identity of the tensor they belong to. ``Tensor`` overloads ``==``,
so a ``WeakKeyDictionary`` (which compares keys with ``==``) cannot hold them; the key is
``id(tensor)``, and a weak reference drops the entry when the tensor dies, before its id can be
given to another object.

Examples
--------
>>> import numpy as np
>>> from profond.layers import Masking
>>> from profond.layers.masks import get_mask
>>> out = Masking(0.0)(np.array([[[1.0], [0.0], [2.0]]]))
>>> get_mask(out)
array([[ True, False,  True]])
"""

from __future__ import annotations

import weakref

__all__ = ["get_mask", "set_mask"]

_masks: dict = {}  # id(tensor) -> (weak reference to the tensor, mask)


def set_mask(tensor, mask) -> None:
    """Attach ``mask`` (a boolean array, shape ``(batch, time)``) to ``tensor``; None removes it.

    Parameters
    ----------
    tensor : Tensor
    mask : ndarray or None
    """
    key = id(tensor)
    if mask is None:
        _masks.pop(key, None)
        return

    def forget(ref, key=key):
        # Only this entry: set_mask may have replaced it since (its old reference then died
        # with the entry and never calls back, but checking costs nothing).
        entry = _masks.get(key)
        if entry is not None and entry[0] is ref:
            del _masks[key]

    _masks[key] = (weakref.ref(tensor, forget), mask)


def get_mask(tensor):
    """The mask attached to ``tensor`` by the layer that made it, or None.

    Parameters
    ----------
    tensor : Tensor or any object

    Returns
    -------
    ndarray or None
    """
    entry = _masks.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]
