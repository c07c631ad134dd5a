"""Metrics: values against direct NumPy computations, weighting, state across batches, and
Keras's choice of accuracy from the loss."""

import numpy as np
import pytest

from profond import losses, metrics


def test_sparse_categorical_accuracy_accumulates_over_batches():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(np.array([0, 1, 2]), np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [1, 0, 0]]))
    m.update_state(np.array([[1]]), np.array([[0.1, 0.8, 0.1]]))
    assert m.result() == pytest.approx(3 / 4)
    m.reset_state()
    assert m.result() == 0.0


def test_categorical_and_binary_accuracy():
    m = metrics.CategoricalAccuracy()
    m.update_state(np.eye(3)[[0, 2, 1]], np.array([[0.5, 0.2, 0.3], [0.1, 0.1, 0.8],
                                                   [0.6, 0.3, 0.1]]))
    assert m.result() == pytest.approx(2 / 3)
    b = metrics.BinaryAccuracy()
    b.update_state(np.array([1, 0, 1, 0]), np.array([[0.7], [0.2], [0.4], [0.6]]))
    assert b.result() == pytest.approx(0.5)
    b2 = metrics.BinaryAccuracy(threshold=0.3)
    b2.update_state(np.array([1, 0, 1, 0]), np.array([[0.7], [0.2], [0.4], [0.6]]))
    assert b2.result() == pytest.approx(0.75)


def test_weighted_accuracy():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(np.array([0, 1, 1]), np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
                   sample_weight=np.array([1.0, 3.0, 1.0]))
    assert m.result() == pytest.approx(2 / 5)


@pytest.mark.parametrize("name,ref", [("mae", lambda t, p: np.abs(p - t).mean()),
                                      ("mse", lambda t, p: ((p - t) ** 2).mean())])
def test_regression_metrics(name, ref):
    rng = np.random.default_rng(0)
    t, p = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    m = metrics.get(name)
    m.update_state(t[:5], p[:5])
    m.update_state(t[5:], p[5:])
    assert m.result() == pytest.approx(ref(t, p))
    m1 = metrics.get(name)
    m1.update_state(t[:, 0], p[:, :1])  # y_true without its trailing axis
    assert m1.result() == pytest.approx(ref(t[:, :1], p[:, :1]))


def test_mean_metric():
    m = metrics.Mean()
    m.update_state(np.array([1.0, 2.0, 3.0]))
    m.update_state(np.array([4.0]), sample_weight=np.array([2.0]))
    assert m.result() == pytest.approx((1 + 2 + 3 + 8) / 5)


@pytest.mark.parametrize("loss,shape,cls", [
    (losses.SparseCategoricalCrossentropy(), (None, 3), metrics.SparseCategoricalAccuracy),
    (losses.CategoricalCrossentropy(), (None, 3), metrics.CategoricalAccuracy),
    (losses.BinaryCrossentropy(), (None, 1), metrics.BinaryAccuracy),
    (losses.MeanSquaredError(), (None, 1), metrics.BinaryAccuracy),
    (losses.MeanSquaredError(), (None, 4), metrics.SparseCategoricalAccuracy)])
def test_accuracy_is_resolved_from_the_loss(loss, shape, cls):
    m = metrics.resolve_accuracy(loss, shape)
    assert isinstance(m, cls) and m.name == "accuracy"


def test_unknown_metric_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"Unknown metric 'accuracyy'.*'mae'"):
        metrics.get("accuracyy")
