"""Keras 3's public names that profond has, in ``keras.activations``, ``keras.utils``,
``keras.ops`` and ``keras.ops.nn``: each listed name exists in profond (so the count cannot
regress), and, where Keras is installed, each is a Keras name (so the lists stay honest).

The counts against Keras 3.15.1: activations 35 of 35, utils 18 of 40, ops 96 of 341 (the
``nn`` namespace included), ops.nn 39 of 55; ``tools/keras_names.py`` prints the table of the
seven namespaces of issue 14 and the names missing.

Below, the aliases: Keras's second names for one object (``layers.MaxPool2D`` is
``layers.MaxPooling2D``, ``metrics.binary_crossentropy`` is ``losses.binary_crossentropy``),
which must be the same object in profond as they are in Keras.
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
    "timeseries_dataset_from_array", "to_categorical", "PyDataset", "Sequence"]
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
    "tensordot", "threshold", "transpose", "true_divide", "var", "where",
    "zeros", "ones", "zeros_like", "ones_like", "convert_to_tensor", "convert_to_numpy"]
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


# (profond module, alias, the name it stands for, where Keras has the original)
ALIASES = [
    ("layers", "AvgPool1D", "AveragePooling1D", "layers"),
    ("layers", "AvgPool2D", "AveragePooling2D", "layers"),
    ("layers", "MaxPool1D", "MaxPooling1D", "layers"),
    ("layers", "MaxPool2D", "MaxPooling2D", "layers"),
    ("layers", "GlobalAvgPool1D", "GlobalAveragePooling1D", "layers"),
    ("layers", "GlobalAvgPool2D", "GlobalAveragePooling2D", "layers"),
    ("layers", "GlobalMaxPool1D", "GlobalMaxPooling1D", "layers"),
    ("layers", "GlobalMaxPool2D", "GlobalMaxPooling2D", "layers"),
    ("layers", "Convolution1D", "Conv1D", "layers"),
    ("layers", "Convolution2D", "Conv2D", "layers"),
    ("utils", "Sequence", "PyDataset", "utils"),
    ("metrics", "binary_crossentropy", "binary_crossentropy", "losses"),
    ("metrics", "categorical_crossentropy", "categorical_crossentropy", "losses"),
    ("metrics", "sparse_categorical_crossentropy", "sparse_categorical_crossentropy", "losses"),
    ("metrics", "huber", "huber", "losses"),
    ("metrics", "log_cosh", "log_cosh", "losses"),
    ("preprocessing", "timeseries_dataset_from_array", "timeseries_dataset_from_array", "utils"),
    ("preprocessing.sequence", "pad_sequences", "pad_sequences", "utils"),
]


def test_fashion_mnist_load_data_is_keras_path():
    from profond import datasets

    # keras.datasets.fashion_mnist.load_data() -> ((x_train, y_train), (x_test, y_test))
    assert datasets.fashion_mnist.load_data is datasets.load_fashion_mnist


def _attr(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("where,alias,original,home", ALIASES,
                         ids=[f"{a[0]}.{a[1]}" for a in ALIASES])
def test_alias_is_the_same_object(where, alias, original, home):
    import profond

    assert _attr(profond, where + "." + alias) is _attr(profond, home + "." + original)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    assert _attr(keras, where + "." + alias) is _attr(keras, home + "." + original)


def test_every_namespace_is_reached_from_the_package():
    import profond  # what `import keras` then `keras.utils.to_categorical(...)` needs

    for name in ("utils", "preprocessing", "layers", "ops", "metrics", "losses", "optimizers",
                 "callbacks"):
        assert isinstance(getattr(profond, name), types.ModuleType), name


def test_metric_loss_functions_agree_with_keras():
    import numpy as np

    from profond import metrics
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, (6, 4)).astype("float32")
    p /= p.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, 6)
    onehot = np.eye(4, dtype="float32")[labels]
    cases = [("binary_crossentropy", onehot, p), ("categorical_crossentropy", onehot, p),
             ("sparse_categorical_crossentropy", labels, p), ("huber", onehot, p),
             ("log_cosh", onehot, p)]
    for name, y_true, y_pred in cases:
        ours = getattr(metrics, name)(y_true, y_pred)
        theirs = keras.ops.convert_to_numpy(getattr(keras.metrics, name)(y_true, y_pred))
        np.testing.assert_allclose(np.asarray(ours.data), theirs, rtol=1e-5, atol=1e-6,
                                   err_msg=name)


def test_mean_absolute_percentage_error_agrees_with_keras():
    import numpy as np

    from profond import metrics
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(1)
    y_true = rng.normal(size=(8, 3)).astype("float32")
    y_true[0, 0] = 0.0  # the epsilon floor
    y_pred = rng.normal(size=(8, 3)).astype("float32")
    weights = rng.uniform(size=8).astype("float32")
    ours, theirs = metrics.get("mape"), keras.metrics.MeanAbsolutePercentageError()
    ours.update_state(y_true, y_pred, sample_weight=weights)
    theirs.update_state(y_true, y_pred, sample_weight=weights)
    assert float(ours.result()) == pytest.approx(float(theirs.result()), rel=1e-5)
    np.testing.assert_allclose(
        metrics.mean_absolute_percentage_error(y_true, y_pred),
        keras.ops.convert_to_numpy(keras.metrics.mean_absolute_percentage_error(y_true, y_pred)),
        rtol=1e-5)


def test_creation_ops_agree_with_keras():
    import numpy as np

    from profond import ops
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    for name, args in [("zeros", ((2, 3),)), ("ones", ((4,),)), ("ones", ((2, 2), "int32"))]:
        ours = ops.convert_to_numpy(getattr(ops, name)(*args))
        theirs = keras.ops.convert_to_numpy(getattr(keras.ops, name)(*args))
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
    x = np.arange(6, dtype="int64").reshape(2, 3)
    for name in ("zeros_like", "ones_like"):
        ours = ops.convert_to_numpy(getattr(ops, name)(x))
        theirs = keras.ops.convert_to_numpy(getattr(keras.ops, name)(x))
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    t = ops.convert_to_tensor([1.5, 2.0])
    assert ops.convert_to_tensor(t) is t and t.numpy().dtype == np.float32
    with pytest.raises(ValueError, match="'sparse' and 'ragged' parameters"):
        ops.convert_to_tensor(x, sparse=True)


def test_mean_absolute_percentage_error_loss_agrees_with_keras_and_has_its_gradient():
    import numpy as np

    from profond import losses
    from profond.testing import gradcheck
    rng = np.random.default_rng(2)
    y_true = rng.uniform(0.5, 2.0, (5, 3)) * rng.choice([-1, 1], (5, 3))
    y_pred = rng.normal(size=(5, 3))
    # away from the kinks of |y_true - y_pred| for the finite differences
    y_pred[np.abs(y_pred - y_true) < 0.05] += 0.2
    assert gradcheck(lambda p: losses.mean_absolute_percentage_error(y_true, p), y_pred)
    assert losses.get("mape").name == "mean_absolute_percentage_error"
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    y_true, y_pred = y_true.astype("float32"), y_pred.astype("float32")
    y_true[0, 0] = 0.0  # the 1e-7 floor
    ours = losses.MeanAbsolutePercentageError()(y_true, y_pred)
    theirs = keras.losses.MeanAbsolutePercentageError()(y_true, y_pred)
    assert float(ours.data) == pytest.approx(float(theirs), rel=1e-5)


def test_keras_names_tool_counts_and_lists(capsys):
    import runpy
    from pathlib import Path

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    import profond

    tool = runpy.run_path(str(Path(__file__).parents[2] / "tools" / "keras_names.py"),
                          run_name="keras_names")
    theirs, have, missing = tool["compare"](keras, profond, "layers")
    assert sorted(have + missing) == theirs and not set(have) & set(missing)
    assert {"Dense", "MaxPool2D", "Convolution2D"} <= set(have)
    _, have_utils, _ = tool["compare"](keras, profond, "utils")
    assert set(UTILS) <= set(have_utils)
    assert tool["main"](["--missing"]) == 0
    out = capsys.readouterr().out
    assert "| keras.ops.nn " in out and "total (7 namespaces)" in out
    total = [line for line in out.splitlines() if "total (7 namespaces)" in line][0]
    assert int(total.split("|")[3]) >= 256  # the count of this work: it only grows
