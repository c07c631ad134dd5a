"""Losses with Keras's names, arguments and reductions.

A loss object is called as ``loss(y_true, y_pred, sample_weight=None)`` and returns a scalar
tensor. Internally ``call`` gives one value per sample (the last axis reduced), the weights
multiply those values inside the reduction, and ``"sum_over_batch_size"`` (Keras's default)
divides by the number of values. Any callable ``fn(y_true, y_pred) -> Tensor`` of per-sample
values is accepted as a custom loss and weighted the same way.

Regression: MSE punishes large errors quadratically and is pulled by outliers; MAE grows
linearly and is robust; Huber is quadratic near zero and linear beyond ``delta``.

Examples
--------
>>> import numpy as np, profond
>>> from profond import losses
>>> loss = losses.SparseCategoricalCrossentropy(from_logits=True)
>>> round(float(loss(np.array([0]), profond.tensor([[2.0, 0.0]]))), 4)
0.1269
"""

from __future__ import annotations

import inspect
import math

from profond import ops, saving
from profond._validation import check_choice, check_float
from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor
from profond.layers.masks import get_mask

__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "Huber",
           "LogCosh", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "mean_squared_error", "mean_absolute_error", "huber",
           "log_cosh", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "get", "serialize", "deserialize", "register"]

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "none")
_OP_REDUCTION = {"sum_over_batch_size": "mean", "sum": "sum"}  # Keras's names -> the ops'


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _check_has_last_axis(y_pred, owner):
    if y_pred.ndim == 0:
        raise ValueError(f"The 'y_pred' parameter of {owner} must have at least one axis (its "
                         "last axis, classes or features, is reduced per sample). Got a 0-d "
                         "tensor, shape (), instead.")


def _align(y_true, y_pred, owner):
    """``y_true`` as an array with ``y_pred``'s shape (a trailing axis added when missing)."""
    _check_has_last_axis(y_pred, owner)
    xp = y_pred.xp
    t = xp.asarray(_data(y_true))
    if t.ndim == y_pred.ndim - 1:
        t = t.reshape(t.shape + (1,))
    if t.shape != y_pred.shape:
        raise ValueError(f"The 'y_true' parameter of {owner} must match y_pred of shape "
                         f"{y_pred.shape}. Got y_true of shape {t.shape} instead.")
    if t.dtype != y_pred.dtype:
        t = t.astype(y_pred.dtype)
    return t


def _check_binary_targets(t, owner):
    """Binary cross-entropy reads each target as the probability of class 1: a label 2 would
    not fail, it would train towards a loss that rewards nonsense, so it is refused."""
    # Two reductions, a few microseconds a batch; a NaN fails the comparisons too.
    if t.size and not (0 <= t.min() and t.max() <= 1):
        numbers = t[t == t]  # NaN aside
        shown = (f"values from {float(numbers.min()):g} to {float(numbers.max()):g}"
                 if numbers.size else "only NaN") + (" and NaN" if numbers.size < t.size
                                                     and numbers.size else "")
        raise ValueError(f"The 'y_true' parameter of {owner} must hold values in [0, 1] (labels "
                         f"0 and 1, or probabilities). Got {shown} instead; for more than two "
                         "classes, use sparse_categorical_crossentropy.")


