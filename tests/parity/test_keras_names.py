"""Keras 3's public names that profond has, in ``keras.activations``, ``keras.utils``,
``keras.ops`` and ``keras.ops.nn``: each listed name exists in profond (so the count cannot
regress), and, where Keras is installed, each is a Keras name (so the lists stay honest).

The counts against Keras 3.15.1: activations 35 of 35, utils 16 of 40, ops 89 of 341 (the
``nn`` namespace included), ops.nn 39 of 55.
"""

import os
import types

import pytest

from profond import activations, ops, utils

ACTIVATIONS = [
    "celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear",
    "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu",
    "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold"]
UTILS = [
    "CustomObjectScope", "custom_object_scope", "deserialize_keras_object", "get_custom_objects",
    "get_registered_name", "get_registered_object", "normalize", "pack_x_y_sample_weight",
    "pad_sequences", "unpack_x_y_sample_weight",
    "register_keras_serializable", "serialize_keras_object", "set_random_seed", "split_dataset",
    "timeseries_dataset_from_array", "to_categorical"]
OPS_NN = [
    "average_pool", "batch_normalization", "binary_crossentropy", "categorical_crossentropy",
    "celu", "conv", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "log_sigmoid", "log_softmax", "max_pool", "moments",
    "multi_hot", "normalize", "one_hot", "relu", "relu6", "selu", "sigmoid", "silu",
    "soft_shrink", "softmax", "softplus", "softsign", "sparse_categorical_crossentropy",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh_shrink",
    "threshold"]
OPS = [
    "abs", "absolute", "add", "amax", "amin", "argmax", "argmin", "average_pool",
    "batch_normalization", "binary_crossentropy", "broadcast_to", "cast",
    "categorical_crossentropy", "celu", "clip", "concatenate", "divide", "elu", "equal", "exp",
    "expand_dims", "gelu", "get_item", "glu", "greater", "greater_equal", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "less", "less_equal",
    "log", "log_sigmoid", "log_softmax", "logsumexp", "matmul", "max", "max_pool", "maximum",
    "mean", "min", "minimum", "moments", "multi_hot", "multiply", "negative", "normalize",
    "not_equal", "one_hot", "pad", "power", "relu", "relu6", "reshape", "selu", "sigmoid", "sign",
    "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_categorical_crossentropy",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "split", "sqrt", "square", "squareplus",
    "squeeze", "stack", "std", "subtract", "sum", "swapaxes", "swish", "tanh", "tanh_shrink",
    "tensordot", "threshold", "transpose", "true_divide", "var", "where"]
NAMESPACES = [("activations", activations, ACTIVATIONS), ("utils", utils, UTILS),
              ("ops", ops, OPS), ("ops.nn", ops.nn, OPS_NN)]


@pytest.mark.parametrize("label,module,names", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_profond_has_these_keras_names(label, module, names):
    missing = [n for n in names if not callable(getattr(module, n, None)) or
               isinstance(getattr(module, n), types.ModuleType)]
    assert not missing, f"profond.{label} lost Keras names: {missing}"
    assert isinstance(ops.nn, types.ModuleType)  # keras.ops.nn


@pytest.mark.parametrize("label,module,names", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_these_are_keras_names(label, module, names):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    theirs = keras
    for part in label.split("."):
        theirs = getattr(theirs, part)
    assert not [n for n in names if not hasattr(theirs, n)]
    if label == "activations":  # every one
        assert {n for n in dir(theirs) if not n.startswith("_")} == set(names)
