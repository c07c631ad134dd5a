"""Training on several processes: data parallelism over MPI ranks, and sweeps spread over them.

The names follow Keras 3's ``keras.distribution``: :class:`DataParallel`,
:func:`set_distribution`, :func:`distribution`. Launch the same script on N processes::

    mpiexec -n 2 python train.py          # or: mpiexec -n 2 profond train RECIPE.toml

where ``train.py`` calls ``profond.distribution.set_distribution(DataParallel())`` before
``fit``: each rank trains on its share of every global batch, and the gradients are summed over
the ranks (see :mod:`profond.distribution.data_parallel`). Started without ``mpiexec``, or
without mpi4py, the script runs as rank 0 of 1, unchanged. Under ``mpiexec`` only rank 0
writes (checkpoints, CSV logs, progress bars, run folders): see :func:`is_primary`.

:func:`map` spreads a grid of independent runs (a sweep) over the ranks instead.

mpi4py is an optional dependency (``pip install 'profond[mpi]'`` installs it with MPICH); this
module imports it only when the process was launched by ``mpiexec`` with several processes.
How a rank that dies stops the others is in :mod:`profond.distribution._mpi`.
"""

from __future__ import annotations

from profond.distribution import _mpi
from profond.distribution._mpi import abort, is_primary, rank, size
from profond.distribution.data_parallel import DataParallel
from profond.distribution.sweep import map

__all__ = ["DataParallel", "set_distribution", "distribution", "rank", "size", "is_primary",
           "map", "abort"]

_state = {"distribution": None}


def set_distribution(value) -> None:
    """Set the distribution ``fit`` uses (None: train in this process alone).

    Parameters
    ----------
    value : DataParallel or None

    Examples
    --------
    >>> from profond import distribution
    >>> distribution.set_distribution("data")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The 'value' parameter of set_distribution must be a DataParallel or None. ...
    """
    if value is not None and not isinstance(value, DataParallel):
        raise ValueError("The 'value' parameter of set_distribution must be a DataParallel or "
                         f"None. Got {value!r} instead.")
    _state["distribution"] = value


def distribution():
    """The distribution set by :func:`set_distribution` (None if none is, or inside a point
    of :func:`map`, which trains alone)."""
    return None if _mpi.alone() else _state["distribution"]
