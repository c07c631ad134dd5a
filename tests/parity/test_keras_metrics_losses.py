"""Metrics and losses against the real Keras 3 (PyTorch backend): the same random predictions,
with and without sample weights, each reduction, ignore_class."""

import os
import re

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras is a test oracle; install profond[test]")

from profond import losses, metrics  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


def _keras_value(metric, y_true, y_pred, sample_weight=None, batches=2):
    for t, p, w in _batches(y_true, y_pred, sample_weight, batches):
        metric.update_state(t, p, sample_weight=w)
    return np.asarray(keras.ops.convert_to_numpy(metric.result()))


def _ours(metric, y_true, y_pred, sample_weight=None, batches=2):
    for t, p, w in _batches(y_true, y_pred, sample_weight, batches):
        metric.update_state(t, p, sample_weight=w)
    return np.asarray(metric.result())


def _batches(y_true, y_pred, w, n):
    for idx in np.array_split(np.arange(len(y_true)), n):
        yield y_true[idx], y_pred[idx], None if w is None else w[idx]


def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    y_true = (rng.random(shape) > 0.6).astype("float32")
    # Scores that agree with the labels somewhat, so every count is non-trivial.
    y_pred = np.clip(0.35 * y_true + 0.65 * rng.random(shape), 0, 1).astype("float32")
    w = rng.random(shape[0]).astype("float32")
    return y_true, y_pred, w


CASES = [
    ("Precision", {}), ("Recall", {}), ("Precision", {"thresholds": [0.2, 0.5, 0.7]}),
    ("Recall", {"thresholds": 0.3}), ("Precision", {"top_k": 2}), ("Recall", {"top_k": 1}),
    ("Precision", {"class_id": 2}), ("Recall", {"class_id": 1, "thresholds": 0.4}),
    ("TruePositives", {}), ("FalsePositives", {}), ("TrueNegatives", {}),
    ("FalseNegatives", {"thresholds": [0.1, 0.9]}),
    ("AUC", {}), ("AUC", {"curve": "PR"}), ("AUC", {"num_thresholds": 7}),
    ("AUC", {"curve": "PR", "num_thresholds": 13}), ("AUC", {"summation_method": "minoring"}),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}),
    ("AUC", {"multi_label": True}), ("AUC", {"multi_label": True, "curve": "PR"}),
    ("AUC", {"thresholds": [0.25, 0.5, 0.8]}),
    ("AUC", {"label_weights": [0.2, 1.0, 0.5, 2.0]}),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_confusion_metric_matches_keras(name, kwargs, weighted):
    y_true, y_pred, w = _data((40, 4))
    w = w if weighted else None
    expected = _keras_value(getattr(keras.metrics, name)(**kwargs), y_true, y_pred, w)
    got = _ours(getattr(metrics, name)(**kwargs), y_true, y_pred, w)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape", [(50,), (50, 1)])
def test_binary_metrics_match_keras_on_one_column(shape):
    y_true, y_pred, w = _data(shape, seed=3)
    for name in ("Precision", "Recall", "AUC", "TruePositives", "FalseNegatives"):
        expected = _keras_value(getattr(keras.metrics, name)(), y_true, y_pred, w)
        got = _ours(getattr(metrics, name)(), y_true, y_pred, w)
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=name)


def test_auc_from_logits_matches_keras():
    y_true, y_pred, _ = _data((30, 3), seed=5)
    logits = (4 * (y_pred - 0.5)).astype("float32")
    expected = _keras_value(keras.metrics.AUC(from_logits=True), y_true, logits)
    got = _ours(metrics.AUC(from_logits=True), y_true, logits)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["precision", "recall", "auc", "true_positives"])
def test_string_names_resolve_to_keras_classes(name):
    ours, theirs = metrics.get(name), keras.metrics.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)  # Keras numbers repeated names


# --- losses -------------------------------------------------------------------------------------
def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


REDUCTIONS = ["sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight"]


def _loss_inputs(name, rng):
    logits = rng.normal(size=(6, 5, 4)).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    if name == "SparseCategoricalCrossentropy":
        return rng.integers(0, 4, (6, 5)), probs
    if name == "CategoricalCrossentropy":
        return np.eye(4, dtype="float32")[rng.integers(0, 4, (6, 5))], probs
    if name == "BinaryCrossentropy":
        return (rng.random((6, 5, 4)) > 0.5).astype("float32"), 1 / (1 + np.exp(-logits))
    return rng.normal(size=(6, 5, 4)).astype("float32"), logits


@pytest.mark.parametrize("weights", [None, "per_sample", "per_step"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MeanSquaredError", "MeanAbsoluteError", "Huber",
                                  "BinaryCrossentropy", "CategoricalCrossentropy",
                                  "SparseCategoricalCrossentropy"])
def test_loss_reductions_match_keras(name, reduction, weights):
    rng = np.random.default_rng(7)
    y_true, y_pred = _loss_inputs(name, rng)
    w = {None: None, "per_sample": rng.random((6, 1)).astype("float32"),
         "per_step": rng.random((6, 5)).astype("float32")}[weights]
    expected = _np(getattr(keras.losses, name)(reduction=reduction)(y_true, y_pred, w))
    got = getattr(losses, name)(reduction=reduction)(y_true, y_pred, w)
    np.testing.assert_allclose(got.data, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none",
                                       "mean_with_sample_weight"])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_ignore_class_matches_keras(from_logits, reduction, weighted):
    rng = np.random.default_rng(11)
    y_true = rng.integers(0, 4, (6, 5))
    y_true[rng.random((6, 5)) < 0.3] = -1
    logits = rng.normal(size=(6, 5, 4)).astype("float32")
    y_pred = logits if from_logits else np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    w = rng.random((6, 5)).astype("float32") if weighted else None
    kw = {"from_logits": from_logits, "ignore_class": -1, "reduction": reduction}
    expected = _np(keras.losses.SparseCategoricalCrossentropy(**kw)(y_true, y_pred, w))
    got = losses.SparseCategoricalCrossentropy(**kw)(y_true, y_pred, w)
    np.testing.assert_allclose(got.data, expected, rtol=RTOL, atol=ATOL)
    per = losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class=-1)
    np.testing.assert_allclose(per.data, _np(keras.losses.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits, ignore_class=-1)), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_axis_matches_keras(from_logits):
    rng = np.random.default_rng(12)
    y_true = rng.integers(0, 4, (6, 5))
    logits = rng.normal(size=(6, 4, 5)).astype("float32")  # classes on axis 1
    y_pred = logits if from_logits else np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = _np(keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits,
                                                                axis=1))
    got = losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits, axis=1)
    np.testing.assert_allclose(got.data, expected, rtol=RTOL, atol=ATOL)
    kw = {"from_logits": from_logits, "axis": 1}
    np.testing.assert_allclose(
        losses.SparseCategoricalCrossentropy(**kw)(y_true, y_pred).data,
        _np(keras.losses.SparseCategoricalCrossentropy(**kw)(y_true, y_pred)), rtol=RTOL,
        atol=ATOL)
