"""profond.random: the preserved() and seeded() contexts leave the global stream as it was."""

import numpy as np
import pytest

from profond import random as prandom


def _next(n=4):
    return prandom.generator().standard_normal(n)


def test_preserved_restores_state_and_object():
    prandom.seed(3)
    before = prandom.generator()
    expected = np.random.default_rng(3).standard_normal(4)
    with prandom.preserved() as rng:
        assert rng is before
        _next(100)
        prandom.seed(99)  # a re-seed inside replaces the global generator object
    assert prandom.generator() is before
    np.testing.assert_array_equal(_next(), expected)


def test_preserved_restores_after_an_exception():
    prandom.seed(5)
    expected = np.random.default_rng(5).standard_normal(4)
    with pytest.raises(RuntimeError, match="boom"):
        with prandom.preserved():
            _next(10)
            raise RuntimeError("boom")
    np.testing.assert_array_equal(_next(), expected)


def test_seeded_block_is_reproducible_and_restores():
    prandom.seed(1)
    expected_after = np.random.default_rng(1).standard_normal(4)
    with prandom.seeded(42):
        a = _next()
    with prandom.seeded(42):
        b = _next()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.default_rng(42).standard_normal(4))
    np.testing.assert_array_equal(_next(), expected_after)


def test_seeded_keeps_the_generator_object_for_its_holders():
    held = prandom.generator()
    with prandom.seeded(8) as rng:
        assert rng is held
        inside = held.standard_normal(3)
    np.testing.assert_array_equal(inside, np.random.default_rng(8).standard_normal(3))


def test_seeded_restores_after_an_exception():
    prandom.seed(2)
    expected = np.random.default_rng(2).standard_normal(4)
    with pytest.raises(ValueError):
        with prandom.seeded(11):
            _next()
            raise ValueError
    np.testing.assert_array_equal(_next(), expected)


def test_nesting():
    prandom.seed(4)
    expected = np.random.default_rng(4).standard_normal(4)
    with prandom.seeded(10):
        outer_first = _next(2)
        with prandom.seeded(20):
            np.testing.assert_array_equal(_next(3), np.random.default_rng(20).standard_normal(3))
        with prandom.preserved():
            _next(50)
        # the outer block's stream goes on where it was before the inner blocks
        ref = np.random.default_rng(10)
        np.testing.assert_array_equal(outer_first, ref.standard_normal(2))
        np.testing.assert_array_equal(_next(2), ref.standard_normal(2))
    np.testing.assert_array_equal(_next(), expected)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3", None])
def test_seeded_rejects_a_bad_seed(bad):
    with pytest.raises(ValueError, match=r"The 'seed' parameter of seeded must be a "
                                         r"non-negative int\. Got .* instead\."):
        with prandom.seeded(bad):
            pass
