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
from profond.autograd.function import as_tensor
from profond.autograd.shape import permute
from profond.autograd.tensor import Tensor
from profond.layers.masks import get_mask, set_mask
from profond.ops.loss_reduction import (
    _OP_REDUCTION,
    REDUCTIONS,
    _canonical,
    _value_weights,
    _weight_total,
    reduce_weighted,
)

__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "mean_absolute_percentage_error", "Huber",
           "LogCosh", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "mean_squared_error", "mean_absolute_error", "huber",
           "log_cosh", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "get", "serialize", "deserialize", "register"]

EPSILON = 1e-7
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


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` over the last axis
    (Keras's; the floor keeps zero targets finite)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(_align(y_true, y_pred, "mean_absolute_percentage_error"))
    scale = ops.maximum(ops.abs(y_true), EPSILON)
    return 100.0 * ops.mean(ops.abs(y_pred - y_true) / scale, axis=-1)


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


def _class_axis(axis, y_pred, owner):
    """``axis`` as a non-negative index into ``y_pred``'s axes."""
    if isinstance(axis, bool) or not isinstance(axis, int) or \
            not -y_pred.ndim <= axis < y_pred.ndim:
        raise ValueError(f"The 'axis' parameter of {owner} must be an int in "
                         f"[{-y_pred.ndim}, {y_pred.ndim - 1}] for y_pred of shape "
                         f"{y_pred.shape}. Got {axis!r} instead.")
    return axis % y_pred.ndim


def _sparse_labels(y_true, y_pred, axis=-1, ignore_class=None):
    """Integer labels of ``y_pred``'s shape without the class axis, checked against the number
    of classes, and where ``ignore_class`` is given, the mask of the labels kept (the ignored
    ones become 0, a valid index, and are masked out)."""
    owner = "sparse_categorical_crossentropy"
    _check_has_last_axis(y_pred, owner)
    ax = _class_axis(axis, y_pred, owner)
    xp = y_pred.xp
    t = xp.asarray(_data(y_true))
    if t.ndim == y_pred.ndim and t.shape[ax] == 1:
        t = t.reshape(t.shape[:ax] + t.shape[ax + 1:])
    shape = y_pred.shape[:ax] + y_pred.shape[ax + 1:]
    if t.shape != shape:
        raise ValueError(f"The 'y_true' parameter of {owner} must hold labels of shape {shape} "
                         f"for y_pred of shape {y_pred.shape} (classes on axis {axis}). Got "
                         f"y_true of shape {t.shape} instead.")
    if ignore_class is None:
        return _check_labels(t, y_pred.shape[ax], xp), None
    keep = t != ignore_class
    t = _check_labels(xp.where(keep, t, 0), y_pred.shape[ax], xp)
    return t, keep


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1, label_smoothing=0.0):
    """Per-sample cross-entropy with integer labels of ``y_pred``'s shape without ``axis``.

    Parameters
    ----------
    y_true : array-like of int
        Class indices (a trailing axis of one is allowed).
    y_pred : Tensor
        Probabilities, or logits with ``from_logits=True``; classes on ``axis``.
    ignore_class : int, optional
        A label (e.g. -1 or 255 for "void" pixels) whose entries give a loss of 0 and are
        masked out of the reduction (the loss object averages over the others).
    axis : int
        The class axis of ``y_pred``.
    label_smoothing : float in [0, 1]
        profond's addition: mix the one-hot target with the uniform distribution.

    Examples
    --------
    >>> import profond
    >>> from profond.losses import sparse_categorical_crossentropy
    >>> p = profond.tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> [round(float(v), 4) for v in sparse_categorical_crossentropy([1, -1], p, ignore_class=-1)]
    [0.0513, 0.0]
    """
    y_pred = as_tensor(y_pred)
    xp = y_pred.xp
    t, keep = _sparse_labels(y_true, y_pred, axis, ignore_class)
    ax = axis % y_pred.ndim
    logits = y_pred if from_logits else (_fused_logits(y_pred, "softmax")
                                          if ax == y_pred.ndim - 1 else None)
    if logits is not None:
        values = ops.softmax_cross_entropy(logits, t, sparse=True,
                                           label_smoothing=label_smoothing, axis=ax)
    else:
        if ax != y_pred.ndim - 1:  # the class axis last, as the indexing below expects
            y_pred = permute(y_pred, [i for i in range(y_pred.ndim) if i != ax] + [ax])
        p = ops.clip(y_pred / ops.sum(y_pred, axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
        log_p = ops.log(p)
        picked = ops.getitem(log_p, (*xp.indices(t.shape, sparse=True), t))
        values = -picked
        if label_smoothing:
            n = y_pred.shape[-1]
            values = (1 - label_smoothing) * values - label_smoothing / n * ops.sum(log_p, axis=-1)
    if keep is not None:
        values = values * keep.astype(values.dtype)
        set_mask(values, keep)
    return values


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample values.

    Parameters
    ----------
    reduction : {"sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight"}
        Keras 3's: the weighted sum divided by the number of values (``"mean"`` is the same),
        the weighted sum, the values themselves (``None`` too), or the weighted sum divided by
        the sum of the weights (the number of values when there are none).
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
        if _canonical(self.reduction) != "none":
            fused = self._fused_reduced(y_true, y_pred, sample_weight, mask)
            if fused is not None:
                return fused
        values = self.call(y_true, y_pred)
        if not isinstance(values, Tensor):
            values = as_tensor(values, y_pred)
        values_mask = get_mask(values)  # entries the loss itself leaves out (ignore_class)
        if values_mask is not None:
            mask = values_mask if mask is None or mask.shape != values_mask.shape else \
                mask & values_mask
        return reduce_weighted(values, sample_weight, mask, self.reduction, self.name)

    def _fused_reduced(self, y_true, y_pred, sample_weight, mask):
        """The reduced loss computed as one node, or None where this loss has no such path.

        The cross-entropies on logits override it: the weighted reduction then happens inside
        their node, and the backward scales ``p - y`` once (two nodes and a broadcast less per
        training step).
        """
        return None

    def _weights(self, shape, y_pred, sample_weight, mask):
        """The weight of each per-sample value, and the op's reduction that applies it."""
        reduction = _canonical(self.reduction)
        weight = _value_weights(shape, y_pred.dtype, y_pred.xp, sample_weight, mask,
                                reduction, self.name)
        if reduction != "mean_with_sample_weight":
            return weight, _OP_REDUCTION[reduction]
        if weight is None:
            return None, "mean"
        total = _weight_total(weight, sample_weight, mask, shape)
        return (weight / total if total else weight * 0.0), "sum"

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


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean of absolute errors relative to the targets, in percent."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction)


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
        weight, reduction = self._weights(y_pred.shape[:-1], y_pred, sample_weight, mask)
        # Each sample's loss is the mean over the last axis of the elementwise values.
        if weight is not None:
            weight = weight[..., None]
        if reduction == "sum":
            weight = (1.0 if weight is None else weight) / y_pred.shape[-1]
        return ops.sigmoid_cross_entropy(logits, t, self.fn_kwargs["label_smoothing"],
                                         weight=weight, reduction=reduction)


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
        weight, reduction = self._weights(shape, y_pred, sample_weight, mask)
        return ops.softmax_cross_entropy(logits, t, sparse=False,
                                         label_smoothing=kw["label_smoothing"], axis=axis,
                                         weight=weight, reduction=reduction)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy with integer labels; fused with a preceding softmax.

    ``ignore_class`` (e.g. a "void" label) leaves its entries out: their loss is 0 and the
    ``sum_over_batch_size`` average runs over the other entries, as in Keras. ``axis`` is the
    class axis of ``y_pred``. ``label_smoothing`` is profond's addition (Keras's sparse loss
    has none).
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", label_smoothing=0.0):
        owner = "SparseCategoricalCrossentropy"
        label_smoothing = check_float(label_smoothing, "label_smoothing", owner, low=0, high=1)
        if ignore_class is not None and (isinstance(ignore_class, bool) or
                                         not isinstance(ignore_class, int)):
            raise ValueError(f"The 'ignore_class' parameter of {owner} must be an int or None. "
                             f"Got {ignore_class!r} instead.")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"The 'axis' parameter of {owner} must be an int. Got {axis!r} "
                             "instead.")
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=bool(from_logits), ignore_class=ignore_class, axis=axis,
                         label_smoothing=label_smoothing)

    def _fused_reduced(self, y_true, y_pred, sample_weight, mask):
        kw = self.fn_kwargs
        logits = y_pred if kw["from_logits"] else _fused_logits(y_pred, "softmax")
        if logits is None:
            return None
        t, keep = _sparse_labels(y_true, y_pred, kw["axis"], kw["ignore_class"])
        if keep is not None:
            mask = keep if mask is None or mask.shape != keep.shape else mask & keep
        weight, reduction = self._weights(t.shape, y_pred, sample_weight, mask)
        return ops.softmax_cross_entropy(
            logits, t, sparse=True, label_smoothing=kw["label_smoothing"],
            axis=kw["axis"] % y_pred.ndim, weight=weight, reduction=reduction)


_TABLE = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError,
                                    MeanAbsolutePercentageError, Huber, LogCosh,
                                    BinaryCrossentropy, CategoricalCrossentropy,
                                    SparseCategoricalCrossentropy)}
_FUNCTIONS = {f.__name__: f for f in (mean_squared_error, mean_absolute_error,
                                      mean_absolute_percentage_error, huber, log_cosh,
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
