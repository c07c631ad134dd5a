"""Keras files that profond refuses, and how: each with a clear error naming the file and what
is wrong, nothing imported or run from the file, and no half-loaded model or half-written file.
(The files that cross are tested against Keras in tests/parity/test_keras_files.py.)"""

import json
import sys
import zipfile

import numpy as np
import pytest

import profond
from profond import layers, schedules
from profond.callbacks import ModelCheckpoint
from profond.io.keras_format import KerasFileError

_POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
           "registered_name": None}


def _layer(class_name, name, module="keras.layers", **config):
    return {"module": module, "class_name": class_name,
            "config": {"name": name, "trainable": True, "dtype": _POLICY, **config},
            "registered_name": None}


def _sequential(*body):
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "sequential", "trainable": True, "dtype": _POLICY,
                       "layers": [{"module": "keras.layers", "class_name": "InputLayer",
                                   "config": {"batch_shape": [None, 3], "dtype": "float32",
                                              "name": "input_layer"},
                                   "registered_name": None}, *body],
                       "build_input_shape": [None, 3]},
            "registered_name": None, "build_config": {"input_shape": [None, 3]}}


def _archive(path, config, names=("metadata.json", "config.json")):
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, json.dumps(config) if name == "config.json" else "{}")
    return path


def _dense(name="dense", **extra):
    return _layer("Dense", name, **{"units": 2, "activation": "linear", "use_bias": True,
                                    **extra})


def test_a_keras_layer_profond_lacks_is_named_with_the_file(tmp_path):
    path = _archive(tmp_path / "m.keras", _sequential(
        _dense(), _layer("ConvLSTM3D", "upsampler", filters=2, kernel_size=[2, 2, 2])))
    with pytest.raises(KerasFileError, match=r"m\.keras.*the layer 'upsampler' "
                                             r"\(ConvLSTM3D, module 'keras.layers'\) is "
                                             "not something profond has"):
        profond.load_model(path)


def test_a_module_outside_keras_and_profond_is_refused_without_importing_it(tmp_path,
                                                                           monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "profond_test_payload.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Payload:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for bad in (_layer("Payload", "payload", module="profond_test_payload"),
                _dense(activation={"module": "os", "class_name": "function",
                                   "config": "system", "registered_name": None}),
                _dense(kernel_initializer={"module": "profond_test_payload",
                                           "class_name": "Payload", "config": {},
                                           "registered_name": "Payload"})):
        path = _archive(tmp_path / "evil.keras", _sequential(bad))
        with pytest.raises(KerasFileError, match="outside Keras and profond.*never imports"):
            profond.load_model(path)
    assert not marker.exists()
    assert "profond_test_payload" not in sys.modules


def test_a_lambda_layer_is_refused_its_code_never_run(tmp_path):
    code = {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None,
                                                   "closure": None}}
    path = _archive(tmp_path / "m.keras", _sequential(
        _layer("Lambda", "doubler", function=code, output_shape=None, arguments={})))
    with pytest.raises(KerasFileError, match="'doubler'.*holds Python code.*never runs code"):
        profond.load_model(path)


def test_a_keras_argument_profond_lacks_is_refused_unless_inert(tmp_path):
    inert = _archive(tmp_path / "inert.keras", _sequential(_dense(quantization_config=None)))
    pytest.importorskip("h5py")
    with pytest.raises(KerasFileError, match="no model.weights.h5"):
        profond.load_model(inert)  # the config was accepted; the weights are what is missing
    path = _archive(tmp_path / "m.keras", _sequential(_dense(lora_rank=4)))
    with pytest.raises(KerasFileError, match="'dense'.*sets lora_rank=4, which profond's "
                                             "Dense does not have"):
        profond.load_model(path)


