import json

from profond.cli import main
from profond.cli.datasets import CATALOGUE, describe


def test_lists_every_available_dataset_with_shapes_and_sources(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].split()[:5] == ["name", "task", "x", "y", "classes"]
    assert "digits" in out and "(1797, 64)" in out and "(1797,)" in out
    assert "iris" in out and "(150, 4)" in out
    assert "diabetes" in out and "regression" in out
    assert "scikit-learn" in out


def test_json_and_one_dataset(capsys):
    assert main(["datasets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["wine"]["x_shape"] == [178, 13] and by_name["wine"]["classes"] == 3
    assert set(by_name) <= set(CATALOGUE)
    assert main(["datasets", "iris", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["class_counts"] == {"0": 50, "1": 50, "2": 50}
    assert info["loader"] == "profond.datasets.load_iris()"
    assert main(["datasets", "breast_cancer"]) == 0
    assert "569" in capsys.readouterr().out


def test_unknown_dataset_is_a_clear_error(capsys):
    assert main(["datasets", "mnist"]) == 2
    err = capsys.readouterr().err
    assert "Unknown dataset 'mnist'" in err and "digits" in err


def test_describe_without_loading():
    info = describe("digits", load=False)
    assert "x_shape" not in info and info["bundled"] is True


def test_fashion_mnist_is_listed_without_reading_its_files(monkeypatch, capsys):
    from profond import datasets

    def refuse(*args, **kwargs):
        raise AssertionError("the list must not read Fashion-MNIST's files")

    monkeypatch.setattr(datasets, "load_fashion_mnist", refuse)
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "fashion_mnist" in out and "(60000, 28, 28) + (10000, 28, 28)" in out

    def missing(*args, **kwargs):
        raise FileNotFoundError("train-images-idx3-ubyte.gz not found")

    monkeypatch.setattr(datasets, "load_fashion_mnist", missing)
    info = describe("fashion_mnist")
    assert info["files"].startswith("not found") and info["classes"] == 10


def test_every_dataset_a_recipe_accepts_is_listed(capsys):
    # Issue 17: `profond datasets` omitted sunspots, which recipes accept.
    from profond.recipe import _BUNDLED

    assert set(_BUNDLED) == set(CATALOGUE)
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "sunspots" in out and "(309,)" in out and "time series" in out
    info = describe("sunspots")
    assert info["x_shape"] == [309] and "window" in info["windows"]
    assert info["loader"] == "profond.datasets.load_sunspots()"
