"""The cost of the SHA-256 checksum in profond's model files, on a ~100 MB model.

Saves and loads a model of 25 million float32 weights (Dense 5000 -> 5000) with profond,
with the checksum (written, then verified) and without it (the same code with the hashing
switched off), and, for reference, the same tensors written and read by safetensors alone
(``save_file``/``load_file``: no checksum, no fsync, no model to rebuild), alternating repeats;
"read" is the file's tensors alone (``profond.io.safetensors_file.read``), without rebuilding
the model. Prints medians and ratios. The files go to ``--dir`` (default: a temporary folder; a RAM
disk hides the disk's share of the time, a real disk shows it).

Run: python bench/checksum.py [--repeats 5] [--dir PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import statistics
import tempfile
import time

import profond
from profond import layers


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class _NoHash:
    """Stands for hashlib.sha256 when the check is off: same calls, no work."""

    def __init__(self, data=b""):
        pass

    def update(self, data):
        pass

    def hexdigest(self):
        return "0" * 64


@contextlib.contextmanager
def checksum_off():
    from profond.io import safetensors_file

    sha, intact = safetensors_file.hashlib.sha256, safetensors_file._intact
    safetensors_file.hashlib = type("H", (), {"sha256": _NoHash})
    safetensors_file._intact = lambda raw, n, expected: True
    try:
        yield
    finally:
        safetensors_file.hashlib = hashlib
        safetensors_file._intact = intact
        assert sha is hashlib.sha256


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args(argv)
    from safetensors import numpy as st

    from profond.io import safetensors_file
    from profond.io.safetensors_file import read_header
    from profond.io.weights_file import weights_to_dict

    model = profond.Sequential([layers.Input((5000,)), layers.Dense(5000)])
    folder = args.dir or tempfile.mkdtemp()
    ours, plain = os.path.join(folder, "ours.safetensors"), os.path.join(folder, "plain.safetensors")
    model.save(ours)
    metadata = {k: v for k, v in read_header(ours)[0].items() if k != "sha256"}
    tensors = weights_to_dict(model)
    size = os.path.getsize(ours)
    times = {k: [] for k in ("save", "save unchecked", "save plain", "load", "load unchecked",
                             "load plain", "read", "read unchecked", "sha256 alone")}
    with open(ours, "rb") as fh:
        raw = fh.read()
    for _ in range(args.repeats):
        times["save"].append(timed(lambda: model.save(ours)))
        times["load"].append(timed(lambda: profond.load_model(ours)))
        times["read"].append(timed(lambda: safetensors_file.read(ours)))
        with checksum_off():
            times["save unchecked"].append(timed(lambda: model.save(ours)))
            times["load unchecked"].append(timed(lambda: profond.load_model(ours)))
            times["read unchecked"].append(timed(lambda: safetensors_file.read(ours)))
        times["save plain"].append(timed(lambda: st.save_file(tensors, plain, metadata=metadata)))
        times["load plain"].append(timed(lambda: st.load_file(plain)))
        times["sha256 alone"].append(timed(lambda: hashlib.sha256(raw).hexdigest()))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"file: {size / 1e6:.1f} MB, {args.repeats} repeats, medians")
    for k, v in med.items():
        print(f"  {k:<14} {v * 1000:8.1f} ms")
    plain = {"save": "save plain", "load": "load plain", "read": "load plain"}
    for what in ("save", "load", "read"):
        print(f"{what}: checksum costs {(med[what] - med[what + ' unchecked']) * 1000:.0f} ms "
              f"({med[what] / med[what + ' unchecked']:.2f}x profond without it, "
              f"{med[what] / med[plain[what]]:.2f}x safetensors alone)")
    print(f"SHA-256 throughput: {size / med['sha256 alone'] / 1e9:.2f} GB/s")


if __name__ == "__main__":
    main()
