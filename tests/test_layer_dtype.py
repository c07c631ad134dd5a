"""A layer's ``dtype`` (Keras 3's dtype policy): weights created in it, floating inputs cast to
it, computation and outputs in it, for every built-in layer class, in a model that trains, and
through a saved file.

The gradient checks run with the default float dtype left at float32, so any float32 buffer or
constant left on a float64 path shows: central differences in float64 agree with the backward to
about 1e-9, while one float32 rounding inside puts them 1e-2 apart.
"""

import copy

import numpy as np
import pytest
from test_saving import LAYER_ARGS

import profond
from profond import backend, config, dtype_policies, layers, losses, saving

KERAS_DICT_64 = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float64"},
                 "registered_name": None}

# The containers are checked in the model tests below.
_CONTAINERS = {"Functional", "Model", "Sequential", "InputLayer"}
# Outside the generic float checks (their configs are checked below), each for a reason:
_NOT_CALLED_ALONE = {
    # ids, lookups and vocabularies: integer ids or counts, no float computation to check
    "CategoryEncoding", "Discretization", "IntegerLookup", "StringLookup", "TextVectorization",
    "Hashing",
    # cells take (inputs, states): checked inside RNN
    "SimpleRNNCell", "GRUCell", "LSTMCell", "StackedRNNCells", "ConvLSTMCell",
    # takes (query, value): checked by its own test below
    "MultiHeadAttention",
    # an abstract base class
    "Wrapper",
}
ALL_NAMES = sorted(set(saving.builtin_objects("keras.layers")) - _CONTAINERS)
NAMES = sorted(set(ALL_NAMES) - _NOT_CALLED_ALONE)


def _layer(name, dtype):
    """A fresh ``name`` layer in ``dtype`` (a wrapper's inner layer too: Keras's wrappers do not
    hand their dtype down) and the data to call it on (float32, as fit's batches are)."""
    args, shape = copy.deepcopy(LAYER_ARGS[name])
    rng = np.random.default_rng(0)
    if name == "Bidirectional":
        args = (layers.LSTM(2, dtype=dtype),)
    elif name in ("TimeDistributed", "SpectralNormalization"):
        args = (layers.Dense(2, dtype=dtype),)
    elif name == "RNN":
        args = (layers.LSTMCell(2, dtype=dtype),)
    layer = saving.builtin_objects("keras.layers")[name](*args, dtype=dtype)
    if name == "Normalization":
        layer.adapt(rng.normal(size=(20, 3)))
        shape = (None, 3)
    if isinstance(shape, list):
        x = [rng.normal(size=(2,) + s[1:]).astype("float32") for s in shape]
    elif name == "Embedding":
        x = rng.integers(0, 10, size=(2,) + shape[1:])
    else:
        x = rng.normal(size=(2,) + shape[1:]).astype("float32")
    return layer, x


def _float_leaves(x):
    return [a for a in (x if isinstance(x, list) else [x]) if a.dtype.kind == "f"]


@pytest.mark.parametrize("name", NAMES)
def test_float64_layer_has_float64_weights_and_outputs(name):
    assert backend.floatx() == "float32"
    layer, x = _layer(name, "float64")
    out = layer(x, training=True)
    assert out.dtype == np.float64
    floats = [w for w in layer.weights if w.dtype.kind == "f"]
    assert all(w.dtype == np.float64 for w in floats), [(w.path, w.dtype) for w in floats]
    assert (layer.dtype, layer.compute_dtype, layer.variable_dtype) == ("float64",) * 3
    assert layer.dtype_policy == dtype_policies.DTypePolicy("float64")
    assert out.dtype == np.float64  # after training=True updates (BatchNormalization's stats)
    assert all(w.dtype == np.float64 for w in layer.weights if w.dtype.kind == "f")


