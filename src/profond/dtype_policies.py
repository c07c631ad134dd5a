"""Dtype policies: in which float dtype a layer keeps its weights and computes (Keras 3's).

A layer's ``dtype`` argument takes a dtype name (``"float32"``, ``"float64"``), a NumPy dtype,
``None`` (the default float dtype, :func:`profond.config.floatx`), a :class:`DTypePolicy`, or
the dict Keras 3 writes for one in configs and ``.keras`` files::

    {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float64"},
     "registered_name": None}

The layer creates its weights in the policy's ``variable_dtype`` and casts its floating inputs
to its ``compute_dtype``, as Keras's autocasting does; integer inputs (an ``Embedding``'s
indices) are left as they are. profond computes in float32 or float64 only: Keras's mixed
precision (``"mixed_float16"``, ``"mixed_bfloat16"``) and half-precision policies are refused
with a clear error rather than run in another precision than asked.

Examples
--------
>>> from profond import dtype_policies
>>> policy = dtype_policies.get("float64")
>>> policy
<DTypePolicy "float64">
>>> policy.compute_dtype, policy.variable_dtype
('float64', 'float64')
>>> dtype_policies.serialize(policy)["config"]
{'name': 'float64'}
"""

from __future__ import annotations

import numpy as np

from profond import backend

__all__ = ["DTypePolicy", "FloatDTypePolicy", "get", "serialize", "deserialize"]

SUPPORTED = ("float32", "float64")
# Keras 3.0-3.3 wrote "FloatDTypePolicy"; later versions "DTypePolicy".
_CLASS_NAMES = ("DTypePolicy", "FloatDTypePolicy")


def _expected() -> str:
    return ("'float32', 'float64', a NumPy float32/float64 dtype, None (the default float "
            "dtype), a DTypePolicy of those or its serialized dict (mixed precision and "
            "16-bit floats are not supported: profond computes in float32 or float64)")


def _policy_name(value, param: str, owner: str) -> str:
    """The dtype name of ``value`` (a string or anything ``np.dtype`` takes), or raise."""
    name = value
    if not isinstance(value, str):
        try:
            name = np.dtype(value).name
        except TypeError:
            name = None
    if name not in SUPPORTED:
        raise ValueError(f"The '{param}' parameter of {owner} must be {_expected()}. "
                         f"Got {value!r} instead.")
    return name


class DTypePolicy:
    """The dtypes of a layer's weights and computations (Keras 3's ``DTypePolicy``).

    Parameters
    ----------
    name : {"float32", "float64"} or numpy dtype, optional
        The policy's name; the default float dtype (:func:`profond.config.floatx`) when None.

    Attributes
    ----------
    name : str
    compute_dtype : str
        The dtype of the layer's computations and outputs (its inputs are cast to it).
    variable_dtype : str
        The dtype of the layer's weights (the same as ``compute_dtype``: profond has no mixed
        precision).

    Raises
    ------
    ValueError
        Any other name (mixed precision, 16-bit floats, integers ...).

    Examples
    --------
    >>> from profond.dtype_policies import DTypePolicy
    >>> DTypePolicy("float64").variable_dtype
    'float64'
    >>> DTypePolicy().name
    'float32'
    """

    quantization_mode = None  # Keras's attribute: profond never quantizes

    def __init__(self, name=None):
        self._name = backend.floatx() if name is None else _policy_name(name, "name",
                                                                        "DTypePolicy")

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._name

    @property
    def variable_dtype(self) -> str:
        return self._name

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("DTypePolicy", self._name))

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy  # Keras's earlier name, kept by Keras as an alias


def serialize(policy: DTypePolicy) -> dict:
    """Keras's dict of ``policy``, as Keras 3 writes it in layer configs."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(),
            "registered_name": None}


def deserialize(config: dict) -> DTypePolicy:
    """The policy of a dict :func:`serialize` (or Keras) wrote."""
    return get(config)


def get(identifier, param: str = "dtype", owner: str = "get") -> DTypePolicy:
    """The :class:`DTypePolicy` ``identifier`` names.

    Parameters
    ----------
    identifier : str, numpy dtype, DTypePolicy, dict or None
        See the module's description; None gives the default float dtype's policy.
    param, owner : str
        Named in the error message (a layer passes ``"dtype"`` and its class name).

    Raises
    ------
    ValueError
        An unsupported or unknown policy, named in the one message form.

    Examples
    --------
    >>> from profond import dtype_policies
    >>> dtype_policies.get(None).name
    'float32'
    >>> dtype_policies.get("mixed_float16")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The 'dtype' parameter of get must be 'float32', 'float64', ...
    """
    if isinstance(identifier, DTypePolicy):
        return identifier
    if identifier is None:
        return DTypePolicy()
    if isinstance(identifier, dict):
        inner = identifier.get("config")
        if identifier.get("class_name") in _CLASS_NAMES and isinstance(inner, dict) \
                and set(inner) <= {"name"}:
            return DTypePolicy(_policy_name(inner.get("name"), param, owner))
        raise ValueError(f"The '{param}' parameter of {owner} must be {_expected()}. "
                         f"Got {identifier!r} instead.")
    if isinstance(identifier, (bool, int, float)):  # np.dtype(3) would not fail clearly
        raise ValueError(f"The '{param}' parameter of {owner} must be {_expected()}. "
                         f"Got {identifier!r} instead.")
    return DTypePolicy(_policy_name(identifier, param, owner))
