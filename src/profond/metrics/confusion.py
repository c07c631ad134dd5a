"""Metrics from thresholded confusion counts, as Keras computes them.

Every prediction (each entry of ``y_pred``, all labels together unless ``multi_label``) is
called positive where it is strictly greater than a threshold; a label is positive where it is
non-zero. Weighted counts of true/false positives/negatives are kept per threshold, and
``Precision``, ``Recall`` and the area under the ROC or precision-recall curve (``AUC``) are
read from them. The counts for all thresholds come from one pass: each prediction falls in the
bucket between two sorted thresholds, and a reversed cumulative sum over the buckets gives,
for each threshold, the weight of the predictions above it.

Examples
--------
>>> import numpy as np
>>> from profond import metrics
>>> m = metrics.Precision()
>>> m.update_state([0, 1, 1, 1], [1.0, 0.0, 1.0, 1.0])
>>> round(float(m.result()), 4)
0.6667
>>> auc = metrics.AUC(num_thresholds=3)
>>> auc.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9])
>>> round(float(auc.result()), 4)
0.75
"""

from __future__ import annotations

from profond import backend
from profond._validation import check_choice, check_int
from profond.metrics.base import Metric, _arr

__all__ = ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision",
           "Recall", "AUC", "confusion_counts"]

EPSILON = 1e-7
# Keras's stand-in for minus infinity: predictions outside the top k get it, and so does the
# default threshold when top_k is given (nothing is above it but a kept prediction).
NEG_INF = -1e10


def _same_rank(y_true, y_pred):
    """Keras's squeeze_or_expand: a trailing axis of one removed or added so the ranks agree."""
    if y_true.ndim == y_pred.ndim - 1:
        if y_pred.shape[-1] == 1:
            y_pred = y_pred.reshape(y_pred.shape[:-1])
        else:
            y_true = y_true[..., None]
    elif y_true.ndim == y_pred.ndim + 1:
        if y_true.shape[-1] == 1:
            y_true = y_true.reshape(y_true.shape[:-1])
        else:
            y_pred = y_pred[..., None]
    return y_true, y_pred


def _sample_weights(sample_weight, shape, xp, owner):
    """Per-sample weights broadcast over ``shape`` (one weight for each prediction)."""
    w = xp.asarray(_arr(sample_weight), dtype="float64")
    while 0 < w.ndim < len(shape):
        w = w[..., None]
    if w.ndim == len(shape) + 1 and w.shape[-1] == 1:
        w = w.reshape(w.shape[:-1])
    try:
        return xp.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"The 'sample_weight' parameter of {owner} must broadcast to the "
                         f"predictions of shape {shape}. Got shape {w.shape} instead.") from None


