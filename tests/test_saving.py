"""profond.saving: one registry and Keras 3's serialization dicts for every named kind.

A custom metric, schedule, layer, loss and activation registered once save with a model and
load back; unregistered ones are refused before a byte is written; ``custom_object_scope``
makes an unregistered object loadable; the dicts have Keras 3's shapes; every built-in layer's
config round-trips; older profond files still load."""

import json
import os

import numpy as np
import pytest

import profond
from profond import (activations, constraints, initializers, layers, losses, metrics, ops,
                     optimizers, regularizers, saving, schedules)
from profond.io.model_file import ModelFileError


def _np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


# --- custom objects, each registered once -------------------------------------------------------
@saving.register_keras_serializable(package="SavingTest")
class ScaleShift(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.shift = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="shift")

    def call(self, inputs):
        return inputs * self.factor + self.shift

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@saving.register_keras_serializable(package="SavingTest")
def wiggle(x):
    return ops.tanh(x) * 1.5


@saving.register_keras_serializable(package="SavingTest")
def tripled_mse(y_true, y_pred):
    return ops.mean((y_pred - profond.tensor(y_true)) ** 2 * 3.0, axis=-1)


@saving.register_keras_serializable(package="SavingTest")
class MeanCubedError(metrics.Metric):
    def __init__(self, name="mean_cubed_error", power=3):
        self.power = power
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        error = np.abs(_np(y_pred) - _np(y_true).reshape(_np(y_pred).shape)) ** self.power
        self.total += float(error.sum())
        self.count += error.size

    def get_config(self):
        return {**super().get_config(), "power": self.power}


