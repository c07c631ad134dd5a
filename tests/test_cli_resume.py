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
