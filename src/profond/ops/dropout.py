"""Inverted dropout (Srivastava et al., 2014), one node: ``x * mask / (1 - rate)``.

Each element is kept with probability ``1 - rate`` and scaled by ``1 / (1 - rate)`` when kept,
so the expected output equals the input and inference needs no rescaling: the layer simply
skips dropout outside training. The mask is drawn from profond's seeded generator
(:mod:`profond.random`), so ``profond.random.seed(n)`` reproduces a run.
"""

from __future__ import annotations

from profond import random as prandom
from profond._validation import check_float
from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor, make

__all__ = ["dropout"]


def dropout(x, rate: float, noise_shape=None, seed=None) -> Tensor:
    """Zero each element with probability ``rate`` and scale the survivors by ``1/(1-rate)``.

    Parameters
    ----------
    x : Tensor
    rate : float in [0, 1)
        Fraction of the elements to drop.
    noise_shape : tuple of int, optional
        Shape of the mask, broadcast against ``x`` (a 1 shares one draw along that axis:
        ``(batch, 1, 1, channels)`` drops whole feature maps, as ``SpatialDropout2D``). ``None``
        entries take ``x``'s size.
    seed : int or numpy.random.Generator, optional
        ``None`` draws from profond's global generator; an int gives the same mask every call;
        a ``Generator`` (what the ``Dropout`` layer keeps when given a seed) continues its stream.

    Returns
    -------
    Tensor, same shape as ``x``

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> y = ops.dropout(profond.tensor(np.ones((2, 4))), 0.5, seed=0)
    >>> sorted(set(y.numpy().ravel().tolist()))
    [0.0, 2.0]
    """
    x = as_tensor(x)
    rate = check_float(rate, "rate", "dropout", low=0, high=1, high_open=True)
    if rate == 0.0:
        return x
    if noise_shape is None:
        shape = x.shape
    else:
        noise_shape = tuple(noise_shape)
        if len(noise_shape) != x.ndim:
            raise ValueError(f"The 'noise_shape' parameter of dropout must have one entry per "
                             f"axis of the input of shape {tuple(x.shape)}. Got {noise_shape!r} "
                             "instead.")
        shape = tuple(s if d is None else int(d) for d, s in zip(noise_shape, x.shape))
        if any(d not in (1, s) for d, s in zip(shape, x.shape)):
            raise ValueError(f"The 'noise_shape' parameter of dropout must broadcast against the "
                             f"input of shape {tuple(x.shape)} (each entry 1 or the input's "
                             f"size). Got {noise_shape!r} instead.")
    xp = x.xp
    dtype = x.data.dtype if x.data.dtype.kind == "f" else "float32"
    rng = prandom.generator(seed)
    keep = rng.random(shape, dtype="float32") >= rate
    mask = xp.asarray(keep, dtype=dtype)
    mask *= 1.0 / (1.0 - rate)
    out = x.data * mask
    return make(out, (x,), lambda g: (g * mask,))