def mean_squared_error(y_true, y_pred):
    """Per-sample ``mean((y_true - y_pred) ** 2)`` over the last axis."""
    y_pred = as_tensor(y_pred)
    diff = y_pred - _align(y_true, y_pred, "mean_squared_error")
    return ops.mean(diff * diff, axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Per-sample ``mean(|y_true - y_pred|)`` over the last axis."""
    y_pred = as_tensor(y_pred)
    return ops.mean(ops.abs(y_pred - _align(y_true, y_pred, "mean_absolute_error")), axis=-1)


def huber(y_true, y_pred, delta: float = 1.0):
    """Per-sample Huber loss: ``0.5 e^2`` for ``|e| <= delta``, else ``delta (|e| - delta/2)``."""
    y_pred = as_tensor(y_pred)
    err = ops.abs(y_pred - _align(y_true, y_pred, "huber"))
    small = err.data <= delta
    quad = 0.5 * err * err
    lin = delta * err - 0.5 * delta * delta
    return ops.mean(ops.where(small, quad, lin), axis=-1)


def log_cosh(y_true, y_pred):
    """Per-sample ``mean(log(cosh(y_pred - y_true)))``, as ``x + softplus(-2x) - log 2``."""
    y_pred = as_tensor(y_pred)
    x = y_pred - _align(y_true, y_pred, "log_cosh")
    return ops.mean(x + ops.softplus(-2.0 * x) - math.log(2.0), axis=-1)


def _fused_logits(y_pred, kind):
    """The logits behind ``y_pred`` when it is the direct output of softmax/sigmoid."""
    source = getattr(y_pred, "_activation_input", None)
    if source is None or source.kind != kind:
        return None
    if kind == "softmax" and source.axis not in (-1, y_pred.ndim - 1):
        return None
    return source.logits


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Per-sample binary cross-entropy, averaged over the last axis."""
    y_pred = as_tensor(y_pred)
    t = _align(y_true, y_pred, "binary_crossentropy")
    _check_binary_targets(t, "binary_crossentropy")
    logits = y_pred if from_logits else _fused_logits(y_pred, "sigmoid")
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(logits, t, label_smoothing), axis=-1)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    p = ops.clip(y_pred, EPSILON, 1 - EPSILON)
    return ops.mean(-(t * ops.log(p) + (1 - t) * ops.log(1 - p)), axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample cross-entropy between one-hot (or soft) ``y_true`` and ``y_pred``."""
    y_pred = as_tensor(y_pred)
    t = _align(y_true, y_pred, "categorical_crossentropy")
    logits = y_pred if from_logits else _fused_logits(y_pred, "softmax")
    if logits is not None:
        return ops.softmax_cross_entropy(logits, t, sparse=False,
                                         label_smoothing=label_smoothing, axis=axis)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    p = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    return -ops.sum(t * ops.log(ops.clip(p, EPSILON, 1 - EPSILON)), axis=axis)


def _check_labels(t, n_classes, xp):
    if t.dtype.kind == "f":
        if bool(xp.any(t != xp.floor(t))):
            raise ValueError("The 'y_true' parameter of sparse_categorical_crossentropy must "
                             "hold integer class indices. Got non-integer values instead.")
    if t.size:
        lo, hi = int(t.min()), int(t.max())
        if lo < 0 or hi >= n_classes:
            raise ValueError(f"The 'y_true' parameter of sparse_categorical_crossentropy must "
                             f"hold labels in [0, {n_classes - 1}] for {n_classes} classes. Got "
                             f"values in [{lo}, {hi}] instead.")
    return t.astype(xp.int64, copy=False)


def _sparse_labels(y_true, y_pred):
    """Integer labels of shape ``y_pred.shape[:-1]``, checked against the number of classes."""
    _check_has_last_axis(y_pred, "sparse_categorical_crossentropy")
    xp = y_pred.xp
    t = xp.asarray(_data(y_true))
    if t.ndim == y_pred.ndim and t.shape[-1] == 1:
        t = t.reshape(t.shape[:-1])
    if t.shape != y_pred.shape[:-1]:
        raise ValueError(f"The 'y_true' parameter of sparse_categorical_crossentropy must hold "
                         f"labels of shape {y_pred.shape[:-1]} for y_pred of shape "
                         f"{y_pred.shape}. Got y_true of shape {t.shape} instead.")
    return _check_labels(t, y_pred.shape[-1], xp)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                                    axis=-1):
    """Per-sample cross-entropy with integer labels of shape ``y_pred.shape[:-1]``."""
    y_pred = as_tensor(y_pred)
    xp = y_pred.xp
    t = _sparse_labels(y_true, y_pred)
    logits = y_pred if from_logits else _fused_logits(y_pred, "softmax")
    if logits is not None:
        return ops.softmax_cross_entropy(logits, t, sparse=True, label_smoothing=label_smoothing)
    p = ops.clip(y_pred / ops.sum(y_pred, axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
    log_p = ops.log(p)
    picked = ops.getitem(log_p, (*xp.indices(t.shape, sparse=True), t))
    if label_smoothing:
        n = y_pred.shape[-1]
        return -(1 - label_smoothing) * picked - label_smoothing / n * ops.sum(log_p, axis=-1)
    return -picked


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample values.

    Parameters
    ----------
    reduction : {"sum_over_batch_size", "sum", "none"}
    name : str, optional
    """

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        self.reduction = check_choice(reduction, "reduction", type(self).__name__, REDUCTIONS)
        self.name = name or _snake(type(self).__name__)

    def call(self, y_true, y_pred):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred)
        mask = get_mask(y_pred)
        if self.reduction != "none":
            fused = self._fused_reduced(y_true, y_pred, sample_weight, mask)
            if fused is not None:
                return fused
        values = self.call(y_true, y_pred)
        if not isinstance(values, Tensor):
            values = as_tensor(values, y_pred)
        return reduce_weighted(values, sample_weight, mask, self.reduction, self.name)

    def _fused_reduced(self, y_true, y_pred, sample_weight, mask):
        """The reduced loss computed as one node, or None where this loss has no such path.

        The cross-entropies on logits override it: the weighted reduction then happens inside
        their node, and the backward scales ``p - y`` once (two nodes and a broadcast less per
        training step).
        """
        return None

    def _weights(self, shape, y_pred, sample_weight, mask):
        return _value_weights(shape, y_pred.dtype, y_pred.xp, sample_weight, mask,
                              self.reduction, self.name)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _snake(name):
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i:
            out.append("_")
        out.append(c.lower())
    return "".join(out)