def _fd_check(layer, x, rtol=1e-6, atol=1e-8, inputs=True):
    """The float64 backward through ``layer`` against central differences, for its floating
    inputs (unless ``inputs`` is False) and trainable weights, with the default float dtype at
    float32."""
    xs = x if isinstance(x, list) else [x]
    tensors = [profond.tensor(a, dtype="float64", requires_grad=True) if a.dtype.kind == "f"
               else profond.tensor(a) for a in xs]
    given = tensors if isinstance(x, list) else tensors[0]
    out = layer(given, training=False)
    seed = profond.tensor(np.random.default_rng(1).standard_normal(out.shape), dtype="float64")
    (out * seed).sum().backward()
    targets = [(t, t.grad) for t in tensors if t.requires_grad and inputs]
    targets += [(w, w.grad) for w in layer.trainable_weights]
    assert targets
    for target, analytic in targets:
        assert target.data.dtype == np.float64 and analytic.dtype == np.float64
        flat, numeric = target.data.reshape(-1), np.zeros(target.size)
        for i in range(flat.size):
            values = []
            for step in (1e-6, -1e-6):
                keep = flat[i]
                flat[i] = keep + step
                with profond.no_grad():
                    values.append(float((layer(given, training=False).numpy()
                                         * seed.numpy()).sum()))
                flat[i] = keep
            numeric[i] = (values[0] - values[1]) / 2e-6
        np.testing.assert_allclose(analytic.reshape(-1), numeric, rtol=rtol, atol=atol,
                                   err_msg=getattr(target, "path", "input"))


@pytest.mark.parametrize("name", NAMES)
def test_float64_layer_gradients_match_float64_finite_differences(name):
    layer, x = _layer(name, "float64")
    layer(x)  # built (and, for Normalization, adapted) before its weights are perturbed
    _fd_check(layer, x)


@pytest.mark.parametrize("name", NAMES)
def test_float32_and_float64_layers_agree_to_float32_rounding(name):
    wide, x = _layer(name, "float64")
    narrow, _ = _layer(name, "float32")
    expected = wide(x, training=False).numpy()
    narrow(x, training=False)
    narrow.set_weights(wide.get_weights())
    got = narrow(x, training=False).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell", ["SimpleRNN", "GRU", "LSTM"])
@pytest.mark.parametrize("options", [{"return_sequences": True}, {"go_backwards": True}])
def test_float64_recurrent_kernels_stay_float64_with_masks_and_options(cell, options):
    layer = getattr(layers, cell)(3, dtype="float64", **options)
    x = np.random.default_rng(3).normal(size=(2, 5, 2)).astype("float32")
    x[1, 3:] = 0.0
    masked = profond.Sequential([layers.Masking(dtype="float64"), layer])
    masked(x)
    _fd_check(masked, x, inputs=False)  # a step moved off the mask value would be unmasked


# --- the argument -------------------------------------------------------------------------------
@pytest.mark.parametrize("given", ["float64", np.float64, np.dtype("float64"),
                                   dtype_policies.DTypePolicy("float64"), KERAS_DICT_64,
                                   {**KERAS_DICT_64, "class_name": "FloatDTypePolicy"}])
def test_every_form_of_the_dtype_argument_is_accepted(given):
    dense = layers.Dense(2, dtype=given)
    assert dense.dtype_policy.name == "float64"
    assert dense(np.ones((1, 3), "float32")).dtype == np.float64


@pytest.mark.parametrize("bad", ["mixed_float16", "mixed_bfloat16", "float16", "bfloat16",
                                 "int32", "complex64", "floatx", 3, True,
                                 {**KERAS_DICT_64, "config": {"name": "mixed_float16"}},
                                 {"class_name": "Policy", "config": {"name": "float64"}}])
def test_unsupported_policies_are_refused_naming_the_layer_and_argument(bad):
    with pytest.raises(ValueError, match=r"^The 'dtype' parameter of LSTM must be 'float32', "
                                         r"'float64'.*mixed precision.*Got .* instead\.$"):
        layers.LSTM(2, dtype=bad)
    with pytest.raises(ValueError, match="'name' parameter of DTypePolicy"):
        dtype_policies.DTypePolicy("mixed_float16" if not isinstance(bad, str) else bad)


