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

import contextlib

import numpy as np

__all__ = ["seed", "generator", "get_state", "set_state", "draw_seed", "preserved", "seeded"]

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
        raise ValueError(f"The 'seed' parameter of generator must be None, a Generator or a "
                         f"non-negative int. Got {seed!r} instead.")
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


@contextlib.contextmanager
def preserved():
    """Leave the global generator as it was before the block, even if the block raises.

    Both the generator object and its state come back, so code that held the generator
    before the block keeps drawing the stream it would have drawn without the block (a model
    built while loading a file, for instance, must not move the loading program's stream).

    Yields
    ------
    numpy.random.Generator
        The global generator at the start of the block.

    Examples
    --------
    >>> import profond
    >>> profond.random.seed(0)
    >>> with profond.random.preserved():
    ...     _ = profond.random.generator().standard_normal(100)
    >>> a = profond.random.generator().standard_normal(2)
    >>> profond.random.seed(0)
    >>> b = profond.random.generator().standard_normal(2)
    >>> bool((a == b).all())
    True
    """
    rng = _global["rng"]
    state = rng.bit_generator.state
    try:
        yield rng
    finally:
        rng.bit_generator.state = state
        _global["rng"] = rng


@contextlib.contextmanager
def seeded(seed: int):
    """Draw from the global generator as if seeded with ``seed``, then restore its state.

    The seed is set in place (the global generator object stays the same), so holders of the
    generator draw the seeded stream inside the block and the previous stream after it.

    Parameters
    ----------
    seed : int
        Non-negative integer seed for the block.

    Yields
    ------
    numpy.random.Generator
        The global generator, seeded.

    Examples
    --------
    >>> import profond
    >>> with profond.random.seeded(7):
    ...     a = profond.random.generator().integers(0, 100, 3)
    >>> with profond.random.seeded(7):
    ...     b = profond.random.generator().integers(0, 100, 3)
    >>> bool((a == b).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"The 'seed' parameter of seeded must be a non-negative int. Got {seed!r} instead.")
    with preserved() as rng:
        rng.bit_generator.state = np.random.default_rng(int(seed)).bit_generator.state
        yield rng
