"""One seeded source of randomness for all of profond.

Every random draw (initial weights, shuffles, dropout masks) comes from a generator handed out
here, so ``profond.random.seed(n)`` makes a CPU run reproducible bit for bit. Components that
take a ``seed=`` argument get a private generator derived from that seed instead.

Examples
--------
>>> import profond
>>> profond.random.seed(0)
>>> a = profond.random.generator().standard_normal(3)
>>> profond.random.seed(0)
>>> b = profond.random.generator().standard_normal(3)
>>> bool((a == b).all())
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["seed", "generator", "get_state", "set_state", "draw_seed"]

_global = {"rng": np.random.default_rng()}


def seed(value: int) -> None:
    """Re-seed profond's global random generator.

    Parameters
    ----------
    value : int
        Non-negative integer seed.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(
            f"The 'value' parameter of seed must be a non-negative int. Got {value!r} instead."
        )
    _global["rng"] = np.random.default_rng(int(value))


def generator(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """Return a NumPy ``Generator``: the global one, or a new one seeded with ``seed``."""
    if seed is None:
        return _global["rng"]
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The 'seed' argument must be None or a non-negative int. Got {seed!r}.")
    return np.random.default_rng(int(seed))


def draw_seed(seed: int | None = None) -> int:
    """Draw a fresh integer seed (from ``seed`` when given, else from the global generator)."""
    return int(generator(seed).integers(0, 2**31 - 1))


def get_state() -> dict:
    """The global generator's state (a JSON-friendly dict), for checkpoints."""
    return _global["rng"].bit_generator.state


def set_state(state: dict) -> None:
    """Restore the global generator from :func:`get_state`'s output."""
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    _global["rng"] = rng