def test_no_dtype_follows_the_default_float_dtype():
    assert config.floatx() == "float32" and layers.Dense(2).dtype == "float32"
    assert "dtype" not in layers.Dense(2).get_config()
    with backend.floatx_scope("float64"):
        dense = layers.Dense(2)
        dense(np.ones((1, 3)))
        assert dense.dtype_policy.name == "float64"
    assert dense.kernel.dtype == np.float64
    config.set_floatx("float64")
    try:
        assert layers.Dense(2)(np.ones((1, 3))).dtype == np.float64
    finally:
        config.set_floatx("float32")
    with pytest.raises(ValueError, match="'dtype' parameter of set_floatx"):
        config.set_floatx("float16")


def test_dtype_policy_can_be_set_and_an_integer_input_stays_an_index():
    dense = layers.Dense(2)
    dense.dtype_policy = "float64"
    assert dense(np.ones((1, 3), "float32")).dtype == np.float64
    embedding = layers.Embedding(10, 2, dtype="float64")
    out = embedding(profond.tensor(np.array([[1, 2]])))
    assert out.dtype == np.float64 and embedding.embeddings.dtype == np.float64


def test_a_float64_layer_takes_float64_data_unrounded():
    dense = layers.Dense(1, use_bias=False, kernel_initializer="ones", dtype="float64")
    x = np.array([[1.0 + 1e-12]])
    assert dense(x).numpy()[0, 0] == 1.0 + 1e-12


# --- configs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_config_writes_keras_policy_dict_and_round_trips(name):
    layer, x = _layer(name, "float64")
    layer(x)
    config = layer.get_config()
    assert config["dtype"] == KERAS_DICT_64
    clone = type(layer).from_config(copy.deepcopy(config))
    assert clone.dtype == "float64" and clone.get_config()["dtype"] == KERAS_DICT_64
    assert clone(x).dtype == np.float64


# (Hashing's default int mode takes an integer dtype: tests/test_hashing.py checks it)
@pytest.mark.parametrize("name", sorted(_NOT_CALLED_ALONE - {"Hashing"}))
def test_layers_not_called_alone_keep_their_dtype_through_their_config(name):
    args = copy.deepcopy(LAYER_ARGS[name][0])
    layer = saving.builtin_objects("keras.layers")[name](*args, dtype="float64")
    config = layer.get_config()
    assert config["dtype"] == KERAS_DICT_64
    clone = type(layer).from_config(copy.deepcopy(config))
    assert clone.dtype == "float64" and clone.get_config()["dtype"] == KERAS_DICT_64


def test_float64_multi_head_attention_and_cells():
    mha = layers.MultiHeadAttention(2, 3, dtype="float64")
    rng = np.random.default_rng(0)
    q, v = rng.normal(size=(2, 4, 5)), rng.normal(size=(2, 3, 5))
    out = mha(q.astype("float32"), v.astype("float32"))
    assert out.dtype == np.float64 and all(w.dtype == np.float64 for w in mha.weights)
    query = profond.tensor(q, dtype="float64", requires_grad=True)
    (mha(query, profond.tensor(v, dtype="float64")) ** 2).sum().backward()
    assert query.grad.dtype == np.float64
    for cell in (layers.GRUCell(3, dtype="float64"), layers.LSTMCell(3, dtype="float64")):
        out = layers.RNN(cell, dtype="float64")(rng.normal(size=(2, 4, 5)).astype("float32"))
        assert out.dtype == np.float64 and all(w.dtype == np.float64 for w in cell.weights)
    stacked = layers.RNN([layers.SimpleRNNCell(2, dtype="float64")], dtype="float64")
    assert stacked(rng.normal(size=(2, 4, 5))).dtype == np.float64
    conv = layers.ConvLSTM2D(2, 3, dtype="float64")
    assert conv(rng.normal(size=(1, 2, 4, 4, 1)).astype("float32")).dtype == np.float64
    assert all(w.dtype == np.float64 for w in conv.weights)
    counts = layers.CategoryEncoding(3, output_mode="count", dtype="float64")(np.array([[0, 2]]))
    assert counts.dtype == np.float64


def test_an_earlier_config_with_a_dtype_string_still_loads():
    dense = layers.Dense.from_config({"name": "d", "trainable": True, "dtype": "float64",
                                      "units": 2})
    assert dense.dtype_policy == dtype_policies.DTypePolicy("float64")


