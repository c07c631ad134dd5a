"""What ``compile`` sets up: the loss (per output, weighted) and the metrics."""

from __future__ import annotations

from profond import losses as losses_mod
from profond import metrics as metrics_mod
from profond.autograd.tensor import Tensor

__all__ = ["CompiledLoss", "CompiledMetrics", "output_names", "check_metrics"]


def output_names(y_pred, names=None) -> list[str] | None:
    """Names of a model's outputs: dict keys; for lists, the model's ``names`` (a functional
    model's output layers, as Keras names them) or ``output_i``; None for one output."""
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    if isinstance(y_pred, (list, tuple)):
        if names is not None and len(names) == len(y_pred) and len(set(names)) == len(names):
            return list(names)
        return [f"output_{i}" for i in range(len(y_pred))]
    return None


# Specs whose list form is a list of things for every output, not one entry per output.
_LIST_SPECS = ("metrics", "weighted_metrics")


def _per_output(spec, names, what):
    """Spread a per-output spec (single value, list or dict) over the output names."""
    per_output_dict = isinstance(spec, dict) and "class_name" not in spec  # not one's config
    if names is None:
        if per_output_dict or (isinstance(spec, (list, tuple)) and
                                      what not in _LIST_SPECS):
            raise ValueError(f"The model has one output, but {what} was given per output: "
                             f"{spec!r}.")
        return {None: spec}
    if per_output_dict:
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"{what} names unknown outputs {sorted(unknown)}; the model's "
                             f"outputs are {names}.")
        return {n: spec.get(n) for n in names}
    if isinstance(spec, (list, tuple)) and what not in _LIST_SPECS:
        if len(spec) != len(names):
            raise ValueError(f"{what} has {len(spec)} entries for {len(names)} outputs.")
        return dict(zip(names, spec))
    return {n: spec for n in names}


def _one(spec, names):
    """A per-output dict naming a functional model's only output, as that output's entry
    (Keras takes ``loss={"out": "mse"}`` for a model whose one output is layer ``out``)."""
    if names and len(names) == 1 and isinstance(spec, dict) and "class_name" not in spec \
            and set(spec) == set(names):
        return spec[names[0]]
    return spec


def _weight_leaf(sample_weight, name, positions=None):
    """The sample weights of output ``name``: per output (dict by name, list by position), or
    the same array for every output."""
    if name is None or sample_weight is None:
        return sample_weight
    if isinstance(sample_weight, dict):
        if name not in sample_weight and positions and name in positions:
            # class weights of list targets are named by position (training's weighting
            # does not know a functional model's output names)
            return sample_weight.get(f"output_{positions[name]}")
        return sample_weight.get(name)
    if isinstance(sample_weight, (list, tuple)):
        return _leaf(sample_weight, name, positions)
    return sample_weight


def _leaf(structure, name, positions=None):
    """Output ``name``'s entry: by key in a dict, by position (``positions[name]``, else the
    number in ``output_i``) in a list."""
    if name is None:
        return structure
    if isinstance(structure, dict):
        if name not in structure:
            raise ValueError(f"Missing targets for output '{name}'. Got keys {sorted(structure)}.")
        return structure[name]
    idx = positions[name] if positions and name in positions else int(name.split("_")[-1])
    return structure[idx]


