"""Keras's utilities (``keras.utils``) under their Keras names: one-hot labels, padding,
norms, seeding, dataset splits and time-series windows, and the serialization names that Keras
re-exports here from its saving module.

Examples
--------
>>> from profond import utils
>>> utils.to_categorical([1, 0], num_classes=2)
array([[0., 1.],
       [1., 0.]])
"""

import random as _py_random

import numpy as np

from profond import random as _random
from profond.saving import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from profond.utils.dataset import (
    pack_x_y_sample_weight,
    split_dataset,
    timeseries_dataset_from_array,
    unpack_x_y_sample_weight,
)
from profond.utils.numerical import normalize, pad_sequences, to_categorical
from profond.utils.py_dataset import PyDataset

Sequence = PyDataset  # Keras's older name: keras.utils.Sequence is keras.utils.PyDataset

__all__ = ["to_categorical", "normalize", "pad_sequences", "set_random_seed", "split_dataset",
           "timeseries_dataset_from_array", "CustomObjectScope", "custom_object_scope",
           "deserialize_keras_object", "get_custom_objects", "get_registered_name",
           "get_registered_object", "register_keras_serializable", "serialize_keras_object",
           "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "PyDataset", "Sequence"]


def set_random_seed(seed):
    """Seed every source of randomness a script meets: profond's generator
    (:func:`profond.random.seed`), NumPy's legacy global one and Python's ``random``, as
    Keras's ``set_random_seed`` does (it seeds its backend's instead of profond's).

    Examples
    --------
    >>> import numpy as np
    >>> from profond import utils
    >>> utils.set_random_seed(3); a = np.random.rand()
    >>> utils.set_random_seed(3); bool(a == np.random.rand())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"The 'seed' parameter of set_random_seed must be a non-negative int. "
                         f"Got {seed!r} instead.")
    _random.seed(seed)
    np.random.seed(seed)
    _py_random.seed(seed)
