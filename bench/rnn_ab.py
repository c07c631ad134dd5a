"""A/B of one compiled kernel in the LSTM benchmark's model: bench/rnn.py's profond contender
with the kernel on and off, alternating in one process, and PyTorch's alongside.

The machine's speed drifts by tens of percent between runs, so two separate runs of
bench/rnn.py cannot show a change of a few percent; the two variants here alternate round by
round (their order too), and the minimum of the rounds is printed. PyTorch runs after a pause:
its threads spin for a while after a call and would slow whatever runs next.

Run: python bench/rnn_ab.py KERNEL [--batch 64] [--samples 3200] [--rounds 5]
KERNEL: a name of profond.ops._recurrent_numba's kernels (lstm_gates, lstm_gates_feed: the
inference steps in one call each against the step-by-step loop, lstm_cell, lstm_step), or "adam"
(the compiled Adam update of profond.optimizers._compiled).
"""

from __future__ import annotations

import argparse
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import rnn


def switch(name):
    """``(on, off)``: functions that put the kernel ``name`` in and take it out."""
    if name == "adam":
        from profond.optimizers import _compiled as module
    else:
        from profond.ops import _recurrent_numba as module
    real = module.kernel

    def on():
        module.kernel = real

    def off():
        module.kernel = lambda key, xp: None if name in (key, "adam") else real(key, xp)

    return on, off


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kernel")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--samples", type=int, default=3200, help="sequences per timing")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    B, n = args.batch, args.samples
    x, y = rnn.data(19200)[:2]
    train, predict = rnn.profond_rnn("lstm", x, y, B)
    ttrain, tpredict = rnn.torch_rnn("lstm", x, y, B)
    on, off = switch(args.kernel)
    for f in (train, predict):  # warm-up, compilation included, both ways
        f(1024)
        off()
        f(1024)
        on()
    ttrain(1024)
    tpredict(1024)

    def ms(f):
        t = time.perf_counter()
        f(n)
        return (time.perf_counter() - t) / (n / B) * 1e3

    for label, f, tf in (("predict", predict, tpredict), ("train", train, ttrain)):
        res = {"with": [], "without": [], "torch": []}
        for i in range(args.rounds):
            for v in ("with", "without") if i % 2 else ("without", "with"):
                (on if v == "with" else off)()
                res[v].append(ms(f))
            on()
            time.sleep(0.2)
            res["torch"].append(ms(tf))
            time.sleep(0.2)
        m = {k: min(v) for k, v in res.items()}
        print(f"LSTM batch {B}, {label}, ms per batch (min of {args.rounds}): with "
              f"{args.kernel} {m['with']:.3f}, without {m['without']:.3f}, torch "
              f"{m['torch']:.3f}; profond/torch {m['with'] / m['torch']:.3f} with, "
              f"{m['without'] / m['torch']:.3f} without")


if __name__ == "__main__":
    main()
