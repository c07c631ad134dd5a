"""Metrics with Keras's names: stateful objects updated batch by batch, off the graph.

``update_state(y_true, y_pred, sample_weight=None)`` accumulates a weighted sum and a weight
total; ``result()`` gives their ratio; ``reset_state()`` starts over. ``"accuracy"`` resolves to
binary, categorical or sparse categorical accuracy from the loss, as Keras does.

Examples
--------
>>> import numpy as np
>>> from profond import metrics
>>> m = metrics.SparseCategoricalAccuracy()
>>> m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> float(m.result())
0.5
"""

from __future__ import annotations

from profond import backend, saving
# Keras's metrics module offers the loss functions under their own names (the same objects)
from profond.losses import (binary_crossentropy, categorical_crossentropy, huber, log_cosh,
                            sparse_categorical_crossentropy)
from profond.metrics.base import Mean, MeanMetricWrapper, Metric
from profond.metrics.confusion import (AUC, FalseNegatives, FalsePositives, Precision, Recall,
                                       TrueNegatives, TruePositives)

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "MeanAbsoluteError",
           "MeanSquaredError", "Precision", "Recall", "AUC", "TruePositives", "FalsePositives",
           "TrueNegatives", "FalseNegatives", "get", "serialize", "deserialize", "register",
           "resolve_accuracy", "MeanAbsolutePercentageError", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "huber", "log_cosh"]


def _squeeze_labels(y_true, y_pred):
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(y_true.shape[:-1])
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_pred)`` equals the integer label, else 0.0."""
    y_true = _squeeze_labels(y_true, y_pred)
    return (y_pred.argmax(axis=-1) == y_true).astype("float64")


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_pred)`` equals ``argmax(y_true)``, else 0.0."""
    return (y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).astype("float64")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per-sample mean of ``(y_pred > threshold) == y_true`` over the last axis."""
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    return ((y_pred > threshold) == (y_true > 0.5)).astype("float64").mean(axis=-1)


def accuracy(y_true, y_pred):
    """Exact-match accuracy: ``y_true == y_pred`` elementwise, averaged over the last axis."""
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    return (y_true == y_pred).astype("float64").mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    return abs(y_pred - y_true).mean(axis=-1)


def mean_squared_error(y_true, y_pred):
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    d = y_pred - y_true
    return (d * d).mean(axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` over the last axis (Keras's)."""
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    xp = backend.get_array_module(y_pred)
    ratio = abs(y_true - y_pred) / xp.maximum(abs(y_true), 1e-7)
    return 100.0 * ratio.mean(axis=-1)


def _wrapper(fn, default_name):
    class _M(MeanMetricWrapper):
        def __init__(self, name=default_name):
            super().__init__(fn, name=name)

    return _M


SparseCategoricalAccuracy = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy")
SparseCategoricalAccuracy.__name__ = "SparseCategoricalAccuracy"
CategoricalAccuracy = _wrapper(categorical_accuracy, "categorical_accuracy")
CategoricalAccuracy.__name__ = "CategoricalAccuracy"
Accuracy = _wrapper(accuracy, "accuracy")
Accuracy.__name__ = "Accuracy"
MeanAbsoluteError = _wrapper(mean_absolute_error, "mean_absolute_error")
MeanAbsoluteError.__name__ = "MeanAbsoluteError"
MeanSquaredError = _wrapper(mean_squared_error, "mean_squared_error")
MeanSquaredError.__name__ = "MeanSquaredError"
MeanAbsolutePercentageError = _wrapper(mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error")
MeanAbsolutePercentageError.__name__ = "MeanAbsolutePercentageError"


class BinaryAccuracy(MeanMetricWrapper):
    """Fraction of ``y_pred > threshold`` matching binary ``y_true``."""

    def __init__(self, name="binary_accuracy", threshold=0.5):
        self.threshold = threshold
        super().__init__(lambda t, p: binary_accuracy(t, p, threshold), name=name)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


_TABLE = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "binary_accuracy": BinaryAccuracy,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "precision": Precision, "recall": Recall, "auc": AUC, "true_positives": TruePositives,
    "false_positives": FalsePositives, "true_negatives": TrueNegatives,
    "false_negatives": FalseNegatives,
}


def resolve_accuracy(loss, y_pred_shape=None):
    """Keras's choice of accuracy for ``"accuracy"``/``"acc"`` given the compiled loss."""
    name = getattr(loss, "name", "") or ""
    if "sparse_categorical" in name:
        return SparseCategoricalAccuracy(name="accuracy")
    if "binary" in name:
        return BinaryAccuracy(name="accuracy")
    if "categorical" in name:
        return CategoricalAccuracy(name="accuracy")
    if y_pred_shape is not None and len(y_pred_shape) and y_pred_shape[-1] == 1:
        return BinaryAccuracy(name="accuracy")
    return SparseCategoricalAccuracy(name="accuracy") if y_pred_shape is not None and \
        y_pred_shape[-1] > 1 else Accuracy(name="accuracy")


def get(identifier, loss=None):
    """Resolve a metric name, serialized dict, instance or function (``"accuracy"`` depends
    on ``loss``).

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return resolve_accuracy(loss)
        # Keras's names: snake case, short names, and the class names themselves.
        return get(saving.lookup_name(identifier, _NAMES, "metric"))
    if isinstance(identifier, dict) and "class_name" in identifier:
        return get(deserialize(identifier), loss)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric {identifier!r}: expected a name "
                     f"({sorted(_TABLE) + ['accuracy']}), a Metric or a callable.")


def serialize(metric):
    """Keras's dict for a built-in or registered metric; anything a loader could not name is
    returned as it is (``model.save`` refuses it).

    Examples
    --------
    >>> from profond import metrics
    >>> metrics.serialize(metrics.BinaryAccuracy(threshold=0.3))["config"]
    {'name': 'binary_accuracy', 'threshold': 0.3}
    """
    return saving.serialize_if_named(metric)


def deserialize(config, custom_objects=None):
    """The metric :func:`serialize` described."""
    return saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                           module_objects=_MODULE_OBJECTS)


def register(name: str, obj) -> None:
    """Convenience: ``saving.register_keras_serializable(name=name)(obj)`` for a custom metric
    (a ``Metric`` subclass or a function ``fn(y_true, y_pred)``), found by :func:`get` as
    ``name``."""
    saving.register_keras_serializable(name=name)(obj)


_MODULE_OBJECTS = {**{c.__name__: c for c in (Metric, Mean, MeanMetricWrapper, Accuracy,
                                              BinaryAccuracy, CategoricalAccuracy,
                                              SparseCategoricalAccuracy, MeanAbsoluteError,
                                              MeanSquaredError, MeanAbsolutePercentageError,
                                              Precision, Recall, AUC,
                                              TruePositives, FalsePositives, TrueNegatives,
                                              FalseNegatives)}, **_TABLE}
_NAMES = {**_TABLE, **{name: obj for name, obj in _MODULE_OBJECTS.items()
                       if name not in ("Metric", "MeanMetricWrapper")}}
saving.register_builtin_objects("keras.metrics", "profond.metrics", _MODULE_OBJECTS)
