"""Weight initializers with Keras's names, arguments and fan computations.

Glorot (Xavier) suits tanh/sigmoid layers, He suits ReLU (the deck's advice). Every draw comes
from :mod:`profond.random`: the global generator, or a private one when ``seed`` is given (a
seeded initializer returns the same values at every call, as in Keras). Values are drawn on the
CPU in float64 and then cast, so a seed gives the same weights on NumPy and CuPy.

Examples
--------
>>> from profond import initializers
>>> w = initializers.get("he_normal")((784, 256))
>>> w.shape, str(w.dtype)
((784, 256), 'float32')
"""

from __future__ import annotations

import math

import numpy as np

from profond import backend, random
from profond._validation import check_choice, check_float, lookup

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform",
           "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "Identity", "compute_fans",
           "get", "serialize"]


def compute_fans(shape) -> tuple[float, float]:
    """Keras's fan-in and fan-out: for kernels of rank > 2 the receptive field multiplies both.

    Dense ``(in, out)``: ``(in, out)``; Conv2D ``(kh, kw, in, out)``: ``(kh*kw*in, kh*kw*out)``;
    recurrent kernels ``(in, 4u)``: ``(in, 4u)``.
    """
    shape = tuple(shape)
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Initializer:
    """Base class: ``init(shape, dtype=None) -> array`` on the current backend."""

    def __call__(self, shape, dtype=None):
        values = self.sample(tuple(int(s) for s in shape))
        return backend.asarray(values, dtype=dtype or backend.floatx())

    def sample(self, shape):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Seeded(Initializer):
    def __init__(self, seed=None):
        self.seed = seed

    def _rng(self):
        return random.generator(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros."""

    def sample(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones."""

    def sample(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    """Every value equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = check_float(value, "value", "Constant")

    def sample(self, shape):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_Seeded):
    """Normal draws with ``mean`` and ``stddev`` (Keras default 0.05)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = check_float(mean, "mean", "RandomNormal")
        self.stddev = check_float(stddev, "stddev", "RandomNormal", low=0)

    def sample(self, shape):
        return self._rng().normal(self.mean, self.stddev, size=shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    """Uniform draws in ``[minval, maxval)``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = check_float(minval, "minval", "RandomUniform")
        self.maxval = check_float(maxval, "maxval", "RandomUniform")
        if self.maxval < self.minval:
            raise ValueError(f"The 'maxval' parameter of RandomUniform must be >= minval "
                             f"({minval}). Got {maxval!r} instead.")

    def sample(self, shape):
        return self._rng().uniform(self.minval, self.maxval, size=shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng, shape, stddev):
    """Normal draws redrawn until they fall within two standard deviations."""
    out = rng.standard_normal(size=shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(out) > 2
    return out * stddev


class TruncatedNormal(_Seeded):
    """Normal draws truncated at two standard deviations around ``mean``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = check_float(mean, "mean", "TruncatedNormal")
        self.stddev = check_float(stddev, "stddev", "TruncatedNormal", low=0)

    def sample(self, shape):
        return self.mean + _truncated_normal(self._rng(), shape, self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Seeded):
    """Draws whose variance is ``scale / n``, ``n`` the fan-in, fan-out or their average.

    ``distribution``: ``"truncated_normal"`` (std corrected for the truncation by 0.8796...),
    ``"untruncated_normal"`` or ``"uniform"`` (limit ``sqrt(3 * scale / n)``), as in Keras.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        self.scale = check_float(scale, "scale", "VarianceScaling", low=0, low_open=True)
        self.mode = check_choice(mode, "mode", "VarianceScaling", ("fan_in", "fan_out", "fan_avg"))
        self.distribution = check_choice(distribution, "distribution", "VarianceScaling",
                                         ("truncated_normal", "untruncated_normal", "uniform"))

    def sample(self, shape):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            return _truncated_normal(rng, shape, math.sqrt(variance) / 0.87962566103423978)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), size=shape)
        limit = math.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, size=shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _preset(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                            "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform",
                        "Glorot/Xavier uniform (Glorot & Bengio, 2010): limit sqrt(6/(in+out)).")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                       "Glorot/Xavier truncated normal: std sqrt(2/(in+out)).")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform",
                    "He uniform (He et al., 2015): limit sqrt(6/in); suits ReLU.")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal",
                   "He truncated normal (He et al., 2015): std sqrt(2/in); suits ReLU.")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform",
                       "LeCun uniform (LeCun et al., 1998): limit sqrt(3/in); suits SELU.")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal",
                      "LeCun truncated normal: std sqrt(1/in); suits SELU.")


class Orthogonal(_Seeded):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014), from a QR decomposition."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = check_float(gain, "gain", "Orthogonal")

    def sample(self, shape):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2. Got {shape}.")
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        flat = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))  # make the decomposition unique (uniform over O(n))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = check_float(gain, "gain", "Identity")

    def sample(self, shape):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape. Got {shape}.")
        return self.gain * np.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = {cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal,
    Identity)}
_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "xavier_uniform": GlorotUniform,
    "xavier_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity,
}
_ALIASES.update({k.lower(): v for k, v in _CLASSES.items()})


def get(identifier) -> Initializer:
    """Resolve a name (``"he_normal"``), a config dict, an instance or a callable."""
    if isinstance(identifier, Initializer) or (callable(identifier)
                                               and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, str):
        return lookup(identifier, _ALIASES, "initializer")()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = lookup(identifier["class_name"], _ALIASES, "initializer")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    raise ValueError(f"Could not interpret initializer {identifier!r}: expected a name "
                     f"({sorted(_ALIASES)}), a config dict or an Initializer.")


def serialize(init) -> dict:
    return {"class_name": type(init).__name__, "config": init.get_config()}
