"""The Keras import paths that profond answers with aliases (the same objects, not copies):
``optimizers.schedules``, ``models.load_model``/``save_model``, the lower-case regularizers,
``ops.tensordot`` and ``ops.nn``."""

import os

import numpy as np
import pytest

import profond
from profond import models, optimizers, regularizers, schedules


def test_optimizers_schedules_is_the_schedules_module():
    from profond.optimizers.schedules import ExponentialDecay, PiecewiseConstantDecay
    assert ExponentialDecay is schedules.ExponentialDecay
    assert PiecewiseConstantDecay is schedules.PiecewiseConstantDecay
    for name in schedules.__all__:
        assert getattr(optimizers.schedules, name) is getattr(schedules, name)
    lr = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert float(lr(10)) == pytest.approx(0.05)
    optimizers.SGD(learning_rate=lr)


def test_models_load_and_save_model(tmp_path):
    from profond.io.model_file import load_model, save_model
    assert models.load_model is load_model is profond.load_model
    assert models.save_model is save_model
    model = profond.Sequential([profond.layers.Input((3,)), profond.layers.Dense(2)])
    path = tmp_path / "m.safetensors"  # profond's model file
    models.save_model(model, path)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(models.load_model(path).predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_lower_case_regularizers_are_the_classes():
    assert regularizers.l1 is regularizers.L1
    assert regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    penalty = regularizers.l1_l2(l1=0.01, l2=0.01)
    assert float(penalty(profond.tensor([1.0, -2.0]))) == pytest.approx(0.03 + 0.05)
    assert regularizers.serialize(regularizers.l2(0.01))["class_name"] == "L2"
    layer = profond.layers.Dense(2, kernel_regularizer=regularizers.l2(0.01))
    assert isinstance(layer.kernel_regularizer, regularizers.L2)


def test_lower_case_regularizers_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    w = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    for name, kwargs in [("l1", {"l1": 0.02}), ("l2", {"l2": 0.03}),
                         ("l1_l2", {"l1": 0.01, "l2": 0.01})]:
        expected = float(keras.ops.convert_to_numpy(getattr(keras.regularizers, name)(**kwargs)(w)))
        assert float(getattr(regularizers, name)(**kwargs)(profond.tensor(w))) == \
            pytest.approx(expected, rel=1e-6)
        ours = getattr(regularizers, name)(**kwargs).get_config()
        theirs = getattr(keras.regularizers, name)(**kwargs).get_config()
        assert ours == pytest.approx(theirs)  # Keras keeps float32 factors


def test_ops_tensordot_and_nn_paths():
    from profond.ops import nn, tensordot
    from profond.ops.nn import one_hot, softmax
    assert tensordot is profond.ops.tensordot and nn is profond.ops.nn
    assert softmax is profond.ops.softmax
    assert one_hot([1], 2).shape == (1, 2)