# --- models ---------------------------------------------------------------------------------------
def _float64_model():
    return profond.Sequential([
        layers.Input((6, 3)),
        layers.Conv1D(4, 3, activation="tanh", dtype="float64"),
        layers.BatchNormalization(dtype="float64"),
        layers.Bidirectional(layers.GRU(3, return_sequences=True, dtype="float64"),
                             dtype="float64"),
        layers.LSTM(3, dtype="float64"),
        layers.Dropout(0.2, dtype="float64"),
        layers.Dense(1, dtype="float64"),
    ])


def test_a_float64_model_gradient_through_its_loss_matches_finite_differences():
    model = _float64_model()
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(4, 6, 3)), rng.normal(size=(4, 1))
    loss = losses.MeanSquaredError()
    model(x)

    def value():
        with profond.no_grad():
            return float(loss(y, model(x, training=False)).numpy())

    out = loss(y, model(x, training=False))
    assert out.dtype == np.float64
    out.backward()
    for w in model.trainable_weights:
        flat = w.data.reshape(-1)
        for i in range(0, flat.size, max(1, flat.size // 6)):  # a few entries of each weight
            keep = flat[i]
            flat[i] = keep + 1e-6
            plus = value()
            flat[i] = keep - 1e-6
            minus = value()
            flat[i] = keep
            np.testing.assert_allclose(w.grad.reshape(-1)[i], (plus - minus) / 2e-6,
                                       rtol=1e-6, atol=1e-9, err_msg=w.path)


def test_a_float64_model_trains_saves_and_loads_in_float64(tmp_path):
    model = _float64_model()
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(16, 6, 3)), rng.normal(size=(16, 1))
    before = model.get_weights()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    slots = model.optimizer.get_state()["slots"]
    assert slots and all(v.dtype == np.float64 for s in slots for v in s.values())
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    assert [w.dtype for w in loaded.weights] == [w.dtype for w in model.weights]
    assert all(layer.dtype == "float64" for layer in loaded.layers)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.predict(x, verbose=0).dtype == np.float64
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(w.dtype == np.float64 for w in loaded.get_weights())


def test_an_sgd_step_of_a_float64_model_is_exact_in_float64():
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2, activation="tanh",
                                                                 dtype="float64"),
                                layers.Dense(1, dtype="float64")])
    model.compile(optimizer=profond.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    weights = [w.copy() for w in (model(x), model.get_weights())[1]]
    # fit casts its batches to float32 (as Keras's adapters do): the step is exact on them
    x32, y32 = (a.astype(np.float32).astype(np.float64) for a in (x, y))
    losses.MeanSquaredError()(y32, model(x32)).backward()
    expected = [w - 0.1 * v.grad for w, v in zip(weights, model.trainable_weights)]
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_a_functional_model_with_mixed_dtypes_casts_at_each_layer():
    inputs = layers.Input((3,))
    wide = layers.Dense(4, activation="tanh", dtype="float64")(inputs)
    narrow = layers.Dense(2, dtype="float32")(wide)
    both = layers.Concatenate(dtype="float64")([wide, narrow])
    model = profond.Model(inputs, [narrow, both])
    assert (wide.dtype, narrow.dtype, both.dtype) == ("float64", "float32", "float64")
    out_narrow, out_both = model(np.ones((2, 3), "float32"))
    assert (out_narrow.dtype, out_both.dtype) == (np.float32, np.float64)
    # each layer's gradient comes back through the casts at its inputs in its own dtype
    (profond.ops.cast(out_narrow.sum(), "float64") + out_both.sum()).backward()
    assert all(w.grad is not None and w.grad.dtype == w.dtype for w in model.trainable_weights)


def test_the_registry_names_keras_policy_dicts():
    policy = saving.deserialize_keras_object(KERAS_DICT_64)
    assert policy == dtype_policies.DTypePolicy("float64")
    assert dtype_policies.serialize(policy) == KERAS_DICT_64
    assert dtype_policies.deserialize(KERAS_DICT_64) == policy
