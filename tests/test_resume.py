"""Kill-and-resume: a run killed at any moment (SIGKILL included) and resumed from its last
checkpoint ends with exactly the weights of an uninterrupted run with the same seed, shuffles
and dropout masks included."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import profond
from profond.callbacks import latest_checkpoint, load_checkpoint
from profond.io.weights_file import read_weights_list

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _resume_script as script  # noqa: E402

EPOCHS = 6


def _start(folder, sleep):
    return subprocess.Popen([sys.executable, os.path.join(HERE, "_resume_script.py"),
                             str(folder), str(EPOCHS), str(sleep)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_checkpoint(folder, proc, timeout=60):
    start = time.time()
    while latest_checkpoint(folder) is None:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.stderr.read().decode()}")
        if time.time() - start > timeout:
            raise AssertionError("no checkpoint appeared")
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkilled_run_resumes_to_identical_weights(tmp_path):
    reference, _ = script.run(str(tmp_path / "unused"), EPOCHS)
    expected = reference.get_weights()

    folder = tmp_path / "run"
    folder.mkdir()
    rng = np.random.default_rng()
    epochs_at_kill = []
    for _ in range(2):
        proc = _start(folder, sleep=0.01)  # ~0.08 s per epoch
        _wait_for_checkpoint(folder, proc)
        time.sleep(float(rng.uniform(0.0, 0.15)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        epochs_at_kill.append(load_checkpoint(latest_checkpoint(folder)).initial_epoch)
    assert not (folder / "final.safetensors").exists()
    assert epochs_at_kill[0] < EPOCHS
    done = subprocess.run([sys.executable, os.path.join(HERE, "_resume_script.py"),
                           str(folder), str(EPOCHS), "0"], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    got = read_weights_list(folder / "final.safetensors")
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    # No temporary file survived the kills.
    assert not [f for f in os.listdir(folder) if f.startswith(".tmp-")]


def test_resume_in_process_at_every_epoch_matches(tmp_path):
    full, full_history = script.run(str(tmp_path / "full"), 4)
    (tmp_path / "full").mkdir(exist_ok=True)
    for stop in range(1, 4):
        folder = tmp_path / f"stop{stop}"
        folder.mkdir()
        script.run(str(folder), stop)          # "killed" after `stop` epochs
        profond.random.seed(999)               # whatever happens in between ...
        profond.random.generator().normal(size=10)
        model, history = script.run(str(folder), 4)   # ... resuming is exact
        assert history.epoch == list(range(stop, 4))
        for a, b in zip(model.get_weights(), full.get_weights()):
            np.testing.assert_array_equal(a, b)
        _, initial_epoch, past = load_checkpoint(latest_checkpoint(folder))
        assert initial_epoch == 4 and past["epoch"] == [0, 1, 2, 3]
        assert past["loss"] == full_history.history["loss"]


def test_resuming_needs_a_full_checkpoint(tmp_path):
    model = script.build()
    model.build((None, 6))
    model.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="weights only.*save_weights_only=False"):
        load_checkpoint(tmp_path / "w.safetensors")
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "m.safetensors")
    assert latest_checkpoint(tmp_path) is None
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 3)
    assert latest_checkpoint(tmp_path) is None
