"""Global settings, under Keras 3's names (``keras.config``).

The default float dtype is the dtype of new tensors built from Python numbers or float data,
and of the weights and computations of every layer created without a ``dtype``. It lives in
:mod:`profond.backend`; these are Keras's names for it.

Examples
--------
>>> from profond import config
>>> config.floatx()
'float32'
>>> config.set_floatx("float64")
>>> config.floatx()
'float64'
>>> config.set_floatx("float32")
"""

from __future__ import annotations

from profond import backend

__all__ = ["floatx", "set_floatx"]


def floatx() -> str:
    """The default float dtype: ``"float32"`` unless changed with :func:`set_floatx`."""
    return backend.floatx()


def set_floatx(value) -> None:
    """Set the default float dtype, ``"float32"`` or ``"float64"`` (Keras's ``set_floatx``).

    Layers created without a ``dtype`` afterwards keep their weights and compute in it.
    :func:`profond.backend.floatx_scope` sets it for a block only.

    Raises
    ------
    ValueError
        Any other dtype (profond computes in float32 or float64).
    """
    backend.set_floatx(value)