@saving.register_keras_serializable(package="SavingTest")
class Halving(schedules.LearningRateSchedule):
    def __init__(self, initial=0.05, every=3, unit="step", name="Halving"):
        super().__init__(unit, name)
        self.initial, self.every = initial, every

    def __call__(self, t):
        return float(self.initial * 0.5 ** (int(t) // self.every))

    def get_config(self):
        return {"initial": self.initial, "every": self.every, **super().get_config()}


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    return x, (x[:, :1] - x[:, 1:2]).astype("float32")


def _custom_model(layer=None, activation=wiggle, loss=tripled_mse, metric=None, schedule=None):
    model = profond.Sequential([layers.Input((4,)), layer or ScaleShift(0.5, name="scale"),
                                layers.Dense(3, activation=activation, name="hidden"),
                                layers.Dense(1, name="out")])
    model.compile(optimizer=optimizers.Adam(schedule or Halving(0.05, 3)), loss=loss,
                  metrics=[metric or MeanCubedError(power=3), "mae"])
    return model


def test_custom_objects_registered_once_save_load_and_train_on(tmp_path):
    x, y = _data()
    model = _custom_model()
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    assert isinstance(loaded.layers[0], ScaleShift) and loaded.layers[0].factor == 0.5
    assert loaded.layers[1].activation is wiggle
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # Compile settings: the loss, the custom metric (with its argument), the schedule.
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == \
        model.evaluate(x, y, verbose=0, return_dict=True)
    assert "mean_cubed_error" in loaded.evaluate(x, y, verbose=0, return_dict=True)
    schedule = loaded.optimizer._learning_rate
    assert type(schedule) is Halving and schedule.get_config() == Halving(0.05, 3).get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 4
    # Training continues exactly where it stopped (same optimizer moments, same step count).
    for m in (model, loaded):
        m.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # The file holds Keras's dicts, custom objects under their registered names.
    meta = profond.io.model_file.read_metadata(path)
    assert meta["model"]["module"] == "keras" and meta["model"]["class_name"] == "Sequential"
    scale = meta["model"]["config"]["layers"][1]
    assert scale["registered_name"] == "SavingTest>ScaleShift"
    assert scale["build_config"] == {"input_shape": [None, 4]}
    assert meta["model"]["config"]["layers"][2]["config"]["activation"] == {
        "module": __name__, "class_name": "function", "config": "SavingTest>wiggle",
        "registered_name": "SavingTest>wiggle"}
    assert meta["compile"]["loss"]["registered_name"] == "SavingTest>tripled_mse"
    assert meta["compile"]["metrics"][0]["registered_name"] == "SavingTest>MeanCubedError"
    assert meta["optimizer"]["config"]["learning_rate"]["registered_name"] == \
        "SavingTest>Halving"


class _Unregistered(layers.Layer):
    def call(self, inputs):
        return inputs


def _plain_activation(x):
    return x * 1.0


def _plain_loss(y_true, y_pred):
    return ops.mean((y_pred - profond.tensor(y_true)) ** 2, axis=-1)


class _PlainMetric(metrics.Metric):
    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count += 1


class _PlainSchedule(schedules.LearningRateSchedule):
    def __call__(self, t):
        return 0.01


@pytest.mark.parametrize("kwargs, message", [
    ({"layer": _Unregistered(name="free")},
     r"Cannot save layer 'free': its class is _Unregistered \(module"),
    ({"activation": _plain_activation},
     "Cannot save layer 'hidden': its 'activation' is <function _plain_activation"),
    ({"loss": _plain_loss}, "Cannot save the compile settings: its 'loss' is <function _plain"),
    ({"metric": _PlainMetric()},
     r"Cannot save the compile settings: its 'metrics' is _PlainMetric \(module"),
    ({"schedule": _PlainSchedule()},
     r"Cannot save the optimizer: its 'learning_rate' is _PlainSchedule \(module"),
], ids=["layer", "activation", "loss", "metric", "schedule"])
def test_an_unregistered_object_is_refused_before_anything_is_written(tmp_path, kwargs,
                                                                       message):
    model = _custom_model(**kwargs)
    model.fit(*_data(), epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match=message + ".*which a model file cannot name. "
                                       r"Register it with @profond.saving."
                                       r"register_keras_serializable\(\)"):
        model.save(path)
    assert not os.path.exists(path)
    assert os.listdir(tmp_path) == []


def _triple(x):
    return x * 3.0


def test_custom_object_scope_makes_an_unregistered_object_loadable(tmp_path):
    model = profond.Sequential([layers.Input((2,)), layers.Dense(2, activation=_triple)])
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="'activation' is <function _triple"):
        model.save(path)
    with saving.custom_object_scope({"triple": _triple}):
        assert activations.serialize(_triple)["registered_name"] == "triple"
        model.save(path)
    with pytest.raises(ModelFileError, match="Unknown function 'triple'"):
        profond.load_model(path)
    with saving.custom_object_scope({"triple": _triple}):
        loaded = profond.load_model(path)
    assert loaded.layers[-1].activation is _triple
    x = np.ones((3, 2), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@saving.register_keras_serializable(package="SavingTest")
class Offsets(layers.Layer):
    """A layer whose config holds an array."""

    def __init__(self, offsets=(0.0, 0.0), **kwargs):
        super().__init__(**kwargs)
        self.offsets = np.asarray(offsets, dtype="float32")

    def call(self, inputs):
        return inputs + profond.tensor(self.offsets)

    def get_config(self):
        return {**super().get_config(), "offsets": self.offsets}


def test_an_array_in_a_config_is_saved_by_value(tmp_path):
    model = profond.Sequential([layers.Input((2,)), Offsets(np.array([1.0, -2.0]))])
    model.save(tmp_path / "m.safetensors")
    spec = profond.io.model_file.read_metadata(tmp_path / "m.safetensors")["model"]
    assert spec["config"]["layers"][1]["config"]["offsets"] == {
        "class_name": "__numpy__", "config": {"value": [1.0, -2.0], "dtype": "float32"}}
    loaded = profond.load_model(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.layers[-1].offsets, [1.0, -2.0])
    np.testing.assert_array_equal(loaded.predict(np.zeros((1, 2), "float32"), verbose=0),
                                  [[1.0, -2.0]])


# --- Keras 3's dicts -----------------------------------------------------------------------------
def test_dense_serializes_as_in_a_keras_file():
    dense = layers.Dense(2, activation="relu", name="d")
    dense(np.zeros((5, 3), "float32"))  # built for samples of 3 features, any batch size
    config = saving.serialize_keras_object(dense)
    assert config == {
        "module": "keras.layers", "class_name": "Dense",
        "config": {"name": "d", "trainable": True, "units": 2, "activation": "relu",
                   "use_bias": True,
                   "kernel_initializer": {"module": "keras.initializers",
                                          "class_name": "GlorotUniform",
                                          "config": {"seed": None, "input_axes": None,
                                                     "output_axes": None},
                                          "registered_name": None},
                   "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                                        "config": {}, "registered_name": None},
                   "kernel_regularizer": None, "bias_regularizer": None,
                   "activity_regularizer": None, "kernel_constraint": None,
                   "bias_constraint": None},
        "registered_name": None, "build_config": {"input_shape": [None, 3]}}
    clone = saving.deserialize_keras_object(json.loads(json.dumps(config)))
    assert type(clone) is layers.Dense and clone.built
    assert [w.shape for w in clone.get_weights()] == [(3, 2), (2,)]
    assert saving.serialize_keras_object(clone) == config


def test_adam_with_a_schedule_serializes_as_in_a_keras_file():
    opt = optimizers.Adam(schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5))
    config = saving.serialize_keras_object(opt)
    assert (config["module"], config["class_name"], config["registered_name"]) == \
        ("keras.optimizers", "Adam", None)
    assert config["config"]["learning_rate"] == {
        "module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
        "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                   "staircase": False, "unit": "step", "name": "ExponentialDecay"},
        "registered_name": None}
    assert {k: config["config"][k] for k in ("beta_1", "beta_2", "epsilon", "amsgrad")} == \
        {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}
    clone = saving.deserialize_keras_object(config)
    assert type(clone) is optimizers.Adam
    assert type(clone._learning_rate) is schedules.ExponentialDecay
    assert saving.serialize_keras_object(clone) == config


def test_built_in_activation_loss_and_initializer_dicts():
    assert saving.serialize_keras_object(activations.relu) == {
        "module": "keras.activations", "class_name": "function", "config": "relu",
        "registered_name": "relu"}
    assert activations.serialize(activations.relu) == "relu"  # as Keras's get_config writes it
    assert saving.serialize_keras_object(losses.MeanSquaredError()) == {
        "module": "keras.losses", "class_name": "MeanSquaredError",
        "config": {"name": "mean_squared_error", "reduction": "sum_over_batch_size"},
        "registered_name": None}
    assert saving.serialize_keras_object(initializers.HeNormal(seed=3)) == {
        "module": "keras.initializers", "class_name": "HeNormal",
        "config": {"seed": 3, "input_axes": None, "output_axes": None}, "registered_name": None}
    for module in (regularizers, constraints):
        name = {regularizers: "L2", constraints: "MaxNorm"}[module]
        config = module.serialize(module.get(name))
        assert config["module"] == f"keras.{module.__name__.split('.')[-1]}"
        assert type(module.get(config)) is type(module.get(name))


def test_reading_accepts_keras_and_profond_modules_and_earlier_dicts():
    for config in ({"module": "keras.layers", "class_name": "Dense", "config": {"units": 2},
                    "registered_name": None},
                   {"module": "profond.layers", "class_name": "Dense", "config": {"units": 2}},
                   {"class_name": "Dense", "config": {"units": 2}}):
        assert type(saving.deserialize_keras_object(config)) is layers.Dense
    assert saving.deserialize_keras_object(
        {"module": "profond.activations", "class_name": "function", "config": "tanh",
         "registered_name": "tanh"}) is activations.tanh
    with pytest.raises(ValueError, match="never loads code"):
        saving.deserialize_keras_object({"class_name": "__lambda__", "config": {"value": ""}})


def test_a_file_of_format_version_1_still_loads(tmp_path):
    import safetensors.numpy as st

    model = profond.Sequential([layers.Input((3,)), layers.Dense(2, activation="relu"),
                                layers.Dense(1)])
    model.compile(optimizer=optimizers.Adam(schedules.StepDecay(0.1, every=2)), loss="mse",
                  metrics=[metrics.MeanSquaredError()])
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    tensors = st.load_file(path)
    meta = profond.io.model_file._read_header(path)[0]

    def legacy(config):  # profond 1's dicts: no module, no registered name, no build config
        if isinstance(config, list):
            return [legacy(c) for c in config]
        if not isinstance(config, dict):
            return config
        if "class_name" in config and "config" in config:
            return {"class_name": config["class_name"], "config": legacy(config["config"])}
        return {k: legacy(v) for k, v in config.items()}

    for key in ("model", "compile", "optimizer"):
        meta[key] = json.dumps(legacy(json.loads(meta[key])))
    # profond 1 wrote the loss with the class name MeanSquaredError, which metrics also have.
    meta["compile"] = json.dumps({"loss": {"class_name": "MeanSquaredError", "config": {
        "name": "mean_squared_error", "reduction": "sum_over_batch_size"}},
        "loss_weights": None, "metrics": json.loads(meta["compile"])["metrics"]})
    meta["format_version"] = "1"
    del meta["sha256"]  # profond 1 wrote no checksum
    old = tmp_path / "old.safetensors"
    st.save_file(tensors, old, metadata=meta)
    with pytest.warns(UserWarning, match="no checksum"):
        loaded = profond.load_model(old)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.optimizer._learning_rate) is schedules.StepDecay
    assert loaded.evaluate(x, x[:, :1], verbose=0) == model.evaluate(x, x[:, :1], verbose=0)
    assert type(loaded.compiled_loss.losses[None]) is losses.MeanSquaredError


