"""timeseries_windows and the bundled sunspots series."""

import numpy as np
import pytest

import profond
from profond import layers
from profond.data import timeseries_windows
from profond.datasets import load_sunspots


def test_windows_of_a_1d_series():
    x, y = timeseries_windows(np.arange(10), window=4)
    assert x.shape == (6, 4, 1) and y.shape == (6, 1)
    np.testing.assert_array_equal(x[2, :, 0], [2, 3, 4, 5])
    np.testing.assert_array_equal(y[:, 0], np.arange(4, 10))


def test_horizon_and_stride():
    x, y = timeseries_windows(np.arange(12), window=3, horizon=2, stride=4)
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1, 2], [4, 5, 6]])
    np.testing.assert_array_equal(y, [[3, 4], [7, 8]])
    x, y = timeseries_windows(np.arange(5), window=4)
    assert x.shape == (1, 4, 1) and y.tolist() == [[4]]


def test_windows_of_a_2d_series():
    series = np.arange(20.0).reshape(10, 2)
    x, y = timeseries_windows(series, window=3, horizon=2)
    assert x.shape == (6, 3, 2) and y.shape == (6, 2, 2)
    np.testing.assert_array_equal(x[1], series[1:4])
    np.testing.assert_array_equal(y[1], series[4:6])


def test_errors():
    with pytest.raises(ValueError, match=r"The 'series' parameter of timeseries_windows must "
                                         r"have at least window \+ horizon = 7 steps \(window=5, "
                                         r"horizon=2\)\. Got 6 steps instead\."):
        timeseries_windows(np.arange(6), window=5, horizon=2)
    with pytest.raises(ValueError, match=r"The 'window' parameter of timeseries_windows must be "
                                         r"an int in \[1, inf\)\. Got 0 instead"):
        timeseries_windows(np.arange(6), window=0)
    with pytest.raises(ValueError, match=r"must be 1-D \(n_steps,\) or 2-D"):
        timeseries_windows(np.zeros((3, 3, 3)), window=1)


def test_sunspots_series():
    values, years = load_sunspots(return_years=True)
    assert values.shape == (309,) and years[0] == 1700 and years[-1] == 2008
    assert values.min() >= 0 and 150 < values.max() < 200   # the 1957 maximum, 190.2
    assert years[np.argmax(values)] == 1957
    # the solar cycle: strongest autocorrelation between 9 and 12 years
    v = values - values.mean()
    acf = [np.dot(v[:-lag], v[lag:]) / np.dot(v, v) for lag in range(1, 16)]
    assert 9 <= int(np.argmax(acf[5:])) + 6 <= 12


def test_gru_forecasts_sunspots_better_than_persistence():
    values = load_sunspots()
    scaled = (values / 100.0).astype(np.float32)
    x, y = timeseries_windows(scaled, window=12)
    split = 240
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((12, 1)), layers.GRU(16), layers.Dense(1)])
    model.compile(optimizer=profond.optimizers.Adam(0.01), loss="mse")
    model.fit(x[:split], y[:split], batch_size=32, epochs=40, verbose=0)
    mse = float(np.mean((model.predict(x[split:], verbose=0) - y[split:]) ** 2))
    persistence = float(np.mean((x[split:, -1] - y[split:]) ** 2))  # "next year = this year"
    assert mse < 0.7 * persistence
