"""Time-series recipes: windows split in time order, scaler fitted on the training years."""

import numpy as np
import pytest

from profond.datasets import load_sunspots
from profond.recipe import RecipeError, load_recipe, parse_recipe, run_recipe, series_splits

BASE = {"data": {"dataset": "sunspots", "window": 10, "val_size": 0.1, "test_size": 0.2},
        "model": {"layers": [{"type": "LSTM", "units": 8}, {"type": "Dense", "units": 1}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "mse"},
        "fit": {"epochs": 2, "batch_size": 32}}


def test_series_splits_are_in_time_order_and_scaled_on_training_years_only():
    x_tr, x_val, x_te, y_tr, y_val, y_te = series_splits(BASE["data"])
    raw = load_sunspots()
    n = len(raw)
    n_test, n_val = round(n * 0.2), round(n * 0.1)
    n_train = n - n_test - n_val
    mean, std = raw[:n_train].mean(), raw[:n_train].std()
    scaled = (raw - mean) / std
    # every target appears once, in time order, train then validation then test
    targets = np.concatenate([y_tr[:, 0], y_val[:, 0], y_te[:, 0]])
    np.testing.assert_allclose(targets, scaled[10:], rtol=1e-6)
    assert len(y_val) == n_val and len(y_te) == n_test
    np.testing.assert_allclose(x_te[0, :, 0], scaled[n_train + n_val - 10:n_train + n_val])


def test_series_recipe_trains_and_forecasts(tmp_path):
    results = run_recipe(parse_recipe(BASE), out_dir=tmp_path, verbose=0)
    assert np.isfinite(results["test_loss"]) and results["n_test"] > 0


@pytest.mark.parametrize("change, key", [
    ({"window": 0}, "window"),
    ({"window": None}, "window"),
    ({"stratify": True}, "stratify"),
    ({"dataset": "digits"}, "window"),
])
def test_bad_series_keys_name_the_key(change, key):
    data = {**BASE["data"], **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(RecipeError, match=key):
        parse_recipe({**BASE, "data": data})


def test_example_recipe_is_valid():
    recipe = load_recipe("examples/timeseries_forecast.toml")
    assert recipe["data"]["dataset"] == "sunspots"
