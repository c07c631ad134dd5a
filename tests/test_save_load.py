"""Whole-model files: bit-exact round trips with optimizer state, custom objects by name,
atomic writes, and damaged or hostile files that only ever give clear errors."""

import errno
import json
import os
import struct

import numpy as np
import pytest

import profond
import profond._files
from profond import layers
from profond.io.model_file import ModelFileError, read_metadata
from profond.io.safetensors_file import seal
from profond.io.weights_file import read_weights_list


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("int64")
    return x, y


def _classifier(optimizer="adam"):
    model = profond.Sequential([layers.Input((5,)), layers.Dense(8, activation="relu"),
                                layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _same(a, b):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert p.dtype == q.dtype and p.shape == q.shape
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("optimizer", [
    "adam", profond.optimizers.SGD(0.05, momentum=0.9, nesterov=True), "rmsprop"])
def test_round_trip_is_bit_exact_and_training_continues_identically(tmp_path, optimizer):
    x, y = _data()
    model = _classifier(optimizer)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    _same(loaded.get_weights(), model.get_weights())
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    _same([a for s in loaded.optimizer.get_state()["slots"] for a in s.values()],
          [a for s in model.optimizer.get_state()["slots"] for a in s.values()])
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    # One more epoch on each, from the same random state: the same weights.
    state = profond.random.get_state()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    profond.random.set_state(state)
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0)
    _same(loaded.get_weights(), model.get_weights())


def test_uncompiled_and_compile_false(tmp_path):
    model = profond.Sequential([layers.Input((5,)), layers.Dense(2)])
    model.save(tmp_path / "m.safetensors")
    loaded = profond.load_model(tmp_path / "m.safetensors")
    assert loaded.optimizer is None
    _same(loaded.get_weights(), model.get_weights())
    trained = _classifier()
    trained.fit(*_data(), epochs=1, verbose=0)
    trained.save(tmp_path / "c.safetensors")
    assert profond.load_model(tmp_path / "c.safetensors", compile=False).optimizer is None


def test_loading_leaves_the_global_random_stream_alone(tmp_path):
    model = _classifier()
    model.save(tmp_path / "m.safetensors")
    state = profond.random.get_state()
    profond.load_model(tmp_path / "m.safetensors")
    assert profond.random.get_state() == state


def test_weights_keep_keras_layouts_and_order(tmp_path):
    model = _classifier()
    model.fit(*_data(), epochs=1, verbose=0)
    model.save(tmp_path / "m.safetensors")
    arrays = read_weights_list(tmp_path / "m.safetensors")
    assert [a.shape for a in arrays] == [(5, 8), (8,), (8, 3), (3,)]
    # Keras's Dense: softmax(relu(x @ kernel + bias) @ kernel2 + bias2).
    x, _ = _data()
    k1, b1, k2, b2 = arrays
    logits = np.maximum(x @ k1 + b1, 0) @ k2 + b2
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    # A model file is a weights file too.
    other = _classifier()
    other.load_weights(tmp_path / "m.safetensors")
    _same(other.get_weights(), model.get_weights())


# --- custom objects ----------------------------------------------------------------------------
@profond.layers.register
class ScaleShift(profond.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.shift = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                     name="shift")

    def call(self, inputs):
        return inputs * self.factor + self.shift

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _wiggle(x):
    return profond.ops.tanh(x) * 1.5


def _weighted_mse(y_true, y_pred):
    return profond.ops.mean((y_pred - profond.tensor(y_true)) ** 2 * 3.0, axis=-1)


profond.activations.register("wiggle", _wiggle)
profond.losses.register("weighted_mse", _weighted_mse)


def test_custom_layer_activation_and_loss_by_name(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = x[:, :1]
    model = profond.Sequential([layers.Input((4,)), ScaleShift(0.5),
                                layers.Dense(3, activation="wiggle"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="weighted_mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.safetensors")
    loaded = profond.load_model(tmp_path / "m.safetensors")
    assert isinstance(loaded.layers[0], ScaleShift) and loaded.layers[0].factor == 0.5
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_unregistered_objects_give_clear_errors(tmp_path):
    def anonymous_loss(y_true, y_pred):
        return profond.ops.mean((y_pred - profond.tensor(y_true)) ** 2, axis=-1)

    model = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss=anonymous_loss)
    with pytest.raises(ValueError, match="its 'loss' is <function .*anonymous_loss.*cannot "
                                         "name. Register it with @profond.saving."
                                         r"register_keras_serializable\(\)"):
        model.save(tmp_path / "m.safetensors")
    assert not os.path.exists(tmp_path / "m.safetensors")

    class TwoLayers(profond.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(1)

        def call(self, x):
            return self.d(x)

    sub = TwoLayers()
    sub.build((None, 2))
    with pytest.raises(ValueError, match="its class is TwoLayers .*cannot name.*"
                                         "register_keras_serializable"):
        sub.save(tmp_path / "s.safetensors")
    with pytest.raises(ValueError, match="must end in '.safetensors'"):
        model.save(tmp_path / "m.h5")


def test_unknown_layer_class_on_load(tmp_path):
    model = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.save(tmp_path / "m.safetensors")
    _rewrite_metadata(tmp_path / "m.safetensors", tmp_path / "h.safetensors",
                      lambda meta: meta["model"].replace('"Dense"', '"NoSuchLayer"'), "model")
    with pytest.raises(ModelFileError, match="Unknown layer 'NoSuchLayer'.*registered"):
        profond.load_model(tmp_path / "h.safetensors")


# --- atomicity -------------------------------------------------------------------------------------
def test_a_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    # The disk fills up mid-write: an OSError (not safetensors's own error), no temporary
    # file left, the old file intact.
    path = tmp_path / "m.safetensors"
    model = _classifier()
    model.save(path)
    before = path.read_bytes()
    calls = []

    def disk_full(fd, view):
        calls.append(len(view))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, view[:10])

    monkeypatch.setattr(profond._files, "_write", disk_full)
    model.fit(*_data(), epochs=1, verbose=0)
    with pytest.raises(OSError, match="No space left") as info:
        model.save(path)
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]
    with pytest.raises(OSError):
        model.save_weights(tmp_path / "w.safetensors")
    assert os.listdir(tmp_path) == ["m.safetensors"]
    monkeypatch.undo()
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)


# --- damaged and hostile files ---------------------------------------------------------------------
def _rewrite_metadata(src, dst, edit, key):
    """A crafted file: the edit, and a checksum made to match it (a hostile writer can)."""
    raw = src.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header["__metadata__"][key] = edit(header["__metadata__"])
    dst.write_bytes(seal(header, raw[8 + n:]) + raw[8 + n:])


def _load_ok_or_clear_error(path):
    """Loading either works (fully) or raises FileNotFoundError/ValueError: nothing else."""
    try:
        model = profond.load_model(path)
    except (ValueError, FileNotFoundError) as err:
        assert str(err)
        return None
    assert model.built
    return model


def test_truncated_files_give_clear_errors(tmp_path):
    model = _classifier()
    model.fit(*_data(), epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    raw = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for size in sorted({0, 1, 7, 8, 9, 50, len(raw) // 2, len(raw) - 100, len(raw) - 1}):
        cut.write_bytes(raw[:size])
        with pytest.raises(ValueError, match="truncated|not a profond model file|not valid"):
            profond.load_model(cut)


def test_fuzzed_files_never_crash_or_half_load(tmp_path):
    model = _classifier()
    model.fit(*_data(), epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    raw = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", raw[:8])
    rng = np.random.default_rng(0)
    bad = tmp_path / "bad.safetensors"
    errors = 0
    for trial in range(150):
        data = bytearray(raw)
        # Mostly hit the header (where structure lives), sometimes the tensors.
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(0, 8 + n)) if rng.random() < 0.85 else \
                int(rng.integers(0, len(data)))
            data[pos] = int(rng.integers(0, 256))
        bad.write_bytes(bytes(data))
        loaded = _load_ok_or_clear_error(bad)
        if loaded is None:
            errors += 1
        else:
            assert len(loaded.get_weights()) == 4
    assert errors > 50


@pytest.mark.parametrize("edit, key, message", [
    (lambda m: "{" * 100000, "model", "not valid JSON"),
    (lambda m: json.dumps({"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Dense", "config": {"units": 10 ** 13}}],
        "build_input_shape": [None, 5]}}), "model", "memory|cannot be rebuilt"),
    (lambda m: json.dumps({"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Dense", "config": {"units": 3, "evil": "os.system"}}],
        "build_input_shape": [None, 5]}}), "model", "cannot be rebuilt"),
    (lambda m: json.dumps({"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Dense", "config": {"units": 4}}],
        "build_input_shape": [None, 5]}}), "model", "holds 4 weights; its architecture has 2"),
    (lambda m: json.dumps({"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Dense", "config": {"units": 9}},
                   {"class_name": "Dense", "config": {"units": 3}}],
        "build_input_shape": [None, 5]}}), "model", "has shape"),
    (lambda m: json.dumps([1, 2]), "model", "no model architecture"),
    (lambda m: "99", "format_version", "format version"),
    (lambda m: "pickle", "format", "not a profond model file"),
    (lambda m: m["optimizer_state"].replace('"iterations": 3', '"iterations": -4'),
     "optimizer_state", "optimizer state cannot be restored"),
    (lambda m: json.dumps({"class_name": "NoSuchOpt", "config": {}}), "optimizer",
     "optimizer state cannot be restored"),
])
def test_hostile_metadata_gives_clear_errors(tmp_path, edit, key, message):
    model = _classifier()
    model.fit(*_data(), epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / "m.safetensors")
    _rewrite_metadata(tmp_path / "m.safetensors", tmp_path / "h.safetensors", edit, key)
    with pytest.raises(ValueError, match=message):
        profond.load_model(tmp_path / "h.safetensors")


def test_foreign_files(tmp_path):
    model = _classifier()
    model.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match="weights only: use model.load_weights"):
        profond.load_model(tmp_path / "w.safetensors")
    (tmp_path / "t.safetensors").write_text("hello, world" * 10)
    with pytest.raises(ModelFileError, match="header"):
        profond.load_model(tmp_path / "t.safetensors")
    with pytest.raises(FileNotFoundError):
        profond.load_model(tmp_path / "missing.safetensors")
    model.save(tmp_path / "m.safetensors")
    meta = read_metadata(tmp_path / "m.safetensors")
    assert meta["model"]["class_name"] == "Sequential" and meta["training_state"] is None
