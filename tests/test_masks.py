"""Masks held beside tensors by profond.layers.masks, not in a Tensor field."""

import gc

import numpy as np

import profond
from profond.layers import masks


def test_mask_follows_its_tensor_only():
    a, b = profond.tensor([[1.0, 2.0]]), profond.tensor([[1.0, 2.0]])  # equal values
    mask = np.array([[True, False]])
    masks.set_mask(a, mask)
    assert masks.get_mask(a) is mask and masks.get_mask(b) is None
    masks.set_mask(a, None)
    assert masks.get_mask(a) is None


def test_entry_goes_with_the_tensor():
    t = profond.tensor(np.zeros((2, 3)))
    masks.set_mask(t, np.ones((2, 3), bool))
    key = id(t)
    assert key in masks._masks
    del t
    gc.collect()
    assert key not in masks._masks


def test_replaced_mask_is_the_one_read():
    t = profond.tensor(np.zeros((1, 2)))
    first, second = np.array([[True, True]]), np.array([[True, False]])
    masks.set_mask(t, first)
    masks.set_mask(t, second)
    assert masks.get_mask(t) is second
    assert masks.get_mask(np.zeros(2)) is None  # not a tensor: no mask


def test_tensor_has_engine_fields_only():
    assert not {"_keras_mask", "_logits", "_aux"} & set(profond.Tensor.__slots__)
    y = profond.ops.softmax(profond.tensor([[1.0, 2.0]]))
    assert y._activation_input.kind == "softmax" and y._activation_input.axis == -1
