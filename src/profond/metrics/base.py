"""The metric contract: ``update_state(y_true, y_pred, sample_weight=None)`` accumulates,
``result()`` reads, ``reset_state()`` starts over (Keras's), and the two mean metrics most
others are made of."""

from __future__ import annotations

from profond import backend, saving
from profond.autograd.tensor import Tensor, Variable

__all__ = ["Metric", "Mean", "MeanMetricWrapper"]


def _arr(x, xp=None):
    x = x.data if isinstance(x, Tensor) else x
    return x if xp is None else xp.asarray(x)


class Metric:
    """Base class of stateful metrics.

    A subclass accumulates in ``update_state`` and reads in ``result``. Its state is either
    plain attributes (the built-in metrics keep a running ``total`` and ``count``) or, as in
    Keras, variables made in ``__init__`` with :meth:`add_variable` and changed with
    ``assign`` / ``assign_add``; the default :meth:`reset_state` zeroes both.

    Examples
    --------
    >>> from profond import metrics, ops
    >>> class Total(metrics.Metric):
    ...     def __init__(self, name="total", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.sum = self.add_variable(shape=(), initializer="zeros", name="sum")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.sum.assign_add(ops.sum(y_pred))
    ...     def result(self):
    ...         return self.sum
    >>> m = Total()
    >>> float(m([0, 0], [1.0, 2.5]))
    3.5
    >>> m.reset_state(); float(m.result())
    0.0
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or type(self).__name__.lower()
        self.dtype = dtype
        self._variables = []
        # The base's own state, not a call to reset_state: Keras calls no subclass method
        # here, and a subclass's reset_state may use variables it makes after this.
        self.total = 0.0
        self.count = 0.0

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A non-trainable variable of the metric's state (Keras's ``Metric.add_variable``),
        set back to zeros by the default :meth:`reset_state`. ``aggregation`` is accepted for
        Keras's signature (it matters only to distributed Keras)."""
        from profond import initializers

        shape = tuple(shape)
        values = initializers.get(initializer)(shape)
        values = values.data if isinstance(values, Tensor) else values
        variable = Variable(values, name=name or f"variable_{len(self._variables)}",
                            trainable=False, dtype=dtype or self.dtype)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None):
        """Keras's older name of :meth:`add_variable`."""
        return self.add_variable(shape, initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        return list(self._variables)

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0
        for variable in self._variables:
            variable.assign(variable.xp.zeros(variable.shape, dtype=variable.data.dtype))

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):  # pragma: no cover
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Update the state with one batch and return the result, as Keras's metrics do."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

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
