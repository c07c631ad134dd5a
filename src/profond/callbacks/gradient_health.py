"""``GradientHealth``: per-layer gradient norms each epoch, and a warning when they vanish or
explode.

Backpropagation multiplies, layer after layer, by each layer's Jacobian. When those factors
are small (saturated sigmoids and tanh: the derivative of a sigmoid is at most 1/4) the
gradient reaching the first layers shrinks geometrically with depth and they stop learning
(vanishing gradients); when they are large it grows geometrically and training blows up
(exploding gradients). Both show in the ratio between the gradient norm of the first layer and
that of the last (Glorot & Bengio, 2010, "Understanding the difficulty of training deep
feedforward neural networks").
"""

from __future__ import annotations

import math
import warnings

from profond import backend
from profond._validation import check_float, check_int
from profond.callbacks.base import Callback

__all__ = ["GradientHealth"]


class GradientHealth(Callback):
    """Log each layer's gradient norm every epoch; warn once if gradients vanish or explode.

    Each batch, the L2 norm of every layer's gradient (all its trainable weights together) is
    measured; at the end of the epoch the mean over the batches is added to the logs as
    ``"grad_norm/<layer>"``, and the ratio first-layer / last-layer as ``"grad_norm_ratio"``
    (so ``History``, ``CSVLogger`` and ``history.plot()`` show them).

    Parameters
    ----------
    min_ratio : float, default 1e-3
        Below this first/last ratio, gradients vanish.
    max_ratio : float, default 1e3
        Above it, they explode.
    log : bool, default True
        Add the norms to the epoch logs (the warning works without).
    every : int, default 1
        Measure every ``every`` batches (measuring costs one pass over the gradients).

    Attributes
    ----------
    norms : dict[str, list[float]]
        Per-layer mean gradient norm of each epoch.
    ratios : list[float]
    warned : str or None
        The warning given, if any.

    Examples
    --------
    A deep stack of sigmoids: the gradient reaching the first layer all but vanishes.

    >>> import warnings, numpy as np, profond
    >>> from profond import layers
    >>> from profond.callbacks import GradientHealth
    >>> profond.random.seed(0)
    >>> model = profond.Sequential([layers.Input((8,))] +
    ...                            [layers.Dense(16, activation="sigmoid") for _ in range(8)] +
    ...                            [layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.random.default_rng(0).normal(size=(64, 8))
    >>> health = GradientHealth()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = model.fit(x, x.sum(axis=1), epochs=1, verbose=0, callbacks=[health])
    >>> health.ratios[0] < 1e-3, str(caught[0].message).startswith("Vanishing gradients")
    (True, True)
    """

    def __init__(self, min_ratio=1e-3, max_ratio=1e3, log=True, every=1):
        super().__init__()
        self.min_ratio = check_float(min_ratio, "min_ratio", "GradientHealth", low=0,
                                     low_open=True)
        self.max_ratio = check_float(max_ratio, "max_ratio", "GradientHealth", low=1)
        if self.min_ratio >= self.max_ratio:
            raise ValueError(f"The 'min_ratio' parameter of GradientHealth must be below "
                             f"max_ratio={self.max_ratio}. Got {min_ratio!r} instead.")
        self.log = bool(log)
        self.every = check_int(every, "every", "GradientHealth", low=1)
        self.norms: dict = {}
        self.ratios: list = []
        self.warned = None
        self._sums: dict = {}
        self._count = 0
        self._calls = 0

    def on_train_begin(self, logs=None):
        self.norms, self.ratios, self.warned = {}, [], None

    def get_state(self):
        """The per-epoch norms and ratios so far, and the warning given."""
        return {"norms": {k: list(v) for k, v in self.norms.items()},
                "ratios": list(self.ratios), "warned": self.warned}

    def set_state(self, state):
        self.norms = {k: [float(x) for x in v] for k, v in state["norms"].items()}
        self.ratios = [float(x) for x in state["ratios"]]
        self.warned = state.get("warned")

    def on_epoch_begin(self, epoch, logs=None):
        self._sums, self._count, self._calls = {}, 0, 0

    def on_train_batch_gradients(self, batch, gradients, variables):
        self._calls += 1
        if (self._calls - 1) % self.every:
            return
        squares = {}
        for g, v in zip(gradients, variables):
            if g is None:
                continue
            layer = v.path.rsplit("/", 1)[0] if "/" in getattr(v, "path", "") else v.name
            squares[layer] = squares.get(layer, 0.0) + backend.sum_of_squares(g)
        for layer, sq in squares.items():
            self._sums[layer] = self._sums.get(layer, 0.0) + math.sqrt(sq)
        self._count += 1

    def on_epoch_end(self, epoch, logs=None):
        if not self._count:
            return
        means = {layer: s / self._count for layer, s in self._sums.items()}
        for layer, value in means.items():
            self.norms.setdefault(layer, []).append(value)
        names = list(means)
        first, last = names[0], names[-1]
        ratio = means[first] / means[last] if means[last] > 0 else math.inf
        self.ratios.append(ratio)
        if logs is not None and self.log:
            for layer, value in means.items():
                logs[f"grad_norm/{layer}"] = value
            logs["grad_norm_ratio"] = ratio
        if self.warned is None and len(names) > 1:
            self._maybe_warn(epoch, first, last, means, ratio)

    def _maybe_warn(self, epoch, first, last, means, ratio):
        figures = (f"the gradient norm of the first layer '{first}' ({means[first]:.3g}) is "
                   f"{ratio:.3g} times that of the last layer '{last}' ({means[last]:.3g})")
        if ratio < self.min_ratio:
            self.warned = (f"Vanishing gradients at epoch {epoch + 1}: {figures}, below "
                           f"{self.min_ratio:g}. The first layers barely learn. Try ReLU-like "
                           "activations with He initialisation, fewer layers, batch "
                           "normalisation, or residual connections.")
        elif ratio > self.max_ratio or not math.isfinite(ratio):
            self.warned = (f"Exploding gradients at epoch {epoch + 1}: {figures}, above "
                           f"{self.max_ratio:g}. Standardise the inputs, and try a lower learning "
                           "rate, gradient clipping (clipnorm=1.0), Glorot/He initialisation "
                           "or batch normalisation.")
        if self.warned is not None:
            warnings.warn(self.warned, RuntimeWarning, stacklevel=2)
