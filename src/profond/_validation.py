"""Argument checks with one message form (scikit-learn's):

    The 'units' parameter of Dense must be an int in [1, inf). Got 0 instead.
"""

from __future__ import annotations

import importlib
import numbers

__all__ = ["check_int", "check_float", "check_choice", "lookup"]


def _fail(param, owner, expected, value):
    raise ValueError(f"The '{param}' parameter of {owner} must be {expected}. "
                     f"Got {value!r} instead.")


def check_int(value, param: str, owner: str, low=None, high=None, allow_none=False):
    """Return ``value`` as an int within ``[low, high]`` or raise ``ValueError``."""
    if value is None and allow_none:
        return None
    lo = "-inf" if low is None else low
    hi = "inf" if high is None else high
    expected = f"an int in [{lo}, {hi}{']' if high is not None else ')'}" + (
        " or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(param, owner, expected, value)
    if (low is not None and value < low) or (high is not None and value > high):
        _fail(param, owner, expected, value)
    return int(value)


def check_float(value, param: str, owner: str, low=None, high=None, low_open=False,
                high_open=False, allow_none=False):
    """Return ``value`` as a float within the given interval or raise ``ValueError``."""
    if value is None and allow_none:
        return None
    lo = "-inf" if low is None else low
    hi = "inf" if high is None else high
    expected = (f"a float in {'(' if low_open or low is None else '['}{lo}, {hi}"
                f"{')' if high_open or high is None else ']'}" + (" or None" if allow_none else ""))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(param, owner, expected, value)
    v = float(value)
    if v != v:
        _fail(param, owner, expected, value)
    if low is not None and (v < low or (low_open and v == low)):
        _fail(param, owner, expected, value)
    if high is not None and (v > high or (high_open and v == high)):
        _fail(param, owner, expected, value)
    return v


def check_choice(value, param: str, owner: str, choices):
    """Return ``value`` if it is one of ``choices`` or raise ``ValueError`` listing them."""
    if value not in choices:
        _fail(param, owner, f"one of {list(choices)}", value)
    return value


def lookup(identifier, table: dict, kind: str):
    """Resolve a name in ``table`` or raise ``ValueError`` listing the valid names."""
    key = identifier.lower() if isinstance(identifier, str) else identifier
    try:
        return table[key]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown {kind} {identifier!r}. Valid names: "
                         f"{sorted(k for k in table if isinstance(k, str))}.") from None


def require(module: str, purpose: str, extra: str, package: str | None = None):
    """Import the optional ``module``, or raise ``ImportError`` saying what needs it and which
    extra of profond installs it.

    Examples
    --------
    >>> require("json", "Reading JSON", "io").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:  # pragma: no cover - depends on the install
        name = package or module.split(".")[0]
        raise ImportError(f"{purpose} needs the '{name}' package: pip install "
                          f"'profond[{extra}]' (or {name}).") from err
