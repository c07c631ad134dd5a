"""Shared helpers for the side-by-side benchmarks: alternating repeats, medians, ratios."""

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


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def alternate(contenders: dict, repeats: int) -> dict:
    """Run each contender once per round, ``repeats`` rounds; return every timing."""
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
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
