"""``SpectralNormalization`` (Miyato et al., 2018): keep a layer's kernel at spectral norm 1.

The largest singular value ``sigma`` of the kernel (viewed as a matrix
``(prod(shape[:-1]), shape[-1])``) is estimated by power iteration, carried across steps in
the non-trainable ``vector_u`` so one iteration per step is enough; in training the kernel is
divided by it before the layer runs, as Keras does: an assignment, so the gradient of the step
flows to the normalised kernel and not through ``sigma``.
"""

from __future__ import annotations

from profond import initializers
from profond._validation import check_int
from profond.layers.wrappers import Wrapper

__all__ = ["SpectralNormalization"]

_EPSILON = 1e-7  # Keras's backend epsilon: the floor of a norm that normalisation divides by


def _unit(x, xp):
    return x * xp.minimum(1.0 / xp.sqrt(xp.sum(x * x)), 1.0 / _EPSILON)


class SpectralNormalization(Wrapper):
    """Divide the wrapped layer's kernel by its largest singular value at each training step
    (a Lipschitz constraint, used on the discriminators of GANs).

    Parameters
    ----------
    layer : Layer
        A layer with a ``kernel`` (Dense, Conv1D, Conv2D ...) or ``embeddings``.
    power_iterations : int, default 1
        Power-iteration steps per training step.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Dense, SpectralNormalization
    >>> layer = SpectralNormalization(Dense(8), power_iterations=100)
    >>> layer.build((None, 6))
    >>> y = layer(np.ones((2, 6)), training=True)
    >>> round(float(np.linalg.svd(layer.layer.kernel.numpy(), compute_uv=False)[0]), 2)
    1.0
    >>> [w.shape for w in layer.get_weights()]  # kernel, vector_u, bias: Keras's order
    [(6, 8), (1, 8), (8,)]
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        self.power_iterations = check_int(power_iterations, "power_iterations",
                                          "SpectralNormalization", low=1)

    def build(self, input_shape):
        super().build(input_shape)
        target = getattr(self.layer, "kernel", None)
        if target is None:
            target = getattr(self.layer, "embeddings", None)
        if target is None:
            raise ValueError(f"The 'layer' parameter of SpectralNormalization (layer "
                             f"'{self.name}') must be a layer with a 'kernel' or 'embeddings' "
                             f"weight. Got {type(self.layer).__name__} "
                             f"'{self.layer.name}' instead.")
        self._target = target
        self.vector_u = self.add_weight((1, target.shape[-1]),
                                        initializers.TruncatedNormal(stddev=0.02),
                                        dtype=target.data.dtype.name, trainable=False,
                                        name="vector_u")
        self.built = True

    def _all_weights(self, seen):
        # Keras tracks the wrapped kernel as this layer's own (trainable) variable: kernel,
        # vector_u, then the wrapped layer's others.
        if not self.built:
            return super()._all_weights(seen)
        out = []
        for v in (self._target, self.vector_u):
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        return out + self.layer._all_weights(seen)

    def _keras_variable_groups(self):
        # Keras's files hold the wrapped kernel twice: as this layer's own variable (beside
        # vector_u) and in the wrapped layer's group.
        return [("", [self._target, self.vector_u])]

    def normalize_weights(self):
        """Divide the kernel by its estimated spectral norm and keep the new ``vector_u``
        (nothing changes while the kernel is all zeros)."""
        kernel = self._target.data
        xp = self._target.xp
        if not kernel.any():
            return
        w = kernel.reshape(-1, kernel.shape[-1])
        u = self.vector_u.data
        for _ in range(self.power_iterations):
            v = _unit(u @ w.T, xp)
            u = _unit(v @ w, xp)
        sigma = (v @ w @ u.T).reshape(())
        self.vector_u.assign(u)
        self._target.assign(kernel / sigma)

    def call(self, inputs, training=None):
        if training:
            self.normalize_weights()
        return self.layer(inputs, training=training)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
