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

from profond import backend, random, saving
from profond._validation import check_choice, check_float, check_int

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform",
           "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "Identity", "compute_fans",
           "get", "register", "serialize", "deserialize"]


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple[float, float]:
    """Keras's fan-in and fan-out: for kernels of rank > 2 the receptive field multiplies both.

    Dense ``(in, out)``: ``(in, out)``; Conv2D ``(kh, kw, in, out)``: ``(kh*kw*in, kh*kw*out)``;
    recurrent kernels ``(in, 4u)``: ``(in, 4u)``. Given ``input_axes`` and ``output_axes``
    (what ``EinsumDense`` knows of its kernel), the products of those axes' sizes.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (float(math.prod(shape[a] for a in input_axes)),
                float(math.prod(shape[a] for a in output_axes)))
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
        self.seed = check_int(seed, "seed", type(self).__name__, low=0, allow_none=True)

    def _rng(self):
        return random.generator(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros (Keras's default bias initializer).

    Examples
    --------
    >>> from profond.initializers import Zeros
    >>> Zeros()((2,))
    array([0., 0.], dtype=float32)
    """

    def sample(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    """All ones.

    Examples
    --------
    >>> from profond.initializers import Ones
    >>> Ones()((2,))
    array([1., 1.], dtype=float32)
    """

    def sample(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    """Every value equal to ``value`` (a number, or an array broadcast to the shape).

    Parameters
    ----------
    value : float or array-like, default 0.0

    Examples
    --------
    >>> from profond.initializers import Constant
    >>> Constant(0.5)((3,))
    array([0.5, 0.5, 0.5], dtype=float32)
    """

    def __init__(self, value=0.0):
        if np.ndim(value) == 0:
            self.value = check_float(value, "value", "Constant")
        else:
            arr = np.asarray(value, dtype=np.float64)
            if not np.isfinite(arr).all():
                raise ValueError("The 'value' parameter of Constant must be finite. Got "
                                 f"{value!r} instead.")
            self.value = arr

    def sample(self, shape):
        try:
            return np.broadcast_to(self.value, shape).copy()
        except ValueError:
            raise ValueError(f"The 'shape' parameter of Constant must be a shape that its value "
                             f"of shape {np.shape(self.value)} can fill (broadcast to). Got "
                             f"{shape} instead.") from None

    def get_config(self):
        return {"value": self.value if np.ndim(self.value) == 0 else self.value.tolist()}


class RandomNormal(_Seeded):
    """Normal draws ``N(mean, stddev ** 2)``.

    Parameters
    ----------
    mean : float, default 0.0
    stddev : float >= 0, default 0.05
    seed : int, optional
        With a seed, every call returns the same values (Keras's rule); without, draws come
        from profond's global generator.

    Examples
    --------
    >>> from profond.initializers import RandomNormal
    >>> init = RandomNormal(stddev=1.0, seed=3)
    >>> bool((init((4,)) == init((4,))).all())
    True
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = check_float(mean, "mean", "RandomNormal")
        self.stddev = check_float(stddev, "stddev", "RandomNormal", low=0)

    def sample(self, shape):
        return self._rng().normal(self.mean, self.stddev, size=shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    """Uniform draws in ``[minval, maxval)``.

    Parameters
    ----------
    minval : float, default -0.05
    maxval : float >= minval, default 0.05
    seed : int, optional

    Examples
    --------
    >>> from profond.initializers import RandomUniform
    >>> w = RandomUniform(0.0, 1.0, seed=0)((1000,))
    >>> bool(w.min() >= 0 and w.max() < 1)
    True
    """

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
    """Normal draws ``N(mean, stddev ** 2)`` redrawn until within two ``stddev`` of ``mean``.

    The variance of the result is about ``0.774 * stddev ** 2`` (the truncation removes the
    tails); :class:`VarianceScaling` corrects for that, this class does not (as in Keras).

    Parameters
    ----------
    mean : float, default 0.0
    stddev : float >= 0, default 0.05
    seed : int, optional

    Examples
    --------
    >>> from profond.initializers import TruncatedNormal
    >>> w = TruncatedNormal(stddev=1.0, seed=0)((10000,))
    >>> bool(abs(w).max() <= 2)
    True
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = check_float(mean, "mean", "TruncatedNormal")
        self.stddev = check_float(stddev, "stddev", "TruncatedNormal", low=0)

    def sample(self, shape):
        return self.mean + _truncated_normal(self._rng(), shape, self.stddev)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Seeded):
    """Draws whose variance is ``scale / n``, ``n`` the fan-in, the fan-out or their average
    (fans as :func:`compute_fans` gives them), as in Keras::

        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(1, n)
        truncated_normal:   stddev = sqrt(variance) / 0.87962566103423978, cut at 2 stddev
        untruncated_normal: stddev = sqrt(variance)
        uniform:            limit = sqrt(3 * variance), U(-limit, limit)

    (0.8796... is the standard deviation of a standard normal truncated to [-2, 2], so that
    the truncated draws have exactly the variance asked for.)

    Parameters
    ----------
    scale : float > 0, default 1.0
    mode : {"fan_in", "fan_out", "fan_avg"}, default "fan_in"
    distribution : {"truncated_normal", "untruncated_normal", "uniform"}
        Default ``"truncated_normal"``; ``"normal"`` means ``"truncated_normal"`` (Keras).
    seed : int, optional
    input_axes, output_axes : list of int, optional
        The kernel's axes that count as inputs and as outputs for the fans (both or neither);
        by default Keras's rule for dense and convolution kernels.

    Examples
    --------
    >>> from profond.initializers import VarianceScaling
    >>> init = VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=0)
    >>> bool(abs(init((200, 50))).max() <= (3 * 2.0 / 200) ** 0.5)
    True
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        owner = type(self).__name__
        self.input_axes = _axes(input_axes, "input_axes", owner)
        self.output_axes = _axes(output_axes, "output_axes", owner)
        self.scale = check_float(scale, "scale", owner, low=0, low_open=True)
        self.mode = check_choice(mode, "mode", owner, ("fan_in", "fan_out", "fan_avg"))
        if isinstance(distribution, str):
            distribution = distribution.lower()
            if distribution == "normal":  # Keras's alias
                distribution = "truncated_normal"
        self.distribution = check_choice(distribution, "distribution", owner,
                                         ("truncated_normal", "untruncated_normal", "uniform"))

    def sample(self, shape):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
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
                "seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


def _axes(value, argument, owner):
    if value is None:
        return None
    try:
        axes = [int(a) for a in value]
    except (TypeError, ValueError):
        axes = None
    if axes is None or any(isinstance(a, bool) for a in value):
        raise ValueError(f"The '{argument}' parameter of {owner} must be None or a list of ints "
                         f"(axes of the kernel). Got {value!r} instead.")
    return axes


class _Preset(VarianceScaling):
    """A :class:`VarianceScaling` with fixed arguments; only ``seed`` and the fans' axes are
    configurable."""

    _args: tuple = ()

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(*self._args, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class GlorotUniform(_Preset):
    """Glorot/Xavier uniform (Glorot & Bengio, 2010), for tanh and sigmoid layers::

        limit = sqrt(6 / (fan_in + fan_out));  w ~ U(-limit, limit)    # variance 2 / (in + out)

    ``VarianceScaling(1.0, "fan_avg", "uniform")``; Keras's default kernel initializer.

    Examples
    --------
    >>> from profond.initializers import GlorotUniform
    >>> w = GlorotUniform(seed=0)((300, 500))
    >>> bool(abs(w).max() <= (6 / 800) ** 0.5)
    True
    """

    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Glorot/Xavier normal (Glorot & Bengio, 2010): a normal truncated at two standard
    deviations, rescaled so that the variance is ``2 / (fan_in + fan_out)``.

    ``VarianceScaling(1.0, "fan_avg", "truncated_normal")``.

    Examples
    --------
    >>> from profond.initializers import GlorotNormal
    >>> round(float(GlorotNormal(seed=0)((400, 600)).var() * 500), 1)
    1.0
    """

    _args = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """He uniform (He et al., 2015), for ReLU layers::

        limit = sqrt(6 / fan_in);  w ~ U(-limit, limit)                # variance 2 / fan_in

    ``VarianceScaling(2.0, "fan_in", "uniform")``.

    Examples
    --------
    >>> from profond.initializers import HeUniform
    >>> bool(abs(HeUniform(seed=0)((600, 10))).max() <= 0.1)
    True
    """

    _args = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """He normal (He et al., 2015), for ReLU layers: truncated normal with variance
    ``2 / fan_in``.

    ``VarianceScaling(2.0, "fan_in", "truncated_normal")``.

    Examples
    --------
    >>> from profond.initializers import HeNormal
    >>> round(float(HeNormal(seed=0)((500, 400)).var() * 500 / 2), 1)
    1.0
    """

    _args = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """LeCun uniform (LeCun et al., 1998)::

        limit = sqrt(3 / fan_in);  w ~ U(-limit, limit)                # variance 1 / fan_in

    ``VarianceScaling(1.0, "fan_in", "uniform")``.

    Examples
    --------
    >>> from profond.initializers import LecunUniform
    >>> bool(abs(LecunUniform(seed=0)((300, 10))).max() <= 0.1)
    True
    """

    _args = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """LeCun normal (LeCun et al., 1998; the initializer of SELU networks, Klambauer et al.,
    2017): truncated normal with variance ``1 / fan_in``.

    ``VarianceScaling(1.0, "fan_in", "truncated_normal")``.

    Examples
    --------
    >>> from profond.initializers import LecunNormal
    >>> round(float(LecunNormal(seed=0)((500, 400)).var() * 500), 1)
    1.0
    """

    _args = (1.0, "fan_in", "truncated_normal")


class Orthogonal(_Seeded):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014), Keras's default for
    recurrent kernels.

    The shape is flattened to ``(prod(shape[:-1]), shape[-1])``; the Q factor of the QR
    decomposition of a Gaussian matrix, with the signs of R's diagonal folded in (so that it
    is uniform over orthogonal matrices), fills it: rows orthonormal when there are fewer
    rows than columns, columns orthonormal otherwise.

    Parameters
    ----------
    gain : float, default 1.0
    seed : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.initializers import Orthogonal
    >>> q = Orthogonal(seed=0)((4, 4)).astype("float64")
    >>> bool(np.allclose(q.T @ q, np.eye(4), atol=1e-6))
    True
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = check_float(gain, "gain", "Orthogonal")

    def sample(self, shape):
        if len(shape) < 2:
            raise ValueError(f"The 'shape' parameter of Orthogonal must have rank >= 2. Got "
                             f"{shape} instead.")
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
    """``gain`` times the identity matrix (2-D shapes only; ones on the main diagonal of a
    rectangular one).

    Parameters
    ----------
    gain : float, default 1.0

    Examples
    --------
    >>> from profond.initializers import Identity
    >>> Identity(2.0)((2, 3))
    array([[2., 0., 0.],
           [0., 2., 0.]], dtype=float32)
    """

    def __init__(self, gain=1.0):
        self.gain = check_float(gain, "gain", "Identity")

    def sample(self, shape):
        if len(shape) != 2:
            raise ValueError(f"The 'shape' parameter of Identity must be 2-D. Got {shape} "
                             "instead.")
        return self.gain * np.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}