# --- every built-in layer ------------------------------------------------------------------------
# Arguments and an input shape for each built-in layer class; a new class must be added here.
# A merge layer takes a list of shapes; a functional model its inputs and outputs.
_MERGE = ((), [(None, 3), (None, 3)])
_FUNCTIONAL_IN = layers.Input((3,))
LAYER_ARGS = {
    "Add": _MERGE, "Subtract": _MERGE, "Multiply": _MERGE, "Average": _MERGE,
    "Maximum": _MERGE, "Minimum": _MERGE, "Concatenate": _MERGE, "Dot": ((1,), _MERGE[1]),
    "Functional": ((_FUNCTIONAL_IN, layers.Dense(2)(_FUNCTIONAL_IN)), None),
    "Activation": (("tanh",), (None, 3)), "AveragePooling1D": ((), (None, 4, 2)),
    "AveragePooling2D": ((), (None, 4, 4, 2)), "BatchNormalization": ((), (None, 3)),
    "Bidirectional": ((layers.GRU(2),), (None, 4, 3)), "Conv1D": ((2, 3), (None, 5, 2)),
    "Conv2D": ((2, 3), (None, 5, 5, 2)), "Dense": ((2,), (None, 3)),
    "Dropout": ((0.5,), (None, 3)), "Embedding": ((10, 3), (None, 4)),
    "Flatten": ((), (None, 2, 3)), "GRU": ((2,), (None, 4, 3)),
    "GlobalAveragePooling1D": ((), (None, 4, 2)), "GlobalAveragePooling2D": ((), (None, 4, 4, 2)),
    "GlobalMaxPooling1D": ((), (None, 4, 2)), "GlobalMaxPooling2D": ((), (None, 4, 4, 2)),
    "InputLayer": (((3,),), None), "LSTM": ((2,), (None, 4, 3)), "Masking": ((), (None, 4, 3)),
    "MaxPooling1D": ((), (None, 4, 2)), "MaxPooling2D": ((), (None, 4, 4, 2)),
    "Model": ((), None), "Normalization": ((), None), "Reshape": (((3, 2),), (None, 6)),
    "Sequential": (([layers.Dense(2)],), (None, 3)), "SimpleRNN": ((2,), (None, 4, 3)),
    "SpatialDropout1D": ((0.5,), (None, 4, 3)), "SpatialDropout2D": ((0.5,), (None, 4, 4, 3)),
    "TimeDistributed": ((layers.Dense(2),), (None, 4, 3)), "UpSampling2D": ((), (None, 2, 2, 3)),
    "ZeroPadding2D": ((), (None, 2, 2, 3)), "ReLU": ((6.0,), (None, 3)),
    "LeakyReLU": ((), (None, 3)), "PReLU": ((), (None, 4, 3)), "ELU": ((0.5,), (None, 3)),
    "Softmax": ((), (None, 3)),
    "LayerNormalization": ((), (None, 4, 3)), "RMSNormalization": ((), (None, 4, 3)),
    "UnitNormalization": ((), (None, 3)), "GroupNormalization": ((2,), (None, 4, 6)),
    "Attention": ((True, "concat"), [(None, 4, 3), (None, 5, 3)]),
    "AdditiveAttention": ((), [(None, 4, 3), (None, 5, 3)]),
    "MultiHeadAttention": ((2, 3), None),  # called on (query, value), not on one input
    "Conv3D": ((2, 2), (None, 3, 3, 3, 2)), "Conv1DTranspose": ((2, 3), (None, 4, 2)),
    "Conv2DTranspose": ((2, 3), (None, 4, 4, 2)),
    "Conv3DTranspose": ((2, 2), (None, 2, 2, 2, 2)), "DepthwiseConv1D": ((2,), (None, 4, 2)),
    "DepthwiseConv2D": ((2,), (None, 4, 4, 2)), "SeparableConv1D": ((3, 2), (None, 4, 2)),
    "SeparableConv2D": ((3, 2), (None, 4, 4, 2)), "MaxPooling3D": ((), (None, 4, 4, 4, 2)),
    "AveragePooling3D": ((), (None, 4, 4, 4, 2)),
    "GlobalMaxPooling3D": ((), (None, 2, 2, 2, 3)),
    "GlobalAveragePooling3D": ((), (None, 2, 2, 2, 3)),
    "AdaptiveAveragePooling1D": ((2,), (None, 5, 2)),
    "AdaptiveAveragePooling2D": ((2,), (None, 5, 5, 2)),
    "AdaptiveAveragePooling3D": ((2,), (None, 3, 3, 3, 2)),
    "AdaptiveMaxPooling1D": ((2,), (None, 5, 2)), "AdaptiveMaxPooling2D": ((2,), (None, 5, 5, 2)),
    "AdaptiveMaxPooling3D": ((2,), (None, 3, 3, 3, 2)),
    "Hashing": ((3,), None),
}

