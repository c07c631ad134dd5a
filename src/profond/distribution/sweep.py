"""``map(fn, grid)``: the points of a sweep spread over the MPI ranks.

Point ``i`` of the grid runs on rank ``i % size``, inside :func:`profond.random.preserved`
and with no distribution set (each point trains alone, and writes what it writes: inside a
point, :func:`~profond.distribution.is_primary` is True); then every rank gets every result,
in the grid's order (one all-gather of the pickled results). The results are those of
``[fn(p) for p in grid]`` run in one process, provided ``fn`` seeds its own randomness
(``profond.random.seed(...)`` at its start, as the labs' training functions do): a point must
not depend on which points ran before it on the same rank.
"""

from __future__ import annotations

import pickle

import numpy as np

from profond import random as prandom
from profond.distribution import _mpi

__all__ = ["map"]


def map(fn, grid, timeout=None) -> list:  # Keras-style module function; shadows the builtin here
    """``[fn(point) for point in grid]``, the points spread over the MPI ranks.

    Parameters
    ----------
    fn : callable
        Called with one point; returns a picklable result. It should seed its own randomness.
    grid : iterable
        The points (the same on every rank).
    timeout : float, optional
        Seconds a rank waits for the others' results after finishing its own points (None:
        no limit; a rank that raises or is killed still ends every rank at once).

    Returns
    -------
    list
        Every point's result, in the grid's order, on every rank.

    Examples
    --------
    >>> from profond import distribution
    >>> distribution.map(lambda p: p * p, [1, 2, 3])
    [1, 4, 9]
    """
    if not callable(fn):
        raise ValueError(f"The 'fn' parameter of map must be callable. Got {fn!r} instead.")
    points = list(grid)
    here, count = _mpi.rank(), _mpi.size()
    mine = {}
    with _mpi.training_alone():
        for i in range(here, len(points), count):
            with prandom.preserved():
                mine[i] = fn(points[i])
    if count == 1:
        return [mine[i] for i in range(len(points))]
    results = {}
    for part in _allgather_objects(mine, timeout):
        results.update(part)
    return [results[i] for i in range(len(points))]


def _allgather_objects(obj, timeout) -> list:
    """Every rank's ``obj`` (pickled), on every rank, in rank order."""
    comm = _mpi.communicator()
    payload = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL),
                            dtype=np.uint8)
    lengths = np.zeros(comm.Get_size(), dtype=np.int64)
    _mpi.wait(comm.Iallgather(np.array([payload.size], dtype=np.int64), lengths),
              "the gathering of map's results", timeout)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    gathered = np.empty(int(lengths.sum()), dtype=np.uint8)
    _mpi.wait(comm.Iallgatherv(payload, [gathered, lengths, offsets, _byte_type()]),
              "the gathering of map's results", timeout)
    return [pickle.loads(gathered[o:o + n].tobytes()) for o, n in zip(offsets, lengths)]


def _byte_type():
    from mpi4py import MPI

    return MPI.BYTE
