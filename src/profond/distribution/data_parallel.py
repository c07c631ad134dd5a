"""``DataParallel``: one copy of the model per MPI rank, each global batch split across them.

What each rank does in ``fit`` (see :class:`Replica`), so that N ranks follow the path one
process follows with the same global batch (to float32 summation order):

1. **Start from rank 0.** After the model and the optimizer are built and the callbacks'
   ``on_train_begin`` ran (a checkpoint may have been restored there), rank 0's weights
   (moving statistics included), optimizer state and random generator are broadcast.
2. **Split each global batch.** Every rank draws the same batches (the same shuffle: the
   generator is rank 0's) and keeps rows ``[r * B // N, (r + 1) * B // N)`` of each.
3. **Weigh, then sum the gradients.** A rank's loss is the mean over its ``b_r`` rows; the
   backward pass starts from ``b_r / B`` instead of 1, so the sum over ranks of the gradients
   is the gradient of the mean over the global batch. The gradients are packed into a few
   contiguous buffers (buckets of at most ``bucket_cap_mb``), each summed with one in-place
   ``Allreduce``, all in flight together.
4. **Synchronise batch normalisation.** During each step :func:`profond.ops.normalization.
   summed_over_replicas` makes every ``BatchNormalization`` use the global batch's mean and
   variance (and the matching sums in its backward).
5. **Agree on the logs.** Loss and metrics are averaged over ranks, weighted by each rank's
   sample count, every batch and every epoch, so every callback sees the same numbers on every
   rank and takes the same decisions (early stopping, learning-rate changes).

Randomness: profond's global generator is the same on every rank and draws only what must be
identical (the shuffles). Inside a training step each rank draws from its own stream instead
(its dropout masks), seeded from the global generator's state, the optimizer's step count and
the rank: a run is reproducible from one seed, and a checkpoint (which stores the global
generator) resumes it bit for bit. Layers given their own ``seed=`` draw the same stream on
every rank.
"""

from __future__ import annotations

import contextlib
import hashlib

import numpy as np

from profond import random as prandom
from profond._validation import check_float
from profond.distribution import _mpi
from profond.ops import normalization
from profond.training.data_adapter import batch_length
from profond.training.structure import map_structure

__all__ = ["DataParallel", "Replica"]


class DataParallel:
    """Data parallelism over the processes ``mpiexec`` starts (Keras 3's ``DataParallel``).

    Each MPI rank holds a whole copy of the model; ``fit`` splits every batch of
    ``batch_size`` samples (the global batch, as in Keras) across the ranks and sums their
    gradients. Launch the same script with ``mpiexec -n N python train.py``; without
    ``mpiexec`` (or without mpi4py) it runs as one rank, unchanged.

    Parameters
    ----------
    device_mesh : None
        Keras's argument; profond's only axis is the MPI ranks, so it must be None.
    devices : None or list, optional
        One entry per rank (``["cpu:0", "cpu:1"]``, or rank numbers): only its length is
        used, and it must be the number of ranks. None: every rank of ``mpiexec``.
    auto_shard_dataset : bool, default True
        True: every rank is given the same data, and ``fit`` keeps each rank's share of each
        batch. False: each rank's ``x`` already holds its own part of the data (and
        ``batch_size`` is then per rank); every rank must have as many batches per epoch.
    timeout : float or None, default 300.0
        Seconds a rank waits for the others in one collective before it ends every rank
        with an error naming the collective (a rank that died or hangs). None: no limit.
    bucket_cap_mb : float, default 25.0
        Largest gradient buffer summed in one message, in MiB (PyTorch's DDP's default).

    Examples
    --------
    >>> from profond import distribution
    >>> distribution.set_distribution(distribution.DataParallel())
    >>> distribution.distribution().size  # 1 outside mpiexec
    1
    >>> distribution.set_distribution(None)
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True, *,
                 timeout=300.0, bucket_cap_mb=25.0):
        if device_mesh is not None:
            raise ValueError("The 'device_mesh' parameter of DataParallel must be None: "
                             "profond's data parallelism has one axis, the MPI ranks. Got "
                             f"{device_mesh!r} instead.")
        if devices is not None and (not isinstance(devices, (list, tuple)) or
                                    len(devices) != _mpi.size()):
            raise ValueError(f"The 'devices' parameter of DataParallel must be None or a list "
                             f"of one entry per MPI rank ({_mpi.size()} here). Got {devices!r} "
                             "instead.")
        if not isinstance(auto_shard_dataset, bool):
            raise ValueError("The 'auto_shard_dataset' parameter of DataParallel must be a "
                             f"bool. Got {auto_shard_dataset!r} instead.")
        self.devices = None if devices is None else list(devices)
        self.auto_shard_dataset = auto_shard_dataset
        self.timeout = check_float(timeout, "timeout", "DataParallel", low=0, low_open=True,
                                   allow_none=True)
        self.bucket_cap_mb = check_float(bucket_cap_mb, "bucket_cap_mb", "DataParallel",
                                         low=0, low_open=True)

    @property
    def size(self) -> int:
        """The number of ranks the batches are split across."""
        return _mpi.size()

    @property
    def rank(self) -> int:
        """This process's rank (0 to ``size - 1``)."""
        return _mpi.rank()

    def replica(self, model):
        """What ``model.fit`` runs through on this rank: a :class:`Replica`, or None on one
        rank (``fit`` then runs exactly as without a distribution)."""
        return Replica(self, model) if self.size > 1 else None

    def __repr__(self) -> str:
        return f"DataParallel(rank={self.rank}, size={self.size})"


