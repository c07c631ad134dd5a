"""The MPI layer: which process this is, and the few collectives data parallelism needs.

mpi4py is imported only when the process was started by ``mpiexec`` with more than one
process (the launcher's environment says so: ``PMI_SIZE`` for MPICH, ``OMPI_COMM_WORLD_SIZE``
for Open MPI, ``MV2_COMM_WORLD_SIZE`` for MVAPICH); otherwise the process is rank 0 of 1 and
nothing of MPI is loaded, so a script runs the same without mpi4py.

No hang when a rank dies
------------------------
- A rank that raises: :func:`communicator` installs a ``sys.excepthook`` that prints the
  traceback, then calls ``MPI_Abort``; ``mpiexec`` ends every other rank at once.
- A rank killed by a signal (``kill -9``, the out-of-memory killer): ``mpiexec`` sees the
  process end abnormally and ends the others ("BAD TERMINATION").
- A rank that hangs, or leaves ``fit`` early without an error: every collective here waits at
  most ``timeout`` seconds (:class:`~profond.distribution.DataParallel`'s, 300 s by default);
  past it, the waiting rank prints which collective it was in and calls ``MPI_Abort``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import time
import warnings

import numpy as np

__all__ = ["launched_size", "communicator", "rank", "size", "is_primary", "alone",
           "training_alone", "wait", "start_allreduce_sum", "allreduce_sum", "broadcast",
           "broadcast_object", "abort"]

# The launchers' environment variables giving the number of processes started.
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_DRAIN_SECONDS = 0.5  # before MPI_Abort: for the launcher to forward this rank's last output

_state = {"comm": None, "checked": False, "alone": False}


def launched_size() -> int:
    """The number of processes ``mpiexec`` started (1 when not launched by it)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name)
        if value and value.isdigit():
            return int(value)
    return 1


def communicator():
    """``MPI.COMM_WORLD`` when launched with more than one process and mpi4py is installed,
    else None (one process alone)."""
    if _state["checked"]:
        return _state["comm"]
    _state["checked"] = True
    if launched_size() <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        warnings.warn(f"This process was started by mpiexec with {launched_size()} processes, "
                      "but mpi4py is not installed: each process runs alone. pip install "
                      "'profond[mpi]' (mpi4py, mpich).", RuntimeWarning, stacklevel=3)
        return None
    comm = MPI.COMM_WORLD
    _state["comm"] = comm
    _abort_on_uncaught_exception(comm)
    return comm


def rank() -> int:
    """This process's MPI rank (0 when not launched by ``mpiexec``).

    Examples
    --------
    >>> from profond import distribution
    >>> distribution.rank(), distribution.size(), distribution.is_primary()
    (0, 1, True)
    """
    comm = communicator()
    return 0 if comm is None else comm.Get_rank()


def size() -> int:
    """The number of MPI ranks (1 when not launched by ``mpiexec``)."""
    comm = communicator()
    return 1 if comm is None else comm.Get_size()


def is_primary() -> bool:
    """Whether this process writes files and prints progress: rank 0, or any rank inside a
    point of :func:`map` (each point is a run of its own). Checkpoints, ``history.csv``,
    plots, progress bars and the command line's run folders and reports are written only
    where this is True."""
    return _state["alone"] or rank() == 0


def alone() -> bool:
    """Whether this rank trains by itself now (inside a point of
    :func:`profond.distribution.map`)."""
    return _state["alone"]


@contextlib.contextmanager
def training_alone():
    """Within the block this rank trains by itself (a point of a sweep): no distribution
    applies, and it writes its own files."""
    previous = _state["alone"]
    _state["alone"] = True
    try:
        yield
    finally:
        _state["alone"] = previous


def _abort_on_uncaught_exception(comm) -> None:
    """An exception nobody catches on one rank ends every rank (else the others would wait
    for it in their next collective forever)."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        message = (f"rank {comm.Get_rank()} of {comm.Get_size()} stopped on "
                   f"{kind.__name__}: {value}")
        # the one line that says what happened first: the traceback may be long
        sys.stderr.write(f"profond.distribution: {message}\n")
        sys.stderr.flush()
        previous(kind, value, traceback)
        abort(message)

    sys.excepthook = hook


def abort(message: str) -> None:  # pragma: no cover - ends the process
    """Print ``message`` and end every rank (``MPI_Abort``; this process alone, with status 1,
    when it is not one of several ranks)."""
    sys.stderr.write(f"profond.distribution: {message}; ending every rank (MPI_Abort).\n")
    sys.stderr.flush()
    if communicator() is None:
        sys.exit(1)
    # MPI_Abort tears the job down at once, and mpiexec may drop what this rank wrote but had
    # not forwarded yet: give its output a moment to reach the launcher.
    time.sleep(_DRAIN_SECONDS)
    _state["comm"].Abort(1)
    os._exit(1)  # MPI_Abort may return before mpiexec ends this process: leave now


def wait(request, what: str, timeout) -> None:
    """Wait for a non-blocking collective, at most ``timeout`` seconds (None: forever).

    MPI's blocking calls wait forever for a rank that never comes; this polls instead, and
    after the first millisecond yields the core between polls (a waiting rank must not slow
    a working one that shares its core).
    """
    if timeout is None:
        request.Wait()
        return
    if request.Test():
        return
    start = time.monotonic()
    polls = 0
    while not request.Test():
        polls += 1
        if polls > 200:
            time.sleep(5e-5)
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                comm = _state["comm"]
                abort(f"rank {comm.Get_rank()} of {comm.Get_size()} waited {elapsed:.0f} s "
                      f"(the timeout) for the other ranks in {what}: a rank has died, hangs, "
                      "or left training early")


def start_allreduce_sum(buffer):
    """Start summing the contiguous ``buffer`` over every rank, in place; returns the
    request to :func:`wait` for."""
    from mpi4py import MPI

    return _state["comm"].Iallreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)


def allreduce_sum(buffer, what: str, timeout) -> None:
    """Sum the contiguous ``buffer`` over every rank, in place."""
    wait(start_allreduce_sum(buffer), what, timeout)


def broadcast(buffer, what: str, timeout) -> None:
    """Overwrite the contiguous ``buffer`` with rank 0's, in place."""
    wait(_state["comm"].Ibcast(buffer, root=0), what, timeout)


def broadcast_object(obj, what: str, timeout):
    """Rank 0's ``obj`` (any picklable object), on every rank."""
    comm = _state["comm"]
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL) if comm.Get_rank() == 0 \
        else b""
    length = np.array([len(payload)], dtype=np.int64)
    broadcast(length, what, timeout)
    data = np.frombuffer(payload, dtype=np.uint8).copy() if comm.Get_rank() == 0 else \
        np.empty(int(length[0]), dtype=np.uint8)
    broadcast(data, what, timeout)
    return obj if comm.Get_rank() == 0 else pickle.loads(data.tobytes())