LAYER_ARGS.update({  # the layer catalogue of issue 15
    "ZeroPadding1D": ((), (None, 4, 3)), "ZeroPadding3D": ((), (None, 2, 2, 2, 3)),
    "Cropping1D": ((), (None, 4, 3)), "Cropping2D": ((1,), (None, 4, 4, 3)),
    "Cropping3D": ((), (None, 4, 4, 4, 3)), "UpSampling1D": ((), (None, 4, 3)),
    "UpSampling3D": ((), (None, 2, 2, 2, 3)), "Permute": (((2, 1),), (None, 4, 3)),
    "RepeatVector": ((2,), (None, 3)), "GaussianNoise": ((0.1,), (None, 3)),
    "GaussianDropout": ((0.1,), (None, 3)), "AlphaDropout": ((0.1,), (None, 3)),
    "SpatialDropout3D": ((0.5,), (None, 2, 2, 2, 3)),
    "ActivityRegularization": ((0.1, 0.2), (None, 3)), "Identity": ((), (None, 3)),
    "Lambda": ((profond.activations.relu,), (None, 3)), "Wrapper": ((layers.Dense(2),), None),
    "EinsumDense": (("abc,cd->abd", (None, 2), None, "d"), (None, 4, 3)),
    "SpectralNormalization": ((layers.Dense(2),), (None, 3)),
    "RNN": ((layers.LSTMCell(2),), (None, 4, 3)), "SimpleRNNCell": ((2,), None),
    "GRUCell": ((2,), None), "LSTMCell": ((2,), None),
    "StackedRNNCells": (([layers.GRUCell(2), layers.LSTMCell(3)],), None),
    "Rescaling": ((0.5, 1.0), (None, 3)), "Resizing": ((2, 3), (None, 4, 4, 3)),
    "CenterCrop": ((2, 2), (None, 4, 4, 3)), "CategoryEncoding": ((4,), None),
    "Discretization": (([0.0, 1.0],), None), "StringLookup": ((None, 1, None, "[UNK]", ["a"]), None),
    "IntegerLookup": ((None, 1, None, -1, [3, 5]), None),
    "RandomFlip": ((), (None, 4, 4, 3)), "RandomCrop": ((2, 2), (None, 4, 4, 3)),
    "RandomContrast": ((0.2,), (None, 4, 4, 3)),
    "RandomTranslation": ((0.1, 0.1), (None, 4, 4, 3)), "RandomRotation": ((0.1,), (None, 4, 4, 3)),
    "RandomZoom": ((0.1,), (None, 4, 4, 3)),
    "TextVectorization": ((), None), "ConvLSTM1D": ((2, 3), (None, 3, 5, 2)),
    "ConvLSTM2D": ((2, 3), (None, 3, 5, 5, 2)), "ConvLSTMCell": ((2, 2, 3), None),
})