# Keras's names beside the class names (look-ups ignore case).
_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "xavier_uniform": GlorotUniform,
    "xavier_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity, "uniform": RandomUniform, "normal": RandomNormal, "one": Ones,
    "zero": Zeros, "orthogonal_initializer": Orthogonal, "OrthogonalInitializer": Orthogonal,
}
_MODULE_OBJECTS = {**{c.__name__: c for c in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal,
    Identity, Initializer)}, **_ALIASES}
saving.register_builtin_objects("keras.initializers", "profond.initializers", _MODULE_OBJECTS)


def register(name: str, fn) -> None:
    """Convenience: ``saving.register_keras_serializable(name=name)(fn)`` for a custom
    initializer (a ``Initializer`` subclass or a function), found by :func:`get` as ``name`` (case
    ignored), so layer configs and saved models can name it.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import initializers
    >>> class Fill(initializers.Initializer):
    ...     def __init__(self, value=0.5):
    ...         self.value = value
    ...     def sample(self, shape):
    ...         return np.full(shape, self.value)
    ...     def get_config(self):
    ...         return {"value": self.value}
    >>> initializers.register("Fill", Fill)
    >>> initializers.serialize(Fill(2.0))["registered_name"]
    'Custom>Fill'
    >>> initializers.get("fill")((2,))
    array([0.5, 0.5], dtype=float32)
    """
    saving.register_keras_serializable(name=name)(fn)


