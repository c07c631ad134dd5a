import numpy as np
import pytest

import profond
from profond import layers


class TwoInTwoOut(profond.Model):
    """Dict in, dict out: a regression head and a classification head on a shared trunk."""

    def __init__(self):
        super().__init__()
        self.left = layers.Dense(6, activation="tanh")
        self.right = layers.Dense(6, activation="tanh")
        self.value = layers.Dense(2)
        self.label = layers.Dense(3, activation="softmax")

    def call(self, x):
        h = self.left(x["left"]) + self.right(x["right"])
        return {"value": self.value(h), "label": self.label(h)}


class ListModel(profond.Model):
    def __init__(self):
        super().__init__()
        self.a = layers.Dense(1)
        self.b = layers.Dense(1)

    def call(self, inputs):
        first, second = inputs
        return [self.a(first), self.b(second)]


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = {"left": rng.normal(size=(n, 4)), "right": rng.normal(size=(n, 2))}
    y = {"value": rng.normal(size=(n, 2)), "label": rng.integers(0, 3, n)}
    return x, y


def test_history_logs_each_output_and_the_total_is_their_weighted_sum():
    x, y = _data()
    profond.random.seed(0)
    model = TwoInTwoOut()
    model.compile(optimizer=profond.optimizers.SGD(learning_rate=0.0),
                  loss={"value": "mse", "label": "sparse_categorical_crossentropy"},
                  loss_weights={"value": 0.5, "label": 2.0},
                  metrics={"label": ["accuracy"], "value": ["mae"]})
    h = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
    for key in ("loss", "value_loss", "label_loss", "label_accuracy", "value_mae",
                "val_loss", "val_value_loss", "val_label_loss", "val_label_accuracy"):
        assert key in h.history, (key, sorted(h.history))
    total = 0.5 * h.history["value_loss"][0] + 2.0 * h.history["label_loss"][0]
    assert h.history["loss"][0] == pytest.approx(total, rel=1e-5)
    pred = model.predict(x, verbose=0)
    assert pred["value"].shape == (48, 2) and pred["label"].shape == (48, 3)
    err = pred["value"] - y["value"]
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert results["value_loss"] == pytest.approx(np.mean(err ** 2), rel=1e-4)
    assert results["value_mae"] == pytest.approx(np.mean(np.abs(err)), rel=1e-4)


def test_per_output_class_and_sample_weights():
    x, y = _data()
    profond.random.seed(0)
    model = TwoInTwoOut()
    model.compile(optimizer=profond.optimizers.SGD(learning_rate=0.0),
                  loss={"value": "mse", "label": "sparse_categorical_crossentropy"})
    sw = np.linspace(0.0, 2.0, 48)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    h = model.fit(x, y, batch_size=48, verbose=0, class_weight={"label": cw},
                  sample_weight={"value": sw, "label": sw})
    pred = model.predict(x, verbose=0).copy()
    se = np.mean((pred["value"] - y["value"]) ** 2, axis=1)
    nll = -np.log(pred["label"][np.arange(48), y["label"]])
    cws = np.vectorize(cw.get)(y["label"])
    assert h.history["value_loss"][0] == pytest.approx(np.mean(se * sw), rel=1e-5)
    assert h.history["label_loss"][0] == pytest.approx(np.mean(nll * sw * cws), rel=1e-5)
    with pytest.raises(ValueError, match="unknown outputs \\['labels'\\]"):
        model.fit(x, y, class_weight={"labels": cw}, verbose=0)
    with pytest.raises(ValueError, match="give class_weight per output name"):
        model.fit(x, y, class_weight=cw, verbose=0)


def test_list_inputs_and_outputs_train():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(64, 3)), rng.normal(size=(64, 2))
    ya, yb = a @ np.array([1.0, -2.0, 0.5]), b @ np.array([3.0, 1.0])
    profond.random.seed(0)
    model = ListModel()
    model.compile(optimizer=profond.optimizers.SGD(learning_rate=0.1), loss=["mse", "mae"],
                  loss_weights=[1.0, 0.0])
    h = model.fit([a, b], [ya, yb], batch_size=16, epochs=30, verbose=0)
    assert {"output_0_loss", "output_1_loss"} <= set(h.history)
    assert h.history["output_0_loss"][-1] < 0.05 * h.history["output_0_loss"][0]
    # loss weight 0: the second head never moves
    assert h.history["output_1_loss"][-1] == pytest.approx(h.history["output_1_loss"][0])
    out = model.predict([a, b], verbose=0)
    assert isinstance(out, list) and out[0].shape == (64, 1)


def test_per_output_loss_weight_scales_that_outputs_gradient():
    x, y = _data(16)
    grads = {}
    for w in (1.0, 3.0):
        profond.random.seed(0)
        model = TwoInTwoOut()
        model.compile(optimizer=profond.optimizers.SGD(learning_rate=1.0),
                      loss={"value": "mse", "label": "sparse_categorical_crossentropy"},
                      loss_weights={"value": w, "label": 0.0})
        model.build({"left": (None, 4), "right": (None, 2)})
        before = model.value.kernel.numpy().copy()
        model.fit(x, y, batch_size=16, shuffle=False, verbose=0)
        grads[w] = before - model.value.kernel.numpy()
    np.testing.assert_allclose(grads[3.0], 3.0 * grads[1.0], rtol=1e-4, atol=1e-7)


def test_bad_per_output_specs():
    x, y = _data(8)
    model = TwoInTwoOut()
    model.compile("sgd", loss={"value": "mse", "labl": "mse"})
    with pytest.raises(ValueError, match="unknown outputs \\['labl'\\]"):
        model.fit(x, y, verbose=0)
    model = TwoInTwoOut()
    model.compile("sgd", loss={"value": "mse", "label": "sparse_categorical_crossentropy"})
    with pytest.raises(ValueError, match="Missing targets for output 'value'"):
        model.fit(x, {"label": y["label"]}, verbose=0)
