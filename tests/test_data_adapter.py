"""fit's data adapter: several inputs and outputs as lists or dicts, weights per output, the
validation split, generators, and clear errors for mismatched sample counts."""

import numpy as np
import pytest

import profond
from profond import layers
from profond.training.batching import ArrayBatches
from profond.training.data_adapter import evaluate_data, fit_data, predict_data, single_batch


def _rows(n, width, start=0):
    return np.arange(start, start + n * width, dtype=np.float32).reshape(n, width)


def test_list_and_dict_inputs_and_outputs_keep_their_structure_and_order():
    x = [_rows(10, 2), _rows(10, 3, 100)]
    y = {"value": _rows(10, 1, 500), "label": np.arange(10) % 3}
    data = fit_data(x, y, batch_size=4, shuffle=False)
    assert (data.samples, data.steps, data.batch_size) == (10, 3, 4)
    batches = list(data.batches)
    assert [len(b[0][0]) for b in batches] == [4, 4, 2]
    xb, yb, swb = batches[1]
    assert isinstance(xb, list) and sorted(yb) == ["label", "value"] and swb is None
    np.testing.assert_array_equal(xb[0], x[0][4:8])
    np.testing.assert_array_equal(xb[1], x[1][4:8])
    np.testing.assert_array_equal(yb["value"], y["value"][4:8])
    np.testing.assert_array_equal(yb["label"], y["label"][4:8])
    # Tuples of inputs stay tuples, and lists of numbers are arrays.
    xb, yb, _ = single_batch((x[0], x[1]), [0.5] * 10)
    assert isinstance(xb, tuple) and yb.shape == (10,) and yb.dtype == np.float32


