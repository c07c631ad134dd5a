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
from profond.autograd.tensor import Tensor

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "MeanAbsoluteError",
           "MeanSquaredError", "get", "serialize", "deserialize", "register", "resolve_accuracy"]


def _arr(x, xp=None):
    x = x.data if isinstance(x, Tensor) else x
    return x if xp is None else xp.asarray(x)


class Metric:
    """Base class of stateful metrics."""

    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):  # pragma: no cover
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Mean(Metric):
    """Weighted mean of the values given to ``update_state(values, sample_weight=None)``."""

    def update_state(self, values, sample_weight=None):
        values = _arr(values)
        xp = backend.get_array_module(values)
        values = xp.asarray(values, dtype="float64")
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            w = xp.broadcast_to(xp.asarray(_arr(sample_weight), dtype="float64"), values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())


class MeanMetricWrapper(Metric):
    """A metric from a function ``fn(y_true, y_pred) -> per-sample values`` (arrays)."""

    def __init__(self, fn, name=None):
        self.fn = fn
        super().__init__(name or fn.__name__)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _arr(y_pred)
        xp = backend.get_array_module(y_pred)
        values = self.fn(_arr(y_true, xp), y_pred)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
            return
        w = xp.asarray(_arr(sample_weight), dtype="float64")
        if w.ndim > values.ndim and w.shape[-1] == 1:
            w = w.reshape(w.shape[:-1])
        while w.ndim < values.ndim:
            w = w[..., None]
        w = xp.broadcast_to(w, values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def get_config(self):
        config = super().get_config()
        if type(self) is MeanMetricWrapper:  # the named metrics know their own function
            config["fn"] = saving.serialize_if_named(self.fn)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = saving.deserialize_keras_object(config["fn"])
        return cls(**config)


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
        return get(saving.lookup_name(identifier, _TABLE, "metric"))
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
                                              MeanSquaredError)}, **_TABLE}
saving.register_builtin_objects("keras.metrics", "profond.metrics", _MODULE_OBJECTS)
