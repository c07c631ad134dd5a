"""`profond train --resume RUN_FOLDER`: a killed CLI run ends with the weights of an unbroken one."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import profond
from profond.cli import main

EPOCHS = "20"


def _train(out, extra=()):
    return subprocess.Popen([sys.executable, "-m", "profond.cli.main", "train", "--epochs",
                             EPOCHS, "--quiet", "--out", str(out), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkilled_cli_run_resumes_to_identical_model(tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    proc = _train(killed)
    checkpoint = killed / "checkpoint.safetensors"
    deadline = time.time() + 120
    while not checkpoint.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "results.json").exists(), "the run finished before it was killed"

    assert main(["train", "--resume", str(killed), "--quiet"]) == 0
    assert main(["train", "--epochs", EPOCHS, "--quiet", "--out", str(whole)]) == 0

    a = profond.load_model(str(killed / "model.safetensors")).get_weights()
    b = profond.load_model(str(whole / "model.safetensors")).get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    rows = (killed / "history.csv").read_text().strip().splitlines()
    assert len(rows) == int(EPOCHS) + 1  # header, then every epoch, before and after the kill


def test_resume_needs_a_run_folder(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


# --- callbacks with state, finished runs, options that contradict the run -------------------
RECIPE = """
name = "stateful"
seed = 3
[data]
dataset = "digits"
[model]
layers = [{ type = "Dense", units = 24, activation = "relu" }, { type = "Dropout", rate = 0.2 },
          { type = "Dense", units = 10, activation = "softmax" }]
[compile]
optimizer = { type = "Adam", learning_rate = 0.01 }
loss = "sparse_categorical_crossentropy"
metrics = ["accuracy"]
[fit]
epochs = 40
callbacks = [{ type = "EarlyStopping", monitor = "val_loss", patience = 2, restore_best_weights = true },
             { type = "ReduceLROnPlateau", monitor = "val_loss", factor = 0.5, patience = 1 }]
"""


def _killed_after_checkpoint(argv, epoch):
    """Run ``profond ARGV`` in a forked process that SIGKILLs itself right after writing the
    checkpoint of ``epoch`` (0-based)."""
    import multiprocessing
    import os

    from profond.callbacks.checkpoint import CheckpointWriter

    def child():
        write = CheckpointWriter.write_checkpoint

        def write_then_die(self):
            pending = self._pending
            write(self)
            if pending is not None and pending[0] == epoch:
                os.kill(os.getpid(), signal.SIGKILL)

        CheckpointWriter.write_checkpoint = write_then_die
        main(argv)

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(120)
    assert proc.exitcode == -signal.SIGKILL


def _outputs(folder):
    import json

    results = json.loads((folder / "results.json").read_text())
    for key in ("train_seconds", "out_dir", "epochs_this_run", "initial_epoch"):
        results.pop(key)
    weights = profond.load_model(str(folder / "model.safetensors")).get_weights()
    return weights, (folder / "history.csv").read_text(), results


def _assert_same_run(a, b):
    wa, ha, ra = _outputs(a)
    wb, hb, rb = _outputs(b)
    assert all(np.array_equal(u, v) for u, v in zip(wa, wb))
    assert ha == hb and ra == rb


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stateful")
    recipe = folder / "stateful.toml"
    recipe.write_text(RECIPE)
    assert main(["train", str(recipe), "--quiet", "--out", str(folder / "run")]) == 0
    import json

    results = json.loads((folder / "run" / "results.json").read_text())
    assert 6 <= results["epochs_run"] < 40  # early stopping ended it
    return recipe, folder / "run", results["epochs_run"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_twice_with_stateful_callbacks_resumes_exactly(tmp_path, unbroken):
    recipe, whole, n = unbroken
    run = tmp_path / "run"
    _killed_after_checkpoint(["train", str(recipe), "--quiet", "--out", str(run)], 1)
    # the second kill late, when early stopping's counter and best weights decide the end
    _killed_after_checkpoint(["train", "--resume", str(run), "--quiet"], n - 2)
    assert not (run / "results.json").exists()
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    _assert_same_run(run, whole)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_after_its_last_checkpoint_a_run_completes(tmp_path, unbroken):
    recipe, whole, n = unbroken
    run = tmp_path / "run"
    _killed_after_checkpoint(["train", str(recipe), "--quiet", "--out", str(run)], n - 1)
    assert not (run / "history.csv").exists()
    assert main(["train", "--resume", str(run), "--quiet"]) == 0  # no epoch left to train
    _assert_same_run(run, whole)  # history.csv with every column, best weights restored


def test_resuming_a_finished_run_changes_nothing(tmp_path, unbroken, capsys):
    import shutil

    recipe, whole, n = unbroken
    run = tmp_path / "run"
    shutil.copytree(whole, run)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.iterdir()}
    capsys.readouterr()
    for extra in ([], ["--epochs", "40"], ["--epochs", "60"]):  # stopped early: 60 changes nothing
        assert main(["train", "--resume", str(run), "--quiet", *extra]) == 0
        assert f"had finished (stopped early at epoch {n})" in capsys.readouterr().out
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in run.iterdir()}
    assert after == before


def test_resume_extends_a_run_with_more_epochs(tmp_path):
    short, longer = tmp_path / "short", tmp_path / "long"
    assert main(["train", "--epochs", "2", "--quiet", "--out", str(short)]) == 0
    assert main(["train", "--resume", str(short), "--epochs", "1", "--quiet"]) == 2
    assert main(["train", "--resume", str(short), "--epochs", "3", "--quiet"]) == 0
    assert main(["train", "--epochs", "3", "--quiet", "--out", str(longer)]) == 0
    _assert_same_run(short, longer)
    assert '"epochs": 3' in (short / "recipe.json").read_text()


def test_resume_refuses_options_that_contradict_the_run(tmp_path, unbroken, capsys):
    recipe, whole, _ = unbroken
    before = (whole / "results.json").read_bytes()
    capsys.readouterr()
    for extra, named in ((["--seed", "4"], "--seed 4 (the run's is 3)"),
                         (["--batch-size", "8"], "--batch-size 8 (the run's is 32)"),
                         (["--out", str(tmp_path)], "--out"),
                         ([str(recipe)], "RECIPE")):
        assert main(["train", "--resume", str(whole), "--quiet", *extra]) == 2
        assert named in capsys.readouterr().err
    assert main(["train", "--resume", str(whole), "--seed", "3", "--show-recipe"]) == 0
    assert '"name": "stateful"' in capsys.readouterr().out
    assert (whole / "results.json").read_bytes() == before
