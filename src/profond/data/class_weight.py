"""Weights by occurrence: the deck's way to balance classes that the data do not balance.

Examples
--------
>>> import numpy as np
>>> from profond.data import compute_class_weight
>>> compute_class_weight(np.array([0, 0, 0, 1]), "balanced")
{0: 0.6666666666666666, 1: 2.0}
"""

from __future__ import annotations

import numbers

import numpy as np

from profond.training.class_to_sample_weight import balanced_class_weight, labels_of

__all__ = ["compute_class_weight"]


def compute_class_weight(y, class_weight="balanced", classes=None) -> dict:
    """Weight of each class, to pass to ``fit(class_weight=...)``.

    ``"balanced"`` gives class ``c`` the weight ``n_samples / (n_classes * count_c)``, exactly
    scikit-learn's ``compute_class_weight("balanced", ...)``: rare classes weigh more, and every
    class carries the same total weight. Compute it on the training split.

    Parameters
    ----------
    y : array-like
        Class labels: sparse ``(n,)`` or per time step ``(n, t)`` (every step counts), or one-hot
        ``(n, k)`` / ``(n, t, k)`` rows (read by their argmax).
    class_weight : "balanced", dict or None, default "balanced"
        None gives every class weight 1; a dict gives its classes their weight and the other
        classes of ``classes`` weight 1 (as scikit-learn does).
    classes : array-like, optional
        The classes to weigh; by default those present in ``y``. With ``"balanced"`` each must
        occur in ``y``.

    Returns
    -------
    dict
        ``{class: weight}`` with Python ints and floats, in the order of ``classes``.

    Raises
    ------
    ValueError
        For an unknown ``class_weight``, classes of ``y`` missing from ``classes``, or (with
        ``"balanced"``) classes that never occur in ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.data import compute_class_weight
    >>> compute_class_weight(np.array([[1, 0], [1, 0], [0, 1]]), "balanced")
    {0: 0.75, 1: 1.5}
    """
    labels = labels_of(y).reshape(-1)
    present = np.unique(labels)
    classes = present if classes is None else np.unique(np.asarray(classes))
    extra = sorted(set(present.tolist()) - set(classes.tolist()))
    if extra:
        raise ValueError(f"The 'classes' parameter of compute_class_weight must hold every class "
                         f"of y. Got classes={classes.tolist()} instead; y also holds {extra}.")
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError("The 'class_weight' parameter of compute_class_weight must be "
                             f"'balanced', a dict or None. Got {class_weight!r} instead.")
        return balanced_class_weight(labels, classes)
    if class_weight is None:
        return {int(c): 1.0 for c in classes}
    if not isinstance(class_weight, dict):
        raise ValueError("The 'class_weight' parameter of compute_class_weight must be "
                         f"'balanced', a dict or None. Got {class_weight!r} instead.")
    unknown = sorted(set(class_weight) - set(classes.tolist()))
    if unknown:
        raise ValueError(f"The 'class_weight' parameter of compute_class_weight must name only "
                         f"classes among {classes.tolist()}. Got classes {unknown} instead.")
    out = {}
    for c in classes.tolist():
        w = class_weight.get(c, 1.0)
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not np.isfinite(w) or \
                w < 0:
            raise ValueError(f"The 'class_weight' parameter of compute_class_weight must map each "
                             f"class to a finite number >= 0. Got {w!r} for class {c!r} "
                             "instead.")
        out[c] = float(w)
    return out
