"""Shared helpers for the side-by-side benchmarks: the contenders' training and prediction
loops, alternating repeats, medians, ratios."""

from __future__ import annotations

import os
import statistics
import time


def threads() -> int:
    """Threads each framework may use: all cores unless BENCH_THREADS says otherwise."""
    return int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1))


def setup_torch():
    import torch

    torch.set_num_threads(threads())
    return torch


def profond_contender(model, optimizer, x, y, batch_size):
    """Compile ``model`` (sparse cross-entropy on logits) and return its ``train(n=None)`` (one
    shuffled epoch) and ``predict(n=None)`` over the first ``n`` samples (all by default)."""
    import profond

    model.compile(optimizer=optimizer,
                  loss=profond.losses.SparseCategoricalCrossentropy(from_logits=True))

    def train(n=None):
        xs, ys = (x, y) if n is None else (x[:n], y[:n])
        model.fit(xs, ys, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)

    def predict(n=None):
        model.predict(x if n is None else x[:n], batch_size=batch_size, verbose=0)

    return train, predict


def torch_contender(torch, net, opt, xt, yt, batch_size):
    """PyTorch's ``train(n=None)`` and ``predict(n=None)``: the usual hand-written loops (a
    shuffled epoch of ``opt`` steps on the cross-entropy; batches under ``inference_mode``)."""
    loss_fn = torch.nn.CrossEntropyLoss()

    def train(n=None):
        n = len(xt) if n is None else min(n, len(xt))  # as x[:n] on profond's side
        perm = torch.randperm(n)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    def predict(n=None):
        n = len(xt) if n is None else min(n, len(xt))
        with torch.inference_mode():
            for i in range(0, n, batch_size):
                net(xt[i:i + batch_size])

    return train, predict


def per_batch(products, samples: int, batch: int):
    """``(train, predict)`` of a GEMM floor: ``products(n)`` returns ``(step, forward)``, the
    matrix products of one step and of one predict batch of ``n`` samples; each runs once per
    batch of an epoch of ``samples`` (the last batch may be smaller)."""
    sizes = [min(batch, samples - i) for i in range(0, samples, batch)]
    full, last = products(batch), products(sizes[-1])

    def run(which):
        for size in sizes:
            (full if size == batch else last)[which]()

    return (lambda: run(0)), (lambda: run(1))


def compare(contenders: dict, repeats: int, baseline: str, titles, warm_up=None) -> None:
    """Warm every contender up, then time and report its train and its predict.

    ``contenders`` maps a name to ``(train, predict)``; ``titles`` names the two reports;
    ``warm_up``, when given, is the number of samples of the warm-up calls.
    """
    args = () if warm_up is None else (warm_up,)
    for train, predict in contenders.values():  # warm-up: caches, allocator, BLAS
        train(*args)
        predict(*args)
    for i, title in enumerate(titles):
        report(title, alternate({k: v[i] for k, v in contenders.items()}, repeats), baseline)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


#: seconds of rest before each timed call. A thread pool keeps its threads spinning for a while
#: after its last task (OpenBLAS's after a GEMM, PyTorch's OpenMP team after an op), on the
#: cores the next contender needs: without the rest, whoever ran last slows whoever runs next
#: (bench/mlp.py, batch 128: PyTorch's epoch 0.33 s after a rest, 0.41-0.47 s right after
#: profond's; profond's 0.32 s against 0.33-0.41 s). A user runs one framework at a time.
SETTLE = float(os.environ.get("BENCH_SETTLE", 0.3))


def alternate(contenders: dict, repeats: int) -> dict:
    """Run each contender once per round, ``repeats`` rounds, each call after a rest of
    :data:`SETTLE` seconds; return every timing."""
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            time.sleep(SETTLE)
            times[name].append(timed(fn))
    return times


def report(title: str, times: dict, baseline: str) -> None:
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{title}")
    print(f"{'':<18}{'median s':>10}{'min s':>10}{'ratio':>10}")
    for name, m in med.items():
        print(f"{name:<18}{m:>10.3f}{min(times[name]):>10.3f}{m / med[baseline]:>10.2f}")
    for name, m in med.items():
        if name != baseline:
            print(f"  {baseline} / {name} = {med[baseline] / m:.2f}x")


def compare_with_floor(contenders: dict, repeats: int, titles) -> None:
    """:func:`compare` against PyTorch, then each contender's time over the "GEMM floor"
    contender's (how much of it is not matrix products)."""
    for train, predict in contenders.values():  # warm-up: caches, allocator, BLAS
        train()
        predict()
    for i, title in enumerate(titles):
        times = alternate({k: v[i] for k, v in contenders.items()}, repeats)
        report(title, times, "torch")
        med = {k: statistics.median(v) for k, v in times.items()}
        print("  above the GEMM floor: " + ", ".join(
            f"{k} {m / med['GEMM floor']:.2f}x" for k, m in med.items() if k != "GEMM floor"))
