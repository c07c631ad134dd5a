"""Data-parallel scaling: epoch time of bench/mlp.py's and bench/cnn.py's networks on 1 and 2
MPI ranks (one BLAS thread each) against 1 rank with 2 threads; and the model of how an epoch's
time grows with N machines (docs/distributed.md explains it).

Three configurations, each in fresh processes, alternating within each round:

- ``1 rank x 1 thread``: the baseline;
- ``2 ranks x 1 thread``: ``mpiexec -n 2``, ``DataParallel``, each rank half of each batch;
- ``1 rank x 2 threads``: the same cores used by BLAS's threads instead.

Each run times ``--epochs`` epochs of the network over ``--mlp-samples`` or ``--samples``
samples (after one warm-up epoch over a tenth of them) and reports the median; each worker
also times one in-place ``Allreduce`` of the network's gradients (its parameter count in
float32), the communication one step adds.

Then the model: per network (MLP, CNN, and bench/rnn.py's LSTM and GRU), the
compute per sample measured on one thread, the bytes allreduced per step, and the ring
all-reduce cost ``2 (N - 1) / N * bytes / bandwidth + 2 (N - 1) * latency`` at 10 Gb/s (TCP,
30 us a message) and 100 Gb/s (InfiniBand, 2 us), with the N at which a step's communication
overtakes its compute.

Run: python bench/distributed.py [--mlp-samples 60000] [--samples 6400] [--epochs 3]
[--rounds 2]
(needs mpi4py and mpiexec: pip install 'profond[mpi]').
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Assumed networks between machines: (name, bits per second, latency of one message, s).
LINKS = (("10 Gb/s Ethernet", 10e9, 30e-6), ("100 Gb/s InfiniBand", 100e9, 2e-6))
CONFIGS = (("1 rank x 1 thread", 1, 1), ("2 ranks x 1 thread", 2, 1),
           ("1 rank x 2 threads", 1, 2))


# --- the networks: bench/mlp.py's, cnn.py's, rnn.py's, exactly -------------------------------
def network(name, samples):
    """``(train, model, batch_size)`` of a bench network over ``samples`` samples: the bench
    module's own contender, its model caught as it is compiled."""
    import _common

    caught = {}
    original = _common.profond_contender

    def catch(model, optimizer, x, y, batch_size):
        caught["model"], caught["batch"] = model, batch_size
        return original(model, optimizer, x, y, batch_size)

    if name == "mlp":
        import mlp as module

        module.profond_contender = catch
        x, y = module.data()
        train, _ = module.profond_mlp(x[:samples], y[:samples])
    elif name == "cnn":
        import cnn as module

        module.profond_contender = catch
        x, y, _ = module.data(samples)
        train, _ = module.profond_cnn(x, y)
    else:
        import rnn as module

        module.profond_contender = catch
        x, y, _ = module.data(samples)
        train, _ = module.profond_rnn(name, x, y)
    return train, caught["model"], caught["batch"]


def worker(name, samples, epochs) -> None:
    """One configuration's run (inside mpiexec or not): rank 0 prints a JSON line."""
    from profond import distribution

    distribution.set_distribution(distribution.DataParallel())
    train, model, batch = network(name, samples)
    train(max(samples // 10, batch * distribution.size()))  # warm-up: caches, buckets
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        train()
        times.append(time.perf_counter() - t0)
    params = model.count_params()
    allreduce = None
    if distribution.size() > 1:
        from mpi4py import MPI

        buffer = np.ones(params, dtype=np.float32)
        comm = MPI.COMM_WORLD
        spans = []
        for _ in range(30):
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            spans.append(time.perf_counter() - t0)
        allreduce = statistics.median(spans)
    if distribution.rank() == 0:
        print(json.dumps({"network": name, "epoch_s": statistics.median(times),
                          "params": params, "batch": batch, "samples": samples,
                          "allreduce_s": allreduce}), flush=True)


def _mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def launch(name, ranks, threads, samples, epochs) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), BENCH_THREADS=str(threads))
    src = HERE.parent / "src"
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name,
               "--samples", str(samples), "--epochs", str(epochs)]
    if ranks > 1:
        command = [_mpiexec(), "-n", str(ranks)] + command
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the model ------------------------------------------------------------------------------
def ring_allreduce_seconds(nbytes, ranks, bits_per_second, latency) -> float:
    """Ring all-reduce (reduce-scatter then all-gather): each rank sends and receives
    ``2 (N - 1) / N`` of the buffer in ``2 (N - 1)`` messages."""
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) / ranks * nbytes * 8 / bits_per_second + 2 * (ranks - 1) * latency