def test_foreign_files_are_named(tmp_path):
    torch_like = tmp_path / "model.keras"
    with zipfile.ZipFile(torch_like, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(KerasFileError, match="a PyTorch checkpoint, which profond does not read"):
        profond.load_model(torch_like)
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    pytest.importorskip("h5py")
    with pytest.raises(ValueError, match="a PyTorch checkpoint, which profond does not read"):
        model.load_weights(torch_like)
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(KerasFileError, match="zip archive \\(damaged\\)"):
        profond.load_model(damaged)


def test_hdf5_files_without_keras_weights_are_named(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ValueError, match="an HDF5 file without Keras weights"):
        model.load_weights(tmp_path / "data.h5")
    with h5py.File(tmp_path / "legacy.h5", "w") as f:
        f.attrs["model_config"] = "{}"
        f.create_group("model_weights")
    with pytest.raises(ValueError, match="a legacy Keras 2 HDF5 model file"):
        model.load_weights(tmp_path / "legacy.h5")
    with pytest.raises(ValueError, match="a legacy Keras 2 HDF5 model file"):
        profond.load_model(tmp_path / "legacy.h5")


def test_weights_that_do_not_fit_change_nothing(tmp_path):
    pytest.importorskip("h5py")
    source = profond.Sequential([layers.Input((3,)), layers.Dense(4), layers.Dense(2)])
    source.save_weights(tmp_path / "w.weights.h5")
    other = profond.Sequential([layers.Input((3,)), layers.Dense(4), layers.Dense(5)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="weight 'dense_.*' of layer .* has "
                                         r"shape \(4, 5\); the file's 'layers/dense_1/vars' "
                                         r"holds \(4, 2\)"):
        other.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    bigger = profond.Sequential([layers.Input((3,)), layers.Dense(4)])
    with pytest.raises(ValueError, match="holds 4 weights and the model takes 2"):
        bigger.load_weights(tmp_path / "w.weights.h5")


def test_an_array_that_is_not_numeric_is_refused(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    with h5py.File(tmp_path / "w.weights.h5", "w") as f:
        f.create_group("vars")
        f["layers/dense/vars/0"] = np.array([b"not", b"weights", b"!"])
        f["layers/dense/vars/1"] = np.zeros(2, "float32")
    with pytest.raises(ValueError, match="is not a numeric array"):
        model.load_weights(tmp_path / "w.weights.h5")


def test_a_per_epoch_schedule_has_no_keras_form_and_nothing_is_written(tmp_path):
    pytest.importorskip("h5py")
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer=profond.optimizers.SGD(
        schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5, unit="epoch")),
        loss="mse")
    with pytest.raises(ValueError, match="counts epochs, and Keras's schedules count steps"):
        model.save(tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_keras_save_keeps_the_old_file(tmp_path, monkeypatch):
    pytest.importorskip("h5py")
    import profond._files as files

    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    old = path.read_bytes()

    def full_disk(fd, view):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_write", full_disk)
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_model_checkpoint_writes_keras_files(tmp_path):
    pytest.importorskip("h5py")
    x, y = np.ones((8, 3), "float32"), np.ones((8, 2), "float32")
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[
        ModelCheckpoint(str(tmp_path / "best.keras"), save_best_only=True),
        ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)])
    best = profond.load_model(tmp_path / "best.keras")
    assert best.optimizer.iterations == model.optimizer.iterations
    np.testing.assert_array_equal(best.predict(x, verbose=0), model.predict(x, verbose=0))
    again = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    again.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="must end in '.safetensors' or '.weights.h5' with "
                                         "save_weights_only=True"):
        ModelCheckpoint(str(tmp_path / "m.keras"), save_weights_only=True)
    with pytest.raises(ValueError, match="must end in '.safetensors' or '.keras' with "
                                         "save_weights_only=False"):
        ModelCheckpoint(str(tmp_path / "m.weights.h5"))


def test_what_only_profond_has_is_refused_when_saving_for_keras(tmp_path):
    pytest.importorskip("h5py")
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2, activation="step")])
    with pytest.raises(ValueError, match="Cannot save layer 'dense.*' as a Keras file: it uses "
                                         "'step', which is profond's own"):
        model.save(tmp_path / "m.keras")
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer=profond.optimizers.SGD(schedules.StepDecay(0.1, drop=0.5, every=2, unit="step")),
                  loss="mse")
    with pytest.raises(ValueError, match="'StepDecay', which is profond's own"):
        model.save(tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def test_an_object_a_layer_holds_is_named_with_the_layer(tmp_path):
    path = _archive(tmp_path / "m.keras", _sequential(_dense(
        name="head", kernel_initializer={"module": "keras.initializers", "class_name": "STFT",
                                         "config": {}, "registered_name": None})))
    with pytest.raises(KerasFileError, match=r"the STFT \(module 'keras.initializers'\), in "
                                             "the layer 'head', is not something profond has"):
        profond.load_model(path)


def test_without_h5py_the_extra_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now raises ImportError
    model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    with pytest.raises(ImportError, match=r"needs the 'h5py' package: pip install "
                                          r"'profond\[h5\]'"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(ImportError, match=r"'profond\[h5\]'"):
        model.save_weights(tmp_path / "m.weights.h5")
    assert list(tmp_path.iterdir()) == []
