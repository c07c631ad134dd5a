"""End to end: an MLP learns the digits, a seed makes fit reproducible bit for bit, and the
Model API (Sequential and subclassing, summary, count_params, get/set_weights, evaluate,
predict, History) behaves as Keras's."""

import numpy as np
import pytest

import profond
from profond import layers, optimizers
from profond.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits()
    x = (x / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    return x[:1400], y[:1400], x[1400:], y[1400:]


def mlp(seed=0):
    profond.random.seed(seed)
    return profond.Sequential([layers.Input((64,)), layers.Dense(64, activation="relu"),
                               layers.Dense(10, activation="softmax")])


def test_mlp_reaches_097_on_digits(digits):
    x, y, x_test, y_test = digits
    model = mlp()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=30, verbose=0, validation_split=0.1)
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 30
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc >= 0.97, acc
    probs = model.predict(x_test, batch_size=64, verbose=0)
    assert probs.shape == (len(x_test), 10) and isinstance(probs, np.ndarray)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    assert np.mean(probs.argmax(1) == y_test) == pytest.approx(acc)


def test_same_seed_gives_identical_weights_after_fit(digits):
    x, y = digits[0][:300], digits[1][:300]
    runs = []
    for _ in range(2):
        model = mlp(seed=5)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)  # shuffled: the seed drives it too
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    other = mlp(seed=6)
    assert not np.array_equal(other.get_weights()[0], runs[0][0])


def test_summary_and_count_params(capsys):
    model = mlp()
    assert model.count_params() == 64 * 64 + 64 + 64 * 10 + 10
    model.summary()
    text = capsys.readouterr().out
    assert "dense" in text and "(Dense)" in text and "(None, 64)" in text and "(None, 10)" in text
    assert "4,160" in text and "650" in text and "Total params: 4,810" in text
    lines = []
    model.summary(print_fn=lines.append)
    assert "Trainable params: 4,810" in lines[0]


def test_get_and_set_weights_in_keras_order():
    model = mlp()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(64, 64), (64,), (64, 10), (10,)]
    other = mlp(seed=9)
    x = np.random.default_rng(0).random((5, 64))
    assert not np.allclose(other.predict(x, verbose=0), model.predict(x, verbose=0))
    other.set_weights(weights)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    weights[0][...] = 0  # get_weights returns copies
    assert model.get_weights()[0].any()
    with pytest.raises(ValueError, match=r"must hold 4 weight arrays .*\. Got 3 instead"):
        model.set_weights(weights[:3])


def test_subclassed_model_trains():
    class TwoLayers(profond.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(16, activation="tanh")
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5]))[:, None]
    model = TwoLayers()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=32, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
    assert len(model.weights) == 4 and model.count_params() == 3 * 16 + 16 + 16 + 1
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(result) == {"loss", "mean_absolute_error"} or set(result) == {"loss", "mae"}
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(result["loss"], np.mean((pred - y) ** 2), rtol=1e-4)


def test_one_sgd_step_matches_a_hand_computation():
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.set_weights([np.array([[0.5], [-1.0]]), np.array([0.25])])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([[1.0], [0.0]])
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    k, b = np.array([[0.5], [-1.0]]), np.array([0.25])
    err = x @ k + b - y
    gk, gb = x.T @ (2 * err) / 2, (2 * err).sum(0) / 2
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, k - 0.1 * gk, rtol=1e-6)
    np.testing.assert_allclose(bias, b - 0.1 * gb, rtol=1e-6)


def test_fit_with_validation_data_and_sample_weight():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = profond.Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(0.5), loss="binary_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_data=(x, y),
                  sample_weight=np.ones(64))
    assert len(h.history["val_accuracy"]) == 3
    assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(x, y, verbose=0)[0],
                                                      rel=1e-5)