class Replica:
    """One rank's side of a data-parallel ``fit``: the hooks ``Model.fit`` calls.

    ``start(variables)`` once training begins; ``shard(batches)`` around the training and
    validation batches; ``step(x)`` (or ``wrap_step``) around each training step (inside it,
    ``loss_seed`` starts the backward pass); ``sum_gradients(grads)`` before the optimizer;
    ``reduce_logs(logs, n)`` for the logs callbacks see.
    """

    def __init__(self, strategy: DataParallel, model):
        self.model = model
        self.rank, self.size = strategy.rank, strategy.size
        self.timeout = strategy.timeout
        self.auto_shard = strategy.auto_shard_dataset
        self.bucket_bytes = int(strategy.bucket_cap_mb * 2 ** 20)
        self.loss_seed = None
        self._global_count = None
        self._own_state = None
        self._buckets = None
        weights = model.trainable_weights
        self._dtype = weights[0].data.dtype if weights else np.dtype("float32")

    # --- the start: rank 0's state everywhere --------------------------------------------------
    def start(self, variables) -> None:
        """Give every rank rank 0's weights, optimizer state (for ``variables``, the trainable
        variables in the optimizer's order) and random generator."""
        model = self.model
        weights = model.get_weights()
        if weights:
            flat = np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in weights])
            _mpi.broadcast(flat, "the broadcast of rank 0's weights", self.timeout)
            start, restored = 0, []
            for w in weights:
                restored.append(flat[start:start + w.size].reshape(w.shape).astype(w.dtype))
                start += w.size
            model.set_weights(restored)
        optimizer = model.optimizer
        state = _mpi.broadcast_object(optimizer.get_state(),
                                      "the broadcast of rank 0's optimizer state", self.timeout)
        optimizer.set_state(state, variables)
        prandom.generator().bit_generator.state = _mpi.broadcast_object(
            prandom.get_state(), "the broadcast of rank 0's random generator", self.timeout)

    # --- batches -----------------------------------------------------------------------------
    def shard(self, batches, training: bool = True):
        """This rank's part of each batch of ``batches`` (an epoch per iteration)."""
        if batches is None:
            return None
        try:
            steps = len(batches)
        except TypeError:  # a generator's: unknown
            steps = None
        if training and not self.auto_shard and steps is not None:
            # Each rank's own data: as many steps everywhere, or ranks would wait forever.
            counts = np.array([steps, steps ** 2], dtype=np.float64)
            _mpi.allreduce_sum(counts, "the count of each rank's batches", self.timeout)
            if counts[0] ** 2 != self.size * counts[1]:
                raise ValueError(f"The 'x' parameter of fit must give every rank as many "
                                 f"batches per epoch with DataParallel(auto_shard_dataset="
                                 f"False). Got {steps} batches on rank {self.rank} and "
                                 f"{counts[0] / self.size:g} on average instead.")
        return _Shards(self, batches, training)

    def _begin_epoch(self) -> None:
        """Seed this rank's stream for the epoch's steps: from the shared generator's state
        (identical on every rank, restored by a checkpoint), the step count and the rank."""
        digest = hashlib.sha256(repr(prandom.get_state()).encode()).digest()
        seed = np.random.SeedSequence(int.from_bytes(digest[:16], "little"),
                                      spawn_key=(self.model.optimizer.iterations, self.rank))
        self._own_state = np.random.PCG64(seed).state

    # --- one step --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def step(self, x):
        """Around one training step on this rank's part ``x`` of a global batch."""
        n = batch_length(x)
        if self.auto_shard:
            total = self._global_count
        else:
            counts = np.array([n], dtype=np.float64)
            _mpi.allreduce_sum(counts, "the sum of the batch sizes", self.timeout)
            total = counts[0]
        self.loss_seed = np.asarray(n / total, dtype=self._dtype)
        rng = prandom.generator()
        shared = rng.bit_generator.state
        rng.bit_generator.state = self._own_state
        try:
            with normalization.summed_over_replicas(self._sum_statistics):
                yield
        finally:
            self._own_state = rng.bit_generator.state
            rng.bit_generator.state = shared

    def wrap_step(self, train_step):
        """``train_step(x, y, sample_weight)`` run inside :meth:`step`."""
        def step(x, y, sample_weight=None):
            with self.step(x):
                return train_step(x, y, sample_weight)

        return step

    def _sum_statistics(self, buffer) -> None:
        _mpi.allreduce_sum(buffer, "batch normalisation's statistics", self.timeout)

    def sum_gradients(self, grads) -> list:
        """The gradients summed over ranks: packed into buckets, one ``Allreduce`` each."""
        if self._buckets is None:
            self._buckets = self._plan(grads)
        pending = []
        for buffer, entries in self._buckets:
            for i, start, size, _ in entries:
                buffer[start:start + size] = grads[i].reshape(-1)
            pending.append(_mpi.start_allreduce_sum(buffer))
        for request in pending:
            _mpi.wait(request, "the gradient allreduce", self.timeout)
        out = list(grads)
        for buffer, entries in self._buckets:
            for i, start, size, shape in entries:
                out[i] = buffer[start:start + size].reshape(shape)
        return out

    def _plan(self, grads) -> list:
        """Buckets of gradients, each ``(buffer, [(index, start, size, shape)])``: gradients
        of one dtype, in order, up to ``bucket_bytes`` (a larger one has its own)."""
        buckets, current, dtype, used = [], [], None, 0
        for i, g in enumerate(grads):
            if g is None:  # the same variables get no gradient on every rank
                continue
            nbytes = g.size * g.dtype.itemsize
            if current and (g.dtype != dtype or used + nbytes > self.bucket_bytes):
                buckets.append((dtype, current))
                current, used = [], 0
            dtype = g.dtype
            current.append((i, used // g.dtype.itemsize, g.size, g.shape))
            used += nbytes
        if current:
            buckets.append((dtype, current))
        return [(np.empty(sum(e[2] for e in entries), dtype=dt), entries)
                for dt, entries in buckets]

    # --- logs ------------------------------------------------------------------------------------
    def reduce_logs(self, logs: dict, count) -> dict:
        """``logs`` averaged over ranks, each rank's weighted by its ``count`` samples."""
        values = [np.asarray(v, dtype=np.float64) for v in logs.values()]
        flat = np.concatenate([[float(count)]] + [count * v.ravel() for v in values])
        _mpi.allreduce_sum(flat, "the average of the logs", self.timeout)
        total, start, out = max(flat[0], 1.0), 1, {}
        for key, v in zip(logs, values):
            mean = flat[start:start + v.size] / total
            out[key] = float(mean[0]) if v.ndim == 0 else mean.reshape(v.shape)
            start += v.size
        return out


class _Shards:
    """``batches`` with each batch cut down to this rank's rows (or as they are, when each
    rank's data are its own)."""

    def __init__(self, replica: Replica, batches, training: bool):
        self.replica, self.batches, self.training = replica, batches, training

    def __len__(self):
        return len(self.batches)

    def __getattr__(self, name):  # first(), exhausted, known_length: the batches' own
        return getattr(self.batches, name)

    def __iter__(self):
        replica = self.replica
        if self.training:
            replica._begin_epoch()
        for batch in self.batches:
            if not replica.auto_shard:
                yield batch
                continue
            n = batch_length(batch[0])
            lo, hi = n * replica.rank // replica.size, n * (replica.rank + 1) // replica.size
            if lo == hi:
                if not self.training:
                    continue  # nothing of this validation batch to evaluate here
                raise ValueError(f"The 'batch_size' parameter of fit must give every one of "
                                 f"the {replica.size} ranks a sample of each batch. Got a batch "
                                 f"of {n} samples instead (the last batch of an epoch holds "
                                 "what is left of the data: choose a batch_size that leaves "
                                 "at least one sample per rank, or none).")
            replica._global_count = n
            rows = slice(lo, hi)
            yield tuple(None if part is None else map_structure(lambda a, r=rows: a[r], part)
                        for part in batch)
