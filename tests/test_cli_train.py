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