def crossover(per_sample_s, batch, nbytes, bits_per_second, latency, limit=4096):
    """The smallest N at which one step's all-reduce takes longer than its compute (each rank
    computing ``batch / N`` samples), or None below ``limit``."""
    for n in range(2, limit + 1):
        if ring_allreduce_seconds(nbytes, n, bits_per_second, latency) > \
                per_sample_s * batch / n:
            return n
    return None


def model_table(measured) -> list:
    """One row per network: what an epoch's time becomes on N machines."""
    rows = []
    for r in measured:
        per_sample = r["epoch_s"] / r["samples"]
        nbytes = 4 * r["params"]
        row = {"network": r["network"], "params": r["params"], "batch": r["batch"],
               "compute_per_step_ms": 1e3 * per_sample * r["batch"], "mb_per_step": nbytes / 1e6}
        for label, bps, lat in LINKS:
            row[label] = {
                "allreduce_ms_N8": 1e3 * ring_allreduce_seconds(nbytes, 8, bps, lat),
                "crossover_N": crossover(per_sample, r["batch"], nbytes, bps, lat)}
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=6_400,
                        help="samples per epoch of the CNN (and a quarter of it for the RNNs)")
    parser.add_argument("--mlp-samples", type=int, default=60_000,
                        help="samples per epoch of the MLP (bench/mlp.py's 60,000)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--networks", nargs="+", default=["mlp", "cnn"])
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.samples, args.epochs)
    print(f"median of {args.epochs} epochs x {args.rounds} rounds; {os.cpu_count()} cores on "
          "this machine")
    results = {}
    for name in args.networks:
        samples = args.mlp_samples if name == "mlp" else args.samples
        for _ in range(args.rounds):
            for label, ranks, threads in CONFIGS:
                results.setdefault((name, label), []).append(
                    launch(name, ranks, threads, samples, args.epochs))
        base = statistics.median(r["epoch_s"] for r in results[(name, CONFIGS[0][0])])
        first = results[(name, CONFIGS[0][0])][0]
        print(f"\n{name}: {first['params']:,} parameters, batch {first['batch']}, one epoch over "
              f"{samples:,} samples")
        for label, ranks, _ in CONFIGS:
            runs = results[(name, label)]
            t = statistics.median(r["epoch_s"] for r in runs)
            extra = ""
            if ranks > 1:
                ar = statistics.median(r["allreduce_s"] for r in runs)
                steps = -(-samples // runs[0]["batch"])
                extra = (f"  (one gradient Allreduce {1e3 * ar:.2f} ms, {steps} a epoch: "
                         f"{ar * steps:.2f} s)")
            print(f"  {label:20s} {t:7.2f} s  speed-up {base / t:4.2f}{extra}")
    # The model: per-sample compute on one thread, for every bench network.
    measured = [sorted(results[(n, CONFIGS[0][0])], key=lambda r: r["epoch_s"])[
        (args.rounds - 1) // 2] for n in args.networks]
    for cell in ("lstm", "gru"):
        measured.append(launch(cell, 1, 1, max(args.samples // 4, 1000), 1))
    print("\nModel (docs/distributed.md): a step's compute on N machines is (compute of the "
          "global batch) / N; its all-reduce, ring, grows toward 2 x bytes / bandwidth.")
    for row in model_table(measured):
        links = "; ".join(f"{label}: all-reduce at N=8 {row[label]['allreduce_ms_N8']:.2f} ms, "
                          f"communication > compute from N = {row[label]['crossover_N']}"
                          for label, _, _ in LINKS)
        print(f"  {row['network']:4s} {row['params']:>8,} params, {row['mb_per_step']:.2f} MB "
              f"a step, compute {row['compute_per_step_ms']:.1f} ms a step of "
              f"{row['batch']} (1 thread); {links}")
    return None


if __name__ == "__main__":
    main()
