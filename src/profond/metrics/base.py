"""The metric contract: ``update_state(y_true, y_pred, sample_weight=None)`` accumulates,
``result()`` reads, ``reset_state()`` starts over (Keras's), and the two mean metrics most
others are made of."""

from __future__ import annotations

from profond import backend, saving
from profond.autograd.tensor import Tensor

__all__ = ["Metric", "Mean", "MeanMetricWrapper"]


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