def get(identifier):
    """Resolve a name, a serialized dict, a ``Initializer`` (instance or
    class) or any callable.

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.
    """
    return saving.resolve_identifier(identifier, _MODULE_OBJECTS, "initializer", Initializer,
                                     allow_none=False)


def serialize(initializer):
    """What :func:`get` turns back into ``initializer``: Keras's dict for a built-in or registered
    ``Initializer`` or a registered function; a name or None as it is.

    Anything else (a plain function, an unregistered ``Initializer`` subclass) cannot be named and
    is returned as it is: an in-memory ``get_config``/``from_config`` still round-trips, and
    ``model.save`` refuses it with the way out.

    Examples
    --------
    >>> from profond import initializers
    >>> initializers.serialize(initializers.HeNormal(seed=1))
    {'module': 'keras.initializers', 'class_name': 'HeNormal', 'config': {'seed': 1, \
'input_axes': None, 'output_axes': None}, 'registered_name': None}
    >>> def ones(shape, dtype=None):
    ...     return initializers.Ones()(shape, dtype)
    >>> initializers.serialize(ones) is ones
    True
    """
    return saving.serialize_if_named(initializer)


def deserialize(config, custom_objects=None):
    """The initializer :func:`serialize` described (earlier profond dicts too)."""
    return saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                           module_objects=_MODULE_OBJECTS)