class CompiledLoss:
    """Total training loss: ``sum_k loss_weights[k] * loss_k(y_true_k, y_pred_k, w_k)``.

    ``loss_weights`` may also be an array over the last axis of an output, which weights its
    columns (favouring the precision of one output value, as the deck suggests). Sample weights
    ``w_k`` are per output (a dict by output name, a list by position) or one array shared by
    all outputs. With several outputs, each output's loss is averaged over the samples seen
    since :meth:`reset_trackers` and logged as ``{output}_loss`` (before a scalar loss weight;
    column weights included).
    """

    def __init__(self, loss, loss_weights=None, output_names=None):
        self.spec = loss
        self.output_names = output_names  # a functional model's, for its list outputs
        specs = loss.values() if isinstance(loss, dict) and "class_name" not in loss else \
            loss if isinstance(loss, (list, tuple)) else [loss]
        for s in specs:
            if isinstance(s, str):
                losses_mod.get(s)  # an unknown name fails here, at compile, listing valid ones
        self.loss_weights = loss_weights
        self.names = None
        self.positions = {}
        self.losses = None
        self.built = False
        self._tracked = {}

    def build(self, y_pred):
        self.names = output_names(y_pred, self.output_names)
        self.positions = {n: i for i, n in enumerate(self.names or [])}
        spec, weights = self.spec, self.loss_weights
        if self.names is None:
            spec, weights = _one(spec, self.output_names), _one(weights, self.output_names)
        specs = _per_output(spec, self.names, "loss")
        self.losses = {n: (losses_mod.get(s) if s is not None else None)
                       for n, s in specs.items()}
        if all(v is None for v in self.losses.values()):
            raise ValueError("compile() needs a loss for at least one output.")
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
            yt = _leaf(y_true, name, self.positions)
            yp = _leaf(y_pred, name, self.positions)
            sw = _weight_leaf(sample_weight, name, self.positions)
            w = self.weights[name]
            if w is not None and not isinstance(w, (int, float)):
                value = unweighted = self._column_weighted(loss, yt, yp, sw, w)
            else:
                value = unweighted = loss(yt, yp, sw)
                if w != 1.0:
                    value = value * float(w)
            if len(self.losses) > 1:
                self._track(name, unweighted, yp)
            parts[name] = value
            total = value if total is None else total + value
        return total, parts

    def _track(self, name, value, y_pred):
        n = int(y_pred.shape[0]) if getattr(y_pred, "ndim", 0) else 1
        total, count = self._tracked.get(name, (0.0, 0))
        self._tracked[name] = (total + float(value.data) * n, count + n)

    def reset_trackers(self):
        """Start a new average of each output's loss (at each epoch and evaluation)."""
        self._tracked = {}

    def tracker_results(self) -> dict:
        """``{"{output}_loss": mean}`` for each output of a several-output model."""
        return {f"{name}_loss": total / count for name, (total, count) in self._tracked.items()
                if count}

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
    """Metric objects per output, with Keras's names in the logs.

    As in Keras, ``metrics`` ignore sample and class weights (they measure the model on the
    data as they are) and ``weighted_metrics`` apply them; a weighted metric whose name is also
    an unweighted one's is logged with a ``weighted_`` prefix.
    """

    def __init__(self, metrics, loss: CompiledLoss, weighted_metrics=None):
        self.spec = metrics
        self.weighted_spec = weighted_metrics
        self.loss = loss
        self.metrics = None
        self._weighted = set()

    def _build_list(self, spec, name, y_pred):
        spec = spec or []
        if not isinstance(spec, (list, tuple)):
            spec = [spec]
        loss = self.loss.losses.get(name)
        yp = _leaf(y_pred, name, self.loss.positions)
        built = []
        for m in spec:
            if isinstance(m, str) and m.lower() in ("accuracy", "acc"):
                metric = metrics_mod.resolve_accuracy(loss, tuple(yp.shape))
            else:
                metric = metrics_mod.get(m, loss)
            if isinstance(m, str):  # Keras logs a metric under the string the user wrote
                metric.name = m
            built.append(metric)
        return built

    def build(self, y_pred):
        names = self.loss.names
        spec, weighted = self.spec, self.weighted_spec
        if names is None:
            spec, weighted = _one(spec, self.loss.output_names), \
                _one(weighted, self.loss.output_names)
        specs = _per_output(spec or [], names, "metrics")
        weighted = _per_output(weighted or [], names, "weighted_metrics")
        self.metrics = {}
        self._weighted = set()
        for name in specs:
            plain = self._build_list(specs[name], name, y_pred)
            extra = self._build_list(weighted.get(name), name, y_pred)
            taken = {m.name for m in plain}
            for m in extra:
                if m.name in taken:
                    m.name = f"weighted_{m.name}"
                self._weighted.add(id(m))
            self.metrics[name] = plain + extra

    def reset(self):
        self.loss.reset_trackers()
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
            positions = self.loss.positions
            yt = _leaf(y_true, name, positions)
            yp = _leaf(y_pred, name, positions)
            yp = yp.data if isinstance(yp, Tensor) else yp
            sw = _weight_leaf(sample_weight, name, positions)
            for m in ms:
                m.update_state(yt, yp, sw if id(m) in self._weighted else None)

    def results(self) -> dict:
        """Per-output losses (several outputs only), then the metrics."""
        out = self.loss.tracker_results()
        if not self.metrics:
            return out
        for name, ms in self.metrics.items():
            for m in ms:
                value = m.result()  # an array for metrics given several thresholds
                out[m.name if name is None else f"{name}_{m.name}"] = \
                    float(value) if getattr(value, "ndim", 0) == 0 else value
        return out

    @property
    def all(self):
        return [m for ms in (self.metrics or {}).values() for m in ms]


def check_metrics(spec, param):
    """Resolve every metric ``compile`` was given, so that a wrong name fails there and not in
    the first batch of ``fit``."""
    from profond import metrics as metrics_mod

    if spec is None:
        return
    if isinstance(spec, dict) and "class_name" not in spec:  # one list per output name
        for value in spec.values():
            check_metrics(value, param)
        return
    for m in spec if isinstance(spec, (list, tuple)) else [spec]:
        if isinstance(m, (list, tuple)):  # one list per output, by position
            check_metrics(m, param)
        elif not (isinstance(m, str) and m.lower() in ("accuracy", "acc")):
            try:
                metrics_mod.get(m)
            except ValueError as err:
                raise ValueError(f"The '{param}' parameter of compile must hold metric names, "
                                 f"Metric objects or functions. Got {m!r} instead: {err} "
                                 "('accuracy' picks the accuracy that fits the loss.)") from None
