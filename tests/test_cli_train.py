"""``profond train``: the default recipe from the command line, overrides, and errors."""

import json
import re

from profond.cli.main import main


def test_train_default_recipe_prints_test_accuracy(tmp_path, capsys):
    assert main(["train", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"accuracy=([0-9.]+)", out).group(1))
    assert accuracy >= 0.95
    results = json.loads((tmp_path / "results.json").read_text())
    assert abs(results["test_accuracy"] - accuracy) < 1e-4


def test_train_overrides_and_show_recipe(tmp_path, capsys):
    assert main(["train", "--quiet", "--epochs", "2", "--seed", "3", "--out",
                 str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["epochs_run"] == 2 and results["seed"] == 3
    capsys.readouterr()
    assert main(["train", "--show-recipe"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "digits_mlp"


def test_train_bad_recipe_is_an_error_naming_the_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\ndataset = "digits"\n[model]\nlayers = [{ type = "Dense", unit = 3 }]'
                   '\n[compile]\nloss = "mse"\n')
    assert main(["train", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'unit'" in err and "layers[0]" in err
    assert main(["train", str(tmp_path / "missing.toml")]) == 2


# --- issue 17: the command does what it is told, or says why not, in one line ---------------

import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def no_training(monkeypatch):
    """Any training from here on fails the test: the options must be refused before."""
    import profond.recipe

    def refuse(*args, **kwargs):
        raise AssertionError("the command started working before refusing its options")

    monkeypatch.setattr(profond.recipe, "run_recipe", refuse)


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "The '--epochs' parameter of profond train must be an int in "
                        "[1, inf). Got 0 instead."),
    (["--batch-size", "0"], "The '--batch-size' parameter of profond train must be an int in "
                            "[1, inf). Got 0 instead."),
    (["--seed", "-1"], "The '--seed' parameter of profond train must be an int in [0, inf). "
                       "Got -1 instead."),
])
def test_train_refuses_a_wrong_number_in_one_line(argv, message, capsys, no_training):
    # Issue 17: --epochs 0 ran the recipe's 30 epochs, --batch-size 0 ran with 32.
    assert main(["train", *argv]) == 2
    assert capsys.readouterr().err == f"profond train: error: {message}\n"


def test_train_out_naming_a_file_is_refused(tmp_path, capsys, no_training):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    assert main(["train", "--out", str(existing)]) == 2
    err = capsys.readouterr().err
    assert "'--out' parameter of profond train must be a folder" in err and "existing file" in err
    assert err.count("\n") == 1 and existing.read_text() == "keep me"


def test_run_recipe_checks_its_overrides(tmp_path):
    from profond.recipe import load_recipe, run_recipe

    with pytest.raises(ValueError, match="'epochs' parameter of run_recipe"):
        run_recipe(load_recipe(), out_dir=tmp_path, epochs=0)
    with pytest.raises(ValueError, match="'out_dir' parameter of run_recipe must be a folder"):
        (tmp_path / "f").write_text("")
        run_recipe(load_recipe(), out_dir=tmp_path / "f")


def test_usage_errors_are_one_line_too(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--epochs", "many"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid int value: 'many'" in err and "--help" in err


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch, capsys):
    import profond.cli.train

    def boom(args):
        raise RuntimeError("something\nbroke")

    monkeypatch.setattr(profond.cli.train, "run", boom)
    assert main(["train"]) == 2
    assert capsys.readouterr().err == "profond train: error: RuntimeError: something broke\n"

    def interrupt(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(profond.cli.train, "run", interrupt)
    assert main(["train"]) == 130
    assert capsys.readouterr().err == "profond train: interrupted.\n"


def test_a_closed_pipe_ends_quietly():
    # `profond train --show-recipe | head -1`: the reader goes away before the output is read.
    code = "import sys; from profond.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "train", "--show-recipe"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # closed before the child writes: its first write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert err == "", err


def test_summary_counts_the_epochs_that_ran():
    from profond.cli.train import _epochs_line

    resumed = {"epochs_run": 60, "epochs_this_run": 5, "initial_epoch": 55,
               "train_seconds": 0.2}
    assert _epochs_line(resumed) == "5 epochs in 0.2s (resumed after epoch 55; 60 in all)"
    fresh = {"epochs_run": 1, "epochs_this_run": 1, "initial_epoch": 0, "train_seconds": 3.04}
    assert _epochs_line(fresh) == "1 epoch in 3.0s"


def test_a_fresh_run_reports_all_its_epochs_as_run_now(tmp_path):
    assert main(["train", "--quiet", "--epochs", "2", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["epochs_this_run"] == results["epochs_run"] == 2
    assert results["initial_epoch"] == 0


def test_lab_options_are_checked_before_a_lab_runs(tmp_path, capsys):
    assert main(["lab", "losses", "--seed", "-1"]) == 2
    assert capsys.readouterr().err == ("profond lab: error: The '--seed' parameter of profond "
                                       "lab must be an int in [0, inf). Got -1 instead.\n")
    assert main(["lab", "loses"]) == 2
    assert "did you mean 'losses'" in capsys.readouterr().err
    (tmp_path / "f").write_text("")
    assert main(["lab", "losses", "--out", str(tmp_path / "f")]) == 2
    assert "'--out' parameter of profond lab must be a folder" in capsys.readouterr().err