def _keep_top_k(y_pred, k, xp):
    """``y_pred`` with all but the ``k`` largest entries of each row set to NEG_INF."""
    order = xp.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    kept = (*xp.indices(order.shape, sparse=True)[:-1], order)  # plain indexing: CuPy too
    out = xp.full_like(y_pred, NEG_INF)
    out[kept] = y_pred[kept]
    return out


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None,
                     multi_label=False, label_weights=None, owner="confusion_counts"):
    """Weighted true/false positives/negatives of ``y_pred > t`` for each threshold ``t``.

    Parameters
    ----------
    y_true : array-like
        Labels; non-zero is positive.
    y_pred : array-like
        Scores, the same shape as ``y_true`` (a trailing axis of one may differ).
    thresholds : sequence of float
    sample_weight : array-like, optional
        One weight per sample (broadcast over its labels) or per prediction.
    top_k : int, optional
        Only the ``top_k`` largest scores of each row count as predictions.
    class_id : int, optional
        Only column ``class_id`` of the last axis is counted.
    multi_label : bool
        Keep one count per label (last axis) instead of counting all entries together.
    label_weights : array-like of shape (n_labels,), optional
        Weights of the labels (last axis), with ``multi_label=False``.

    Returns
    -------
    dict
        ``{"tp", "fp", "tn", "fn"}``, each of shape ``(n_thresholds,)``, or
        ``(n_thresholds, n_labels)`` with ``multi_label``.

    Examples
    --------
    >>> from profond.metrics.confusion import confusion_counts
    >>> c = confusion_counts([1, 0, 1], [0.8, 0.6, 0.2], [0.5])
    >>> [float(c[k][0]) for k in ("tp", "fp", "tn", "fn")]
    [1.0, 1.0, 0.0, 1.0]
    """
    y_pred = _arr(y_pred)
    xp = backend.get_array_module(y_pred)
    y_pred = xp.asarray(y_pred, dtype="float64")
    y_true = xp.asarray(_arr(y_true))
    y_true, y_pred = _same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"The 'y_true' parameter of {owner} must have the shape of y_pred, "
                         f"{y_pred.shape}. Got shape {y_true.shape} instead.")
    w = None if sample_weight is None else _sample_weights(sample_weight, y_pred.shape, xp,
                                                           owner)
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k, xp)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(f"The 'y_pred' parameter of {owner} must have shape (n_samples, "
                             f"n_classes) when class_id is given. Got shape {y_pred.shape} "
                             "instead.")
        y_true, y_pred = y_true[..., class_id:class_id + 1], y_pred[..., class_id:class_id + 1]
        w = None if w is None else w[..., class_id:class_id + 1]
    if label_weights is not None:
        lw = xp.broadcast_to(xp.asarray(label_weights, dtype="float64"), y_pred.shape)
        w = lw if w is None else w * lw
    positive = (y_true != 0).astype("float64")
    w = xp.ones_like(y_pred) if w is None else w
    n_labels = y_pred.shape[-1] if multi_label else 1
    t = xp.asarray(thresholds, dtype="float64").reshape(-1)
    order = xp.argsort(t, kind="stable")
    n = t.size
    # bucket b holds the predictions above exactly b thresholds (sorted ascending).
    bucket = xp.searchsorted(t[order], y_pred.reshape(-1, n_labels), side="left")
    bucket = (bucket + xp.arange(n_labels) * (n + 1)).reshape(-1)
    size = (n + 1) * n_labels
    pos = xp.bincount(bucket, weights=(w * positive).reshape(-1), minlength=size)
    neg = xp.bincount(bucket, weights=(w * (1 - positive)).reshape(-1), minlength=size)
    pos, neg = pos.reshape(n_labels, n + 1), neg.reshape(n_labels, n + 1)
    # above[:, j]: the weight in buckets j+1..n, the predictions greater than threshold j.
    tp_sorted = xp.cumsum(pos[:, ::-1], axis=1)[:, ::-1][:, 1:]
    fp_sorted = xp.cumsum(neg[:, ::-1], axis=1)[:, ::-1][:, 1:]
    tp, fp = xp.empty_like(tp_sorted), xp.empty_like(fp_sorted)
    tp[:, order], fp[:, order] = tp_sorted, fp_sorted
    fn = pos.sum(axis=1, keepdims=True) - tp
    tn = neg.sum(axis=1, keepdims=True) - fp
    counts = {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
    return {k: (v.T if multi_label else v[0]) for k, v in counts.items()}


def _thresholds(thresholds, default, owner):
    """Keras's parse_init_thresholds: None -> [default]; a number -> [it]; a list as given."""
    if thresholds is None:
        return [default]
    values = [thresholds] if isinstance(thresholds, (int, float)) else list(thresholds)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"The 'thresholds' parameter of {owner} must be a float in [0, 1] "
                             f"or a list of them. Got {thresholds!r} instead.")
    return [float(v) for v in values]


def _divide_no_nan(a, b, xp):
    return xp.where(b == 0, 0.0, a / xp.where(b == 0, 1.0, b))


def _one_or_all(values):
    """A scalar for one threshold, else the array over the thresholds (as Keras returns)."""
    values = backend.to_numpy(values)
    return float(values[0]) if values.size == 1 else values.astype("float32")


class _ConfusionMetric(Metric):
    """Counts per threshold, accumulated over batches (shared by the metrics below)."""

    _default_threshold = 0.5

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        self.top_k = check_int(top_k, "top_k", owner, low=1, allow_none=True)
        self.class_id = check_int(class_id, "class_id", owner, low=0, allow_none=True)
        self.init_thresholds = thresholds
        default = NEG_INF if self.top_k is not None else self._default_threshold
        self.thresholds = _thresholds(thresholds, default, owner)
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.counts = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                  top_k=self.top_k, class_id=self.class_id,
                                  owner=type(self).__name__)
        if self.counts is None:
            self.counts = counts
        else:
            for k in counts:
                self.counts[k] = self.counts[k] + counts[k]

    def _count(self, key):
        if self.counts is None:
            return backend.xp().zeros(len(self.thresholds))
        return self.counts[key]

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class _ConditionCount(_ConfusionMetric):
    _key = ""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, name=name or self._default_name, dtype=dtype)

    def result(self):
        return _one_or_all(self._count(self._key))


class TruePositives(_ConditionCount):
    """Weighted count of positive labels predicted above the threshold (default 0.5)."""

    _key, _default_name = "tp", "true_positives"


class FalsePositives(_ConditionCount):
    """Weighted count of negative labels predicted above the threshold (default 0.5)."""

    _key, _default_name = "fp", "false_positives"


class TrueNegatives(_ConditionCount):
    """Weighted count of negative labels predicted at or below the threshold (default 0.5)."""

    _key, _default_name = "tn", "true_negatives"