def test_every_built_in_layer_class_is_covered():
    assert sorted(saving.builtin_objects("keras.layers")) == sorted(LAYER_ARGS)


@pytest.mark.parametrize("name", sorted(LAYER_ARGS))
def test_every_built_in_layer_round_trips_through_its_keras_dict(name):
    args, shape = LAYER_ARGS[name]
    layer = saving.builtin_objects("keras.layers")[name](*args)
    if isinstance(shape, list):
        layer([np.zeros((2,) + s[1:], "float32") for s in shape])
    elif shape is not None:
        layer.build(shape) if name == "Sequential" else layer(np.zeros(
            (2,) + shape[1:], "int64" if name == "Embedding" else "float32"))
    config = json.loads(json.dumps(saving.serialize_keras_object(layer)))
    assert config["module"] == {"Model": "keras", "Sequential": "keras",
                                "Functional": "keras.src.models.functional"}.get(name,
                                                                                 "keras.layers")
    assert (config["class_name"], config["registered_name"]) == (name, None)
    clone = saving.deserialize_keras_object(config)
    assert type(clone) is type(layer)
    assert saving.serialize_keras_object(clone) == config
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in layer.get_weights()]


# --- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("module, known", [
    (activations, "relu"), (losses, "mse"), (metrics, "mae"), (optimizers, "adam"),
    (initializers, "glorot_uniform"), (regularizers, "l2"), (constraints, "max_norm"),
    (layers, "Dense")])
def test_get_of_a_wrong_name_lists_the_valid_names(module, known):
    module.get(known)
    with pytest.raises(ValueError, match=rf"Unknown \w.*'nope'. Valid names: \[.*'{known}'"):
        module.get("nope")


def test_schedule_get_of_a_wrong_class_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"Unknown learning-rate schedule 'Nope'. Valid names: "
                                         r"\[.*'ExponentialDecay'"):
        schedules.get({"class_name": "Nope", "config": {}})
