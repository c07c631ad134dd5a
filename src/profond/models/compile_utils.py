"""What ``compile`` sets up: the loss (per output, weighted) and the metrics."""

from __future__ import annotations

from profond import losses as losses_mod
from profond import metrics as metrics_mod
from profond.autograd.tensor import Tensor
from profond.training.structure import flatten

__all__ = ["CompiledLoss", "CompiledMetrics", "output_names"]


def output_names(y_pred) -> list[str] | None:
    """Names of a model's outputs: dict keys, ``output_i`` for lists, None for one output."""
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    if isinstance(y_pred, (list, tuple)):
        return [f"output_{i}" for i in range(len(y_pred))]
    return None


def _per_output(spec, names, what):
    """Spread a per-output spec (single value, list or dict) over the output names."""
    if names is None:
        if isinstance(spec, dict) or (isinstance(spec, (list, tuple)) and what != "metrics"):
            raise ValueError(f"The model has one output, but {what} was given per output: "
                             f"{spec!r}.")
        return {None: spec}
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"{what} names unknown outputs {sorted(unknown)}; the model's "
                             f"outputs are {names}.")
        return {n: spec.get(n) for n in names}
    if isinstance(spec, (list, tuple)) and what != "metrics":
        if len(spec) != len(names):
            raise ValueError(f"{what} has {len(spec)} entries for {len(names)} outputs.")
        return dict(zip(names, spec))
    return {n: spec for n in names}


def _leaf(structure, name):
    if name is None:
        return structure
    if isinstance(structure, dict):
        if name not in structure:
            raise ValueError(f"Missing targets for output '{name}'. Got keys {sorted(structure)}.")
        return structure[name]
    idx = int(name.split("_")[-1])
    return structure[idx]


class CompiledLoss:
    """Total training loss: ``sum_k loss_weights[k] * loss_k(y_true_k, y_pred_k, w_k)``.

    ``loss_weights`` may also be an array over the last axis of a single output, which weights
    its columns (favouring the precision of one output value, as the deck suggests).
    """

    def __init__(self, loss, loss_weights=None):
        self.spec = loss
        self.loss_weights = loss_weights
        self.names = None
        self.losses = None
        self.built = False

    def build(self, y_pred):
        self.names = output_names(y_pred)
        specs = _per_output(self.spec, self.names, "loss")
        self.losses = {n: (losses_mod.get(s) if s is not None else None)
                       for n, s in specs.items()}
        if all(v is None for v in self.losses.values()):
            raise ValueError("compile() needs a loss for at least one output.")
        weights = self.loss_weights
        if weights is None:
            self.weights = {n: 1.0 for n in self.losses}
        elif self.names is None:
            self.weights = {None: weights}
        else:
            self.weights = _per_output(weights, self.names, "loss_weights")
            self.weights = {n: (1.0 if w is None else w) for n, w in self.weights.items()}
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Return ``(total, {output_name: loss})`` as tensors."""
        if not self.built:
            self.build(y_pred)
        total = None
        parts = {}
        for name, loss in self.losses.items():
            if loss is None:
                continue
            yt = _leaf(y_true, name)
            yp = _leaf(y_pred, name)
            sw = sample_weight.get(name) if isinstance(sample_weight, dict) and \
                name is not None else sample_weight
            w = self.weights[name]
            if w is not None and not isinstance(w, (int, float)):
                value = self._column_weighted(loss, yt, yp, sw, w)
            else:
                value = loss(yt, yp, sw)
                if w != 1.0:
                    value = value * float(w)
            parts[name] = value
            total = value if total is None else total + value
        return total, parts

    @staticmethod
    def _column_weighted(loss, yt, yp, sw, w):
        """A loss weighted per output column: the mean of the column losses times weights."""
        import numpy as np

        from profond import ops

        w = np.asarray(w, dtype="float64")
        if w.shape != (yp.shape[-1],):
            raise ValueError(f"loss_weights per column must have shape ({yp.shape[-1]},), one "
                             f"weight per output column. Got shape {w.shape}.")
        yt_data = yt.data if isinstance(yt, Tensor) else yt
        total = None
        for j in range(yp.shape[-1]):
            if w[j] == 0:
                continue
            term = loss(yt_data[..., j:j + 1], ops.getitem(yp, (Ellipsis, slice(j, j + 1))),
                        sw) * float(w[j])
            total = term if total is None else total + term
        return total * (1.0 / yp.shape[-1])


class CompiledMetrics:
    """Metric objects per output, with Keras's names in the logs."""

    def __init__(self, metrics, loss: CompiledLoss):
        self.spec = metrics
        self.loss = loss
        self.metrics = None

    def build(self, y_pred):
        names = self.loss.names
        specs = _per_output(self.spec or [], names, "metrics")
        self.metrics = {}
        for name, spec in specs.items():
            spec = spec or []
            if not isinstance(spec, (list, tuple)):
                spec = [spec]
            loss = self.loss.losses.get(name)
            yp = _leaf(y_pred, name)
            built = []
            for m in spec:
                if isinstance(m, str) and m.lower() in ("accuracy", "acc"):
                    metric = metrics_mod.resolve_accuracy(loss, tuple(yp.shape))
                else:
                    metric = metrics_mod.get(m, loss)
                built.append(metric)
            self.metrics[name] = built

    def reset(self):
        if self.metrics:
            for ms in self.metrics.values():
                for m in ms:
                    m.reset_state()

    def update(self, y_true, y_pred, sample_weight=None):
        if self.metrics is None:
            self.build(y_pred)
        for name, ms in self.metrics.items():
            if not ms:
                continue
            yt = _leaf(y_true, name)
            yp = _leaf(y_pred, name)
            yp = yp.data if isinstance(yp, Tensor) else yp
            sw = sample_weight.get(name) if isinstance(sample_weight, dict) and \
                name is not None else sample_weight
            for m in ms:
                m.update_state(yt, yp, sw)

    def results(self) -> dict:
        out = {}
        if not self.metrics:
            return out
        for name, ms in self.metrics.items():
            for m in ms:
                out[m.name if name is None else f"{name}_{m.name}"] = float(m.result())
        return out

    @property
    def all(self):
        return [m for ms in (self.metrics or {}).values() for m in ms]


def flat_len(x):
    return len(flatten(x))