def _value_weights(shape, dtype, xp, sample_weight, mask, reduction, name):
    """What multiplies each per-sample loss: ``sample_weight`` times the mask (None: ones)."""
    weight = None
    if sample_weight is not None:
        w = xp.asarray(_data(sample_weight), dtype=dtype)
        if w.ndim > len(shape) and w.shape[-1] == 1:
            w = w.reshape(w.shape[:-1])
        while w.ndim < len(shape):
            w = w[..., None]
        try:
            w = xp.broadcast_to(w, shape)
        except ValueError:
            raise ValueError(f"The 'sample_weight' parameter of {name} must broadcast to the "
                             f"per-sample losses of shape {shape}. Got sample_weight of shape "
                             f"{_data(sample_weight).shape} instead.") from None
        weight = w
    if mask is not None:
        m = xp.asarray(mask, dtype=dtype)
        if m.shape == tuple(shape):
            if reduction == "sum_over_batch_size":
                # Keras: masked steps count neither in the sum nor in the average.
                m = m * (m.size / max(float(m.sum()), 1.0))
            weight = m if weight is None else weight * m
    return weight


def reduce_weighted(values, sample_weight, mask, reduction, name="loss"):
    """Apply ``sample_weight`` and ``mask`` to per-sample ``values`` and reduce them."""
    weight = _value_weights(values.shape, values.dtype, values.xp, sample_weight, mask,
                            reduction, name)
    if weight is not None:
        values = values * weight
    if reduction == "none":
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    return total / max(values.size, 1)


class LossFunctionWrapper(Loss):
    """Turn a function ``fn(y_true, y_pred, **kwargs)`` of per-sample values into a Loss."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "custom_loss"), reduction=reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self):
        config = {**super().get_config(), **self.fn_kwargs}
        if type(self) is LossFunctionWrapper:  # the named losses know their own function
            config["fn"] = saving.serialize_if_named(self.fn)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = saving.deserialize_keras_object(config["fn"])
            if isinstance(config["fn"], str):  # a bare name: Keras's loss functions
                config["fn"] = saving.lookup_name(config["fn"], _FUNCTIONS, "loss function")
        return cls(**config)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors (quadratic: large errors, outliers included, dominate)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name, reduction=reduction)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors (linear: robust to outliers)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name, reduction=reduction)


class Huber(LossFunctionWrapper):
    """Huber loss (Huber, 1964): quadratic within ``delta``, linear beyond."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        delta = check_float(delta, "delta", "Huber", low=0, low_open=True)
        super().__init__(huber, name=name, reduction=reduction, delta=delta)


