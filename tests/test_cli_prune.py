"""``profond prune``: every option is checked before the demo model trains (issue 17: a wrong
--amount, --criterion or --layers used to be refused only after the training)."""

import pytest

from profond.cli.main import main


@pytest.fixture
def no_training(monkeypatch):
    from profond.models.model import Model

    def refuse(self, *args, **kwargs):
        raise AssertionError("a model trained before the options were refused")

    monkeypatch.setattr(Model, "fit", refuse)


@pytest.mark.parametrize("argv, message", [
    (["--amount", "1.5"], "The '--amount' parameter of profond prune must be a float in [0, 1). "
                          "Got 1.5 instead."),
    (["--threshold", "-1"], "The '--threshold' parameter of profond prune must be a float in "
                            "[0, inf). Got -1.0 instead."),
    (["--criterion", "l3"], "The '--criterion' parameter of profond prune must be one of "
                            "['l1', 'l2', 'max_abs', 'mean_abs']. Got 'l3' instead."),
    (["--fine-tune-epochs", "-1"], "The '--fine-tune-epochs' parameter of profond prune must be "
                                   "an int in [0, inf). Got -1 instead."),
    (["--batch-size", "0"], "The '--batch-size' parameter of profond prune must be an int in "
                            "[1, inf). Got 0 instead."),
    (["--repeats", "0"], "The '--repeats' parameter of profond prune must be an int in [1, inf)."
                         " Got 0 instead."),
    (["--data", "mnist"], "The '--data' parameter of profond prune must be 'digits', "
                          "'fashion_mnist' or an existing .npz file. Got 'mnist' instead."),
    (["--out", "small.keras"], "The '--out' parameter of profond prune must be a file name "
                               "ending in '.safetensors'. Got 'small.keras' instead."),
    (["missing.safetensors"], "The 'MODEL' parameter of profond prune must be a model file "
                              "written by model.save. Got 'missing.safetensors', which is not a "
                              "file, instead."),
])
def test_prune_refuses_a_wrong_option_in_one_line(argv, message, capsys, no_training):
    assert main(["prune", *argv]) == 2
    assert capsys.readouterr().err == f"profond prune: error: {message}\n"


@pytest.mark.parametrize("layers, message", [
    ("nope", "names layer 'nope', which model"),
    ("output", "Layer 'output' (Dense) gives the model's outputs"),
])
def test_prune_checks_layer_names_on_the_demo_before_training_it(layers, message, capsys,
                                                                 no_training):
    assert main(["prune", "--layers", layers]) == 2
    err = capsys.readouterr().err
    assert err.startswith("profond prune: error: ") and message in err and err.count("\n") == 1
    assert "hidden_1" in err or "output" in err