class FalseNegatives(_ConditionCount):
    """Weighted count of positive labels predicted at or below the threshold (default 0.5)."""

    _key, _default_name = "fn", "false_negatives"


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id,
                         name=name or self._default_name, dtype=dtype)

    def result(self):
        tp = self._count("tp")
        xp = backend.get_array_module(tp)
        return _one_or_all(_divide_no_nan(tp, tp + self._count(self._other), xp))

    def get_config(self):
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)``: the share of predicted positives that are positive.

    Parameters
    ----------
    thresholds : float or list of float in [0, 1], optional
        A prediction is positive above it (default 0.5; with ``top_k``, any kept score). A list
        gives one precision per threshold.
    top_k : int, optional
        Only the ``top_k`` largest scores of each sample are predictions.
    class_id : int, optional
        Measure the binary problem of this class (column of the last axis) alone.
    """

    _default_name, _other = "precision", "fp"


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)``: the share of positives predicted positive (arguments as
    :class:`Precision`)."""

    _default_name, _other = "recall", "fn"


_CURVES = ("ROC", "PR")
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(Metric):
    """Area under the ROC or precision-recall curve, a Riemann sum over thresholded counts.

    Parameters
    ----------
    num_thresholds : int, default 200
        Evenly spaced thresholds in [0, 1], the ends moved out by 1e-7 so that scores of
        exactly 0 and 1 fall inside.
    curve : {"ROC", "PR"}
    summation_method : {"interpolation", "minoring", "majoring"}
        Heights of the rectangles: mean of the two ends (for PR, Davis & Goadrich's
        interpolation of precision, 2006), their minimum, or their maximum.
    thresholds : list of float, optional
        Thresholds to use instead of ``num_thresholds`` evenly spaced ones.
    multi_label : bool
        One curve per label (last axis), averaged (weighted by ``label_weights``); otherwise
        all entries are counted together.
    num_labels : int, optional
        Only with ``multi_label``; the number of labels (otherwise read from the first batch).
    label_weights : array-like, optional
        Weights of the labels in the counts (or in the average with ``multi_label``).
    from_logits : bool
        Predictions are logits: a sigmoid is applied first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        curve = curve.upper() if isinstance(curve, str) else curve
        self.curve = check_choice(curve, "curve", "AUC", _CURVES)
        method = summation_method.lower() if isinstance(summation_method, str) else \
            summation_method
        self.summation_method = check_choice(method, "summation_method", "AUC", _SUMMATIONS)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_thresholds(thresholds, 0.5, "AUC"))
        else:
            num_thresholds = check_int(num_thresholds, "num_thresholds", "AUC", low=2)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = len(inner) + 2
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.multi_label = bool(multi_label)
        if num_labels is not None and not self.multi_label:
            raise ValueError("The 'num_labels' parameter of AUC must be None when multi_label "
                             f"is False. Got {num_labels!r} instead.")
        self.num_labels = check_int(num_labels, "num_labels", "AUC", low=1, allow_none=True)
        self.label_weights = None if label_weights is None else \
            [float(v) for v in label_weights]
        self.from_logits = bool(from_logits)
        super().__init__(name=name or "auc", dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.counts = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _arr(y_pred)
        xp = backend.get_array_module(y_pred)
        y_pred = xp.asarray(y_pred, dtype="float64")
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError("The 'y_pred' parameter of AUC must have rank 2, (n_samples, "
                             f"n_labels), when multi_label is True. Got shape {y_pred.shape} "
                             "instead.")
        if self.from_logits:
            y_pred = 0.5 * (1.0 + xp.tanh(0.5 * y_pred))  # the sigmoid, without overflow
        counts = confusion_counts(
            y_true, y_pred, self.thresholds, sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights, owner="AUC")
        if self.counts is None:
            self.counts = counts
        else:
            for k in counts:
                self.counts[k] = self.counts[k] + counts[k]

    def _by_label(self, values, xp):
        """The area: the sum over threshold intervals, then the average over labels."""
        areas = values.sum(axis=0)
        if not self.multi_label:
            return float(areas)
        if self.label_weights is None:
            return float(areas.mean())
        lw = xp.asarray(self.label_weights, dtype="float64")
        return float(_divide_no_nan(xp.sum(areas * lw), xp.sum(lw), xp))

    def _interpolated_pr(self, c, xp):
        """Davis & Goadrich (2006): precision interpolated along TP as P = TP + FP varies
        linearly between two thresholds, integrated in closed form."""
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, xp.maximum(dp, 0), xp)
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, _divide_no_nan(p[:-1], xp.maximum(p[1:], 0), xp), 1.0)
        increments = _divide_no_nan(slope * (dtp + intercept * xp.log(ratio)),
                                    xp.maximum(tp[1:] + fn[1:], 0), xp)
        return self._by_label(increments, xp)

    def result(self):
        if self.counts is None:
            return 0.0
        c = self.counts
        xp = backend.get_array_module(c["tp"])
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr(c, xp)
        recall = _divide_no_nan(c["tp"], c["tp"] + c["fn"], xp)
        if self.curve == "ROC":
            x, y = _divide_no_nan(c["fp"], c["fp"] + c["tn"], xp), recall
        else:
            x, y = recall, _divide_no_nan(c["tp"], c["tp"] + c["fp"], xp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = xp.minimum(y[:-1], y[1:])
        else:
            heights = xp.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights, xp)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype,
                  "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": self.label_weights,
                  "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
