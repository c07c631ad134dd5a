"""Keras 3 as the oracle of the ``dtype`` argument: the same float64 layers in both libraries,
Keras's weights copied in, the same outputs to float64 precision; the same ``dtype``,
``compute_dtype`` and ``variable_dtype`` for each form of the argument; each library reads the
``dtype`` the other writes in a config."""

import os

import numpy as np
import pytest

from profond import dtype_policies, layers

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
from keras.src.backend.common import dtypes as keras_dtypes


@pytest.fixture(autouse=True)
def keras_in_true_float64(monkeypatch):
    """Keras on PyTorch computes float64 layers partly in float32: its type promotion turns any
    64-bit result type into 32 bits ("to be aligned with JAX's default", ``BIT64_TO_BIT32_DTYPE``
    in keras/src/backend/common/dtypes.py), so a float64 ``Dense`` multiplies in float32 and
    casts the product back to float64 (5e-8 away from float64 arithmetic). profond computes in
    float64 throughout; the oracle is Keras with that demotion turned off (as on TensorFlow)."""
    monkeypatch.setitem(keras_dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float64")

_MERGE = [(2, 3), (2, 3)]
# name: (positional arguments, keyword arguments, input shape(s) with the batch axis)
CASES = {
    "Dense": ((3,), {"activation": "tanh"}, (2, 4)),
    "Conv1D": ((3, 2), {"padding": "same"}, (2, 5, 2)),
    "Conv2D": ((3, 2), {"strides": 2}, (2, 5, 5, 2)),
    "MaxPooling2D": ((), {}, (2, 4, 4, 2)),
    "AveragePooling1D": ((2,), {}, (2, 4, 2)),
    "GlobalAveragePooling2D": ((), {}, (2, 4, 4, 2)),
    "BatchNormalization": ((), {}, (2, 3)),
    "LayerNormalization": ((), {}, (2, 4, 3)),
    "GroupNormalization": ((2,), {}, (2, 4, 6)),
    "UnitNormalization": ((), {}, (2, 3)),
    "Embedding": ((10, 3), {}, (2, 4)),
    "SimpleRNN": ((3,), {"return_sequences": True}, (2, 5, 2)),
    "GRU": ((3,), {}, (2, 5, 2)),
    "LSTM": ((3,), {"go_backwards": True}, (2, 5, 2)),
    "Dropout": ((0.5,), {}, (2, 3)),
    "Softmax": ((), {}, (2, 3)),
    "PReLU": ((), {}, (2, 3)),
    "Add": ((), {}, _MERGE),
    "Concatenate": ((), {}, _MERGE),
    "Dot": ((1,), {"normalize": True}, _MERGE),
}


# Keras's LayerNormalization and GroupNormalization do not cast their inputs (autocast=False),
# and normalise float32 data in float32: they are given float64 data, which both libraries then
# normalise in float64. Every other layer gets float32 data (as fit's batches are), which both
# cast to float64.
_NOT_CAST_BY_KERAS = ("LayerNormalization", "GroupNormalization")


def _data(shape, name):
    rng = np.random.default_rng(0)
    dtype = "float64" if name in _NOT_CAST_BY_KERAS else "float32"
    if isinstance(shape, list):
        return [rng.normal(size=s).astype(dtype) for s in shape]
    if name == "Embedding":
        return rng.integers(0, 10, size=shape)
    return rng.normal(size=shape).astype(dtype)


def _pair(name, dtype="float64"):
    args, kwargs, shape = CASES[name]
    theirs = getattr(keras.layers, name)(*args, dtype=dtype, **kwargs)
    mine = getattr(layers, name)(*args, dtype=dtype, **kwargs)
    return theirs, mine, _data(shape, name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float64_layers_compute_as_keras_does_in_float64(name):
    theirs, mine, x = _pair(name)
    expected = theirs(x)
    mine(x)
    weights = theirs.get_weights()
    if weights:
        rng = np.random.default_rng(1)
        # away from the initial values (zeros, ones) so that every weight counts
        weights = [w + 0.1 * rng.normal(size=w.shape) if w.dtype.kind == "f" else w
                   for w in weights]
        if name == "BatchNormalization":
            weights[3] = np.abs(weights[3]) + 0.5  # a variance
        theirs.set_weights(weights)
        mine.set_weights(weights)
        expected = theirs(x)
    expected = keras.ops.convert_to_numpy(expected)
    got = mine(x).numpy()
    assert expected.dtype == got.dtype == np.float64
    assert [w.dtype for w in mine.get_weights()] == [w.dtype for w in theirs.get_weights()]
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-12)


def test_float64_normalization_adapts_as_keras_does():
    data = np.random.default_rng(2).normal(2.0, 3.0, size=(50, 3))
    theirs = keras.layers.Normalization(dtype="float64")
    mine = layers.Normalization(dtype="float64")
    theirs.adapt(data)
    mine.adapt(data)
    x = data[:4].astype("float32")
    expected = keras.ops.convert_to_numpy(theirs(x))
    assert expected.dtype == mine(x).numpy().dtype == np.float64
    np.testing.assert_allclose(mine(x).numpy(), expected, rtol=1e-11, atol=1e-12)


def test_float64_batch_normalization_updates_its_statistics_as_keras_does():
    theirs, mine, x = _pair("BatchNormalization")
    theirs(x, training=True)
    mine(x, training=True)
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("given", ["float32", "float64", None, np.float64, np.dtype("float32"),
                                   "policy", "dict"], ids=str)
def test_dtype_attributes_equal_keras_for_each_form_of_the_argument(given):
    def form(lib):
        if given == "policy":
            return lib.dtype_policies.DTypePolicy("float64")
        if given == "dict":
            return {"module": "keras", "class_name": "DTypePolicy",
                    "config": {"name": "float64"}, "registered_name": None}
        return given

    import profond

    theirs = keras.layers.Dense(2, dtype=form(keras))
    mine = layers.Dense(2, dtype=form(profond))
    for attribute in ("dtype", "compute_dtype", "variable_dtype"):
        assert getattr(mine, attribute) == getattr(theirs, attribute)
    assert mine.dtype_policy.name == theirs.dtype_policy.name
    assert repr(mine.dtype_policy) == repr(theirs.dtype_policy)


@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16", "float16", "bfloat16"])
def test_policies_keras_runs_in_another_precision_are_refused(name):
    assert keras.layers.Dense(2, dtype=name).compute_dtype in ("float16", "bfloat16")
    with pytest.raises(ValueError, match="The 'dtype' parameter of Dense must be"):
        layers.Dense(2, dtype=name)


@pytest.mark.parametrize("name", ["Dense", "LSTM", "BatchNormalization", "Embedding"])
def test_each_library_reads_the_dtype_the_other_writes(name):
    theirs, mine, _ = _pair(name)
    written_by_keras = theirs.get_config()["dtype"]
    assert written_by_keras == mine.get_config()["dtype"]
    # the dtype each writes, in a config of the other's (the rest of a Keras config is the
    # subject of profond's .keras reading)
    assert getattr(layers, name).from_config({**mine.get_config(),
                                              "dtype": written_by_keras}).dtype == "float64"
    config = mine.get_config()
    assert getattr(keras.layers, name).from_config({**theirs.get_config(),
                                                    "dtype": config["dtype"]}).dtype == "float64"
    assert keras.dtype_policies.get(config["dtype"]).name == "float64"
    assert dtype_policies.get(written_by_keras).name == "float64"


def test_a_float64_model_predicts_and_takes_an_sgd_step_as_keras_does():
    import profond

    def build(lib):
        return lib.Sequential([lib.Input((4,)),
                               lib.layers.Dense(3, activation="tanh", dtype="float64"),
                               lib.layers.Dense(1, dtype="float64")])

    theirs, mine = build(keras), build(profond)
    mine.set_weights(theirs.get_weights())
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 1))
    got = mine.predict(x, verbose=0)
    assert got.dtype == np.float64
    # both cast float64 data to the default float dtype first (Keras's data adapter and
    # Sequential, profond's batching), then compute in float64
    np.testing.assert_allclose(got, theirs.predict(x, verbose=0), rtol=1e-11, atol=1e-12)
    # Keras keeps its learning rate in a float32 variable (0.125 is exact in float32) and
    # computes a loss in its own dtype, float32 unless given (profond: in the predictions')
    for model, lib, loss in ((theirs, keras, keras.losses.MeanSquaredError(dtype="float64")),
                             (mine, profond, "mse")):
        model.compile(optimizer=lib.optimizers.SGD(0.125), loss=loss)
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)