class LogCosh(LossFunctionWrapper):
    """``log(cosh(error))``: about ``e^2 / 2`` near zero, ``|e| - log 2`` far away."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh"):
        super().__init__(log_cosh, name=name, reduction=reduction)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy; fused with a preceding sigmoid, or on logits with ``from_logits``."""

    def __init__(self, from_logits=False, label_smoothing=0.0,
                 reduction="sum_over_batch_size", name="binary_crossentropy"):
        label_smoothing = check_float(label_smoothing, "label_smoothing", "BinaryCrossentropy",
                                      low=0, high=1)
        super().__init__(binary_crossentropy, name=name, reduction=reduction,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing)

    def _fused_reduced(self, y_true, y_pred, sample_weight, mask):
        logits = y_pred if self.fn_kwargs["from_logits"] else _fused_logits(y_pred, "sigmoid")
        if logits is None:
            return None
        t = _align(y_true, y_pred, "binary_crossentropy")
        _check_binary_targets(t, "binary_crossentropy")
        weight = self._weights(y_pred.shape[:-1], y_pred, sample_weight, mask)
        # Each sample's loss is the mean over the last axis of the elementwise values.
        if weight is not None:
            weight = weight[..., None]
        if self.reduction == "sum":
            weight = (1.0 if weight is None else weight) / y_pred.shape[-1]
        return ops.sigmoid_cross_entropy(logits, t, self.fn_kwargs["label_smoothing"],
                                         weight=weight, reduction=_OP_REDUCTION[self.reduction])


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy with one-hot targets; fused with a preceding softmax (Keras's trick)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy"):
        label_smoothing = check_float(label_smoothing, "label_smoothing",
                                      "CategoricalCrossentropy", low=0, high=1)
        super().__init__(categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing,
                         axis=axis)

    def _fused_reduced(self, y_true, y_pred, sample_weight, mask):
        kw = self.fn_kwargs
        logits = y_pred if kw["from_logits"] else _fused_logits(y_pred, "softmax")
        if logits is None:
            return None
        t = _align(y_true, y_pred, "categorical_crossentropy")
        axis = kw["axis"] % y_pred.ndim
        shape = y_pred.shape[:axis] + y_pred.shape[axis + 1:]
        return ops.softmax_cross_entropy(logits, t, sparse=False,
                                         label_smoothing=kw["label_smoothing"], axis=axis,
                                         weight=self._weights(shape, y_pred, sample_weight, mask),
                                         reduction=_OP_REDUCTION[self.reduction])


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy with integer labels; fused with a preceding softmax."""

    def __init__(self, from_logits=False, label_smoothing=0.0,
                 reduction="sum_over_batch_size", name="sparse_categorical_crossentropy"):
        label_smoothing = check_float(label_smoothing, "label_smoothing",
                                      "SparseCategoricalCrossentropy", low=0, high=1)
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing)

    def _fused_reduced(self, y_true, y_pred, sample_weight, mask):
        logits = y_pred if self.fn_kwargs["from_logits"] else _fused_logits(y_pred, "softmax")
        if logits is None:
            return None
        t = _sparse_labels(y_true, y_pred)
        return ops.softmax_cross_entropy(
            logits, t, sparse=True, label_smoothing=self.fn_kwargs["label_smoothing"],
            weight=self._weights(t.shape, y_pred, sample_weight, mask),
            reduction=_OP_REDUCTION[self.reduction])


_TABLE = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, Huber, LogCosh,
                                    BinaryCrossentropy, CategoricalCrossentropy,
                                    SparseCategoricalCrossentropy)}
_FUNCTIONS = {f.__name__: f for f in (mean_squared_error, mean_absolute_error, huber, log_cosh,
                                      binary_crossentropy, categorical_crossentropy,
                                      sparse_categorical_crossentropy)}
_MODULE_OBJECTS = {**_CLASSES, **_TABLE, "LossFunctionWrapper": LossFunctionWrapper}
saving.register_builtin_objects("keras.losses", "profond.losses", _MODULE_OBJECTS)


def register(name: str, fn) -> None:
    """Convenience: ``saving.register_keras_serializable(name=name)(fn)`` for a custom loss
    (a ``Loss`` subclass or a function ``fn(y_true, y_pred)``), found by :func:`get` as
    ``name``."""
    saving.register_keras_serializable(name=name)(fn)


def get(identifier) -> Loss:
    """Resolve a Keras name (``"mse"``, ``"sparse_categorical_crossentropy"``), a Loss, a
    serialized dict, or a callable ``fn(y_true, y_pred)`` returning per-sample losses.

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return get(saving.lookup_name(identifier, _MODULE_OBJECTS, "loss"))
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and not isinstance(identifier, type):
        params = inspect.signature(identifier).parameters
        if len(params) < 2:
            raise ValueError("A custom loss must accept (y_true, y_pred).")
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss {identifier!r}: expected a name "
                     f"({sorted(_TABLE)}), a Loss or a callable fn(y_true, y_pred).")


def serialize(loss):
    """Keras's dict for a built-in or registered loss (class or function); anything a loader
    could not name is returned as it is (``model.save`` refuses it).

    Examples
    --------
    >>> from profond import losses
    >>> losses.serialize(losses.MeanSquaredError())["class_name"]
    'MeanSquaredError'
    """
    return saving.serialize_if_named(loss)


def deserialize(config, custom_objects=None) -> Loss:
    """The loss :func:`serialize` described (earlier profond dicts included)."""
    found = saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                            module_objects=_MODULE_OBJECTS)
    if isinstance(found, Loss):
        return found
    if isinstance(config, dict) and callable(found) and not isinstance(found, type):
        inner = config.get("config")
        if isinstance(inner, dict):  # an earlier profond file: the wrapper's own settings
            return LossFunctionWrapper(found, name=inner.get("name"),
                                       reduction=inner.get("reduction", "sum_over_batch_size"))
    return get(found)
