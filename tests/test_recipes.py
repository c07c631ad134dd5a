"""Recipes: every wrong key, wrong type or unknown layer fails before any work, with an error
naming the key; the default recipe and the examples are valid; the default recipe trains."""

import copy
import glob
import os

import numpy as np
import pytest

from profond.recipe import RecipeError, build_model, load_recipe, parse_recipe, run_recipe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.toml")))


@pytest.fixture
def recipe():
    return load_recipe()


def _fails(recipe, change, *expected):
    broken = copy.deepcopy(recipe)
    change(broken)
    with pytest.raises(RecipeError) as info:
        parse_recipe(broken, "broken.toml")
    message = str(info.value)
    assert message.startswith("broken.toml: ")
    for text in expected:
        assert text in message, message
    return message


def test_default_recipe_is_valid(recipe):
    assert recipe["name"] == "digits_mlp"
    assert recipe["model"]["layers"][-1]["units"] == 10


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_examples_are_valid_and_build(path):
    r = load_recipe(path)
    d = r["data"]
    if "window" in d:  # a time series: windows of one feature, horizon values out
        shape, outputs = (d["window"], 1), d.get("horizon", 1)
    else:
        shape = (28, 28, 1) if d.get("dataset") == "fashion_mnist" else (64,)
        outputs = 10
    model = build_model(r, shape)
    out = np.asarray(model.predict(np.zeros((2,) + shape, np.float32), verbose=0))
    assert out.shape == (2, outputs)


def test_examples_cover_the_deck():
    names = {os.path.basename(p) for p in EXAMPLES}
    assert {"digits_mlp.toml", "fashion_mnist_cnn.toml", "fashion_mnist_lstm.toml"} <= names


@pytest.mark.parametrize("change, expected", [
    (lambda r: r.update(nmae="x"), ["unknown key 'nmae'", "the top level"]),
    (lambda r: r["fit"].update(epoch=3), ["unknown key 'epoch'", "[fit]", "did you mean 'epochs'"]),
    (lambda r: r["data"].update(test_sise=0.2), ["'test_sise'", "did you mean 'test_size'"]),
    (lambda r: r["compile"].update(metric=["accuracy"]), ["'metric'", "[compile]"]),
    (lambda r: r["model"]["layers"][0].update(unit=3),
     ["unknown key 'unit'", "[model] layers[0]", "did you mean 'units'"]),
    (lambda r: r["fit"].update(callbacks=[{"type": "EarlyStopping", "patiense": 3}]),
     ["'patiense'", "[fit] callbacks[0]", "did you mean 'patience'"]),
    (lambda r: r["compile"].update(optimizer={"type": "SGD", "learning_rat": 0.1}),
     ["[compile] optimizer.learning_rat"]),
])
def test_wrong_key_names_the_key(recipe, change, expected):
    _fails(recipe, change, *expected)


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["fit"].update(epochs="3"), ["'epochs'", "[fit]", "an integer", "'3'"]),
    (lambda r: r["fit"].update(batch_size=32.0), ["'batch_size'", "integer"]),
    (lambda r: r["data"].update(stratify="yes"), ["'stratify'", "boolean"]),
    (lambda r: r["fit"].update(shuffle=1), ["'shuffle'", "boolean"]),
    (lambda r: r.update(seed=True), ["'seed'", "integer"]),
    (lambda r: r["model"].update(layers={"type": "Dense"}), ["'layers'", "array"]),
    (lambda r: r["model"]["layers"][0].update(units="64"), ["[model] layers[0].units", "int"]),
    (lambda r: r["model"]["layers"][0].update(units=0), ["[model] layers[0].units"]),
    (lambda r: r["model"]["layers"][0].update(activation="relux"),
     ["[model] layers[0].activation", "relux"]),
    (lambda r: r["compile"].update(optimizer={"type": "SGD", "learning_rate": -1.0}),
     ["[compile] optimizer.learning_rate"]),
    (lambda r: r["data"].update(val_size=1.5), ["'val_size'", "[0, 1)"]),
    (lambda r: r["data"].update(scaling="zscore"), ["scaling", "'zscore'"]),
])
def test_wrong_type_or_value_names_the_key(recipe, change, expected):
    _fails(recipe, change, *expected)


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["model"]["layers"][0].update(type="Dens"),
     ["[model] layers[0].type", "Unknown layer 'Dens'", "Dense"]),
    (lambda r: r["model"]["layers"].insert(1, {"units": 3}), ["[model] layers[1]", "'type'"]),
    (lambda r: r["fit"].update(callbacks=[{"type": "EarlyStop"}]),
     ["[fit] callbacks[0].type", "EarlyStopping"]),
    (lambda r: r["compile"].update(optimizer={"type": "Adamm"}), ["[compile] optimizer",
                                                                 "'Adamm'"]),
    (lambda r: r["data"].update(dataset="digit"), ["dataset 'digit'", "did you mean 'digits'"]),
])
def test_unknown_layer_callback_optimizer_dataset(recipe, change, expected):
    _fails(recipe, change, *expected)


def test_missing_sections_and_exclusive_sources(recipe):
    _fails(recipe, lambda r: r.pop("model"), "missing required key 'model'")
    _fails(recipe, lambda r: r["compile"].pop("loss"), "missing required key 'loss'")
    _fails(recipe, lambda r: r["data"].update(path="x.csv"), "exactly one of 'dataset'")
    _fails(recipe, lambda r: r["model"].update(layers=[]), "layers is empty")


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(bad)
    with pytest.raises(FileNotFoundError):
        load_recipe(tmp_path / "nope.toml")


def test_csv_recipe_trains(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    path = tmp_path / "data.csv"
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="a,b,c,label", comments="")
    recipe = parse_recipe({
        "data": {"path": str(path), "target": "label", "test_size": 0.25, "val_size": 0.1},
        "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                             {"type": "Dense", "units": 2, "activation": "softmax"}]},
        "compile": {"optimizer": {"type": "SGD", "learning_rate": 0.1, "momentum": 0.9},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "fit": {"epochs": 15, "batch_size": 16}}, "csv.toml")
    results = run_recipe(recipe, out_dir=tmp_path / "run", verbose=0)
    assert results["test_accuracy"] > 0.85
    for name in ("history.csv", "results.json", "recipe.json", "model.safetensors"):
        assert (tmp_path / "run" / name).exists()


def test_default_recipe_trains_to_095(tmp_path):
    results = run_recipe(load_recipe(), out_dir=tmp_path, verbose=0)
    assert results["test_accuracy"] >= 0.95
    assert results["epochs_run"] == 30


def test_the_example_said_to_be_the_default_recipe_is_it():
    # Issue 17: examples/digits_mlp.toml said so, with no Dropout and SGD instead of Adam.
    example = os.path.join(ROOT, "examples", "digits_mlp.toml")
    with open(example, encoding="utf-8") as fh:
        assert "same as the default recipe" in fh.read()
    assert load_recipe(example) == load_recipe()


@pytest.mark.parametrize("key, value", [("epochs", 0), ("batch_size", 0),
                                        ("validation_freq", 0)])
def test_fit_numbers_below_one_are_refused(recipe, key, value):
    _fails(recipe, lambda r: r["fit"].update({key: value}),
           f"key '{key}' in [fit] must be an integer >= 1. Got {value}")


def test_a_negative_seed_is_refused(recipe):
    _fails(recipe, lambda r: r.update(seed=-1), "key 'seed' must be an integer >= 0")
