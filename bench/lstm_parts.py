"""Where an LSTM predict batch goes: profond's LSTM op against its own parts and PyTorch's LSTM.

bench/rnn.py's LSTM(128) on one batch of 28 steps of 28 features, no gradient, milliseconds
per batch (best of ``--repeats`` alternating rounds, each after a rest):

- ``torch nn.LSTM``: PyTorch's whole forward (its fused oneDNN LSTM on the CPU);
- ``profond op``: ``profond.ops.lstm``, what the layer runs (weights stacked, inputs laid
  out, 28 steps, outputs);
- ``28 GEMMs``: the op's per-step products ``W^T @ [h; x; 1]`` alone, (512, 157) @ (157, B);
- ``28 gates``: its compiled elementwise step alone (``lstm_gates``: every gate, the cell and
  the state in one loop; needs numba), net of ``28 refills``, the copies that give each step
  fresh pre-activations (the kernel overwrites its input), timed alone and subtracted;
- ``GEMM + gates loop``: the two in turn, as the op runs them, without the rest of the op.

``loop - GEMMs - gates`` is what the two cost each other (the GEMM's output is written by both
cores, the gates read it on one); ``op - loop`` is the op's own work around the steps.

Run: python bench/lstm_parts.py [--batch 64] [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import SETTLE, setup_torch, threads

T, F, U = 28, 28, 128


def profond_parts(batch, rng):
    """``{name: fn}``: profond's op and its parts, on one batch."""
    import profond
    from profond.autograd import engine
    from profond.ops import _recurrent_numba, recurrent
    from profond.ops._recurrent_columns import stack_weights
    from profond.ops._recurrent_pass import _Pass

    profond.random.seed(0)
    layer = profond.layers.LSTM(U)
    x = profond.tensor(rng.random((batch, T, F), dtype=np.float32))
    layer.build((batch, T, F))
    k, r, b = layer.kernel, layer.recurrent_kernel, layer.bias

    def op():
        with engine.no_grad():
            recurrent.lstm(x, k, r, b)

    parts = {"profond op": op}
    with engine.no_grad():  # the op's own GEMM matrix: gates o, i, f halved, then g
        WT = stack_weights(_Pass("lstm", x, k, r, b, None, None, 2, 4, False, None, None),
                           (3, 0, 1, 2), 0.5, 3)
    D = WT.shape[1]
    XH = np.empty((2, D, batch), np.float32)
    XH[:, :U] = 0
    XH[:, U:U + F] = x.data[:, 0].T
    XH[:, D - 1] = 1
    Z = np.empty((4 * U, batch), np.float32)
    C = np.zeros((2, U, batch), np.float32)
    TC = np.empty((U, batch), np.float32)
    one = np.float32(1)

    def gemms():
        for t in range(T):
            np.matmul(WT, XH[t & 1], out=Z)

    parts["28 GEMMs"] = gemms
    gates = _recurrent_numba.kernel("lstm_gates", np)
    if gates is not None:
        np.matmul(WT, XH[0], out=Z)
        Z0 = Z.copy()

        def refills():
            for _ in range(T):
                Z[...] = Z0

        def gates_alone():
            for t in range(T):
                Z[...] = Z0  # fresh pre-activations each step, as from the GEMM
                gates(Z, C[t & 1], C[(t + 1) & 1], TC, XH[(t + 1) & 1, :U], one)

        def loop():
            for t in range(T):
                np.matmul(WT, XH[t & 1], out=Z)
                gates(Z, C[t & 1], C[(t + 1) & 1], TC, XH[(t + 1) & 1, :U], one)

        parts["28 refills"] = refills
        parts["28 gates"] = gates_alone
        parts["GEMM + gates loop"] = loop
    return parts


def torch_lstm(batch, rng):
    torch = setup_torch()
    torch.manual_seed(0)
    net = torch.nn.LSTM(F, U, batch_first=True)
    x = torch.from_numpy(rng.random((batch, T, F), dtype=np.float32))

    def forward():
        with torch.inference_mode():
            net(x)

    return forward


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    fns = {"torch nn.LSTM": torch_lstm(args.batch, rng), **profond_parts(args.batch, rng)}
    calls = 50
    best = {name: float("inf") for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(args.repeats):
        for name, fn in fns.items():
            time.sleep(SETTLE)
            for _ in range(5):  # untimed: the thread pools wake up
                fn()
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / calls)
    print(f"LSTM({U}) predict, one batch of {args.batch} x {T} steps x {F} features, "
          f"{threads()} threads, ms per batch (best of {args.repeats} rounds)")
    ms = {k: v * 1e3 for k, v in best.items()}
    if "28 gates" in ms:
        ms["28 gates"] -= ms.pop("28 refills")
    for name, t in ms.items():
        print(f"  {name:<20}{t:>8.3f}")
    if "GEMM + gates loop" in ms:
        print(f"  loop - GEMMs - gates {ms['GEMM + gates loop'] - ms['28 GEMMs'] - ms['28 gates']:>8.3f}"
              f"\n  op - loop            {ms['profond op'] - ms['GEMM + gates loop']:>8.3f}")


if __name__ == "__main__":
    main()