def test_dict_inputs_keyed_by_name_reach_call_as_a_dict():
    class Named(profond.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = layers.Dense(1), layers.Dense(1)

        def call(self, inputs):
            assert sorted(inputs) == ["age", "pixels"]
            return self.a(inputs["pixels"]) + self.b(inputs["age"])

    x = {"pixels": _rows(12, 4) / 50, "age": _rows(12, 1) / 12}
    y = np.ones((12, 1), dtype=np.float32)
    model = Named()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=5, epochs=2, validation_split=0.25, verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert model.predict(x, batch_size=5, verbose=0).shape == (12, 1)
    assert np.isfinite(model.evaluate(x, y, verbose=0))


def test_shuffling_draws_the_same_order_as_array_batches_for_a_seed():
    x, y = _rows(23, 2), np.arange(23)
    profond.random.seed(7)
    got = [b[1].tolist() for b in fit_data(x, y, batch_size=5).batches]
    profond.random.seed(7)
    want = [b[1].tolist() for b in ArrayBatches((x, y, None), batch_size=5, shuffle=True)]
    assert got == want and sorted(v for batch in got for v in batch) == list(range(23))


def test_sample_and_class_weights_per_output():
    y = {"a": np.array([0, 1, 1, 0, 1, 0]), "b": np.zeros((6, 1))}
    sw = {"a": np.full(6, 2.0), "b": np.arange(6.0)}
    data = fit_data(np.zeros((6, 2)), y, sample_weight=sw, class_weight={"a": {0: 1.0, 1: 3.0}},
                    batch_size=6, shuffle=False, loss="sparse_categorical_crossentropy")
    _, _, swb = data.batches.first()
    np.testing.assert_allclose(swb["a"], [2.0, 6.0, 6.0, 2.0, 6.0, 2.0])
    np.testing.assert_allclose(swb["b"], np.arange(6.0))
    # List outputs are named output_0, output_1 ... for class weights.
    data = fit_data(np.zeros((4, 2)), [np.array([0, 1, 1, 1]), np.zeros(4)],
                    class_weight={"output_0": "balanced"}, batch_size=4, shuffle=False)
    np.testing.assert_allclose(data.batches.first()[2]["output_0"], [2.0, 2 / 3, 2 / 3, 2 / 3])


def test_validation_split_takes_the_last_samples_of_every_input_before_shuffling():
    x = {"left": _rows(10, 2), "right": _rows(10, 1, 100)}
    y = np.arange(10)
    sw = np.linspace(1.0, 2.0, 10)
    profond.random.seed(0)
    data = fit_data(x, y, sample_weight=sw, batch_size=4, validation_split=0.3)
    assert data.samples == 7 and data.validation.n == 3
    (vx, vy, vsw), = list(data.validation)
    np.testing.assert_array_equal(vx["left"], x["left"][7:])
    np.testing.assert_array_equal(vx["right"], x["right"][7:])
    np.testing.assert_array_equal(vy, y[7:])
    np.testing.assert_allclose(vsw, sw[7:])
    seen = sorted(v for _, yb, _ in data.batches for v in yb.tolist())
    assert seen == list(range(7))
    # The training labels alone decide "balanced" class weights.
    data = fit_data(np.zeros((4, 1)), np.array([0, 0, 1, 1]), class_weight="balanced",
                    validation_split=0.25, shuffle=False)
    np.testing.assert_allclose(data.batches.first()[2], [0.75, 0.75, 1.5])
    with pytest.raises(ValueError, match="leaves an empty training or validation set"):
        fit_data(np.zeros((1, 1)), np.zeros(1), validation_split=0.5)


def test_a_generator_is_checked_and_class_weighted_batch_by_batch():
    def batches():
        for i in range(4):
            yield {"a": np.full((2, 3), i), "b": np.ones((2, 1))}, np.array([0, 1])

    data = fit_data(batches(), class_weight={0: 1.0, 1: 4.0}, steps_per_epoch=2,
                    validation_data=(np.zeros((3, 3)), np.zeros(3)))
    assert data.from_source and data.steps == 2 and data.samples is None
    first = [(float(xb["a"][0, 0]), swb.tolist()) for xb, yb, swb in data.batches]
    assert first == [(0.0, [1.0, 4.0]), (1.0, [1.0, 4.0])]
    assert [float(xb["a"][0, 0]) for xb, _, _ in data.batches] == [2.0, 3.0]
    assert data.validation.n == 3

    def bad():
        yield np.array([[np.inf]]), np.zeros(1)

    with pytest.raises(ValueError, match=r"'x' argument contains inf"):
        list(evaluate_data(bad()))
    assert [b[0].shape for b in predict_data(iter([np.zeros((2, 1)), np.ones((3, 1))]))] == \
        [(2, 1), (3, 1)]


def test_mismatched_sample_counts_name_each_array_and_its_shape():
    with pytest.raises(ValueError, match=r"'x\[0\]' has 10, 'x\[1\]' has 8, 'y' has 10 "
                                         r"\(shapes 'x\[0\]': \(10, 2\), 'x\[1\]': \(8, 3\)"):
        fit_data([np.zeros((10, 2)), np.zeros((8, 3))], np.zeros(10))
    with pytest.raises(ValueError, match=r"'x\['image'\]' has 5, 'x\['meta'\]' has 5, "
                                         r"'y\['label'\]' has 4"):
        evaluate_data({"image": np.zeros((5, 2)), "meta": np.zeros((5, 1))},
                      {"label": np.zeros(4), "value": np.zeros((5, 1))})
    with pytest.raises(ValueError, match=r"'sample_weight\['b'\]' has 6 .*\(6,\)"):
        fit_data(np.zeros((5, 1)), {"a": np.zeros(5), "b": np.zeros(5)},
                 sample_weight={"a": np.ones(5), "b": np.ones(6)})
    with pytest.raises(ValueError, match=r"same number of samples.*'x\[0\]' has 3, 'x\[1\]' has 2"):
        predict_data([np.zeros((3, 1)), np.zeros((2, 1))])
    with pytest.raises(ValueError, match=r"'sample_weight\['b'\]' argument must be non-neg"):
        fit_data(np.zeros((5, 1)), {"a": np.zeros(5), "b": np.zeros(5)},
                 sample_weight={"a": np.ones(5), "b": -np.ones(5)})
    with pytest.raises(ValueError, match=r"'x\['meta'\]' argument contains NaN"):
        predict_data({"image": np.zeros((2, 1)), "meta": np.array([[1.0], [np.nan]])})


def test_bad_arguments_use_the_one_message_form():
    with pytest.raises(ValueError, match="The 'batch_size' parameter of fit must be an int"):
        fit_data(np.zeros((2, 1)), np.zeros(2), batch_size=0)
    with pytest.raises(ValueError, match="The 'batch_size' parameter of predict must be"):
        predict_data(np.zeros((2, 1)), batch_size=-1)
    with pytest.raises(ValueError, match="The 'validation_split' parameter of fit"):
        fit_data(np.zeros((2, 1)), np.zeros(2), validation_split=1.0)
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        fit_data(np.zeros((2, 1)), np.zeros(2), validation_data=(np.zeros((2, 1)),))
