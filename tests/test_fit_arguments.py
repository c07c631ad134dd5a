"""compile's and fit's arguments are checked before any work, in the one message form; the
silent wrong results of issue 17 are refused with an error that names the argument."""

import os

import numpy as np
import pytest

import profond
from profond import layers, losses
from profond.callbacks import EarlyStopping


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def _model(loss="sparse_categorical_crossentropy", units=2, activation="softmax", **compile):
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((3,)), layers.Dense(units, activation=activation)])
    model.compile(optimizer="sgd", loss=loss, **compile)
    return model


@pytest.mark.parametrize("kwargs, message", [
    ({"verbose": 5}, r"'verbose' parameter of fit must be one of \['auto', 0, 1, 2\]. Got 5"),
    ({"verbose": "x"}, r"'verbose' parameter of fit must be one of"),
    ({"shuffle": "yes"}, r"'shuffle' parameter of fit must be a bool. Got 'yes'"),
    ({"shuffle": None}, r"'shuffle' parameter of fit must be a bool. Got None"),
    ({"validation_freq": 0}, r"'validation_freq' parameter of fit must be an int in \[1, inf\)"),
    ({"validation_batch_size": 0}, r"'validation_batch_size' parameter of fit"),
    ({"validation_steps": 0}, r"'validation_steps' parameter of fit"),
    ({"callbacks": 3}, r"'callbacks' parameter of fit must be a list of Callback objects"),
    ({"callbacks": [3]}, r"'callbacks' parameter of fit must be a list of Callback objects"),
    ({"epochs": -1}, r"'epochs' parameter of fit must be an int in \[0, inf\)"),
])
def test_fit_refuses_a_wrong_argument_before_any_work(kwargs, message):
    x, y = _data()
    model = _model()
    model.build((None, 3))
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, **{"verbose": 0, **kwargs})
    assert model.optimizer.iterations == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_numpy_bools_are_bools_for_shuffle():
    x, y = _data()
    _model().fit(x, y, verbose=0, shuffle=np.bool_(False))


def test_one_callback_alone_is_a_list_of_one():
    # Keras 3 takes callbacks=EarlyStopping() as [EarlyStopping()] (its CallbackList flattens).
    x, y = _data()
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    history = _model().fit(x, y, epochs=5, verbose=0, callbacks=stop)
    assert stop.stopped_epoch > 0 and len(history.epoch) < 5


def test_epochs_zero_trains_nothing_as_keras_does():
    x, y = _data()
    model = _model()
    model.build((None, 3))
    before = model.get_weights()
    history = model.fit(x, y, epochs=0, verbose=1, validation_split=0.25,
                        divergence_guard={"verbose": 0})
    assert history.history == {} and history.epoch == [] and history.events == []
    assert model.optimizer.iterations == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    # the same with initial_epoch at or past epochs
    assert model.fit(x, y, epochs=2, initial_epoch=2, verbose=0).history == {}


def test_epochs_zero_matches_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x, y = _data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    theirs = model.fit(x, y, epochs=0, verbose=0)
    ours = _model(metrics=["accuracy"]).fit(x, y, epochs=0, verbose=0)
    assert ours.history == theirs.history == {} and ours.epoch == list(theirs.epoch) == []


@pytest.mark.parametrize("compile_kwargs", [
    {"metrics": ["acc2"]},
    {"metrics": ["accuracy", "acc2"]},
    {"weighted_metrics": ["acc2"]},
])
def test_compile_refuses_an_unknown_metric_name_listing_the_valid_ones(compile_kwargs):
    param = next(iter(compile_kwargs))
    with pytest.raises(ValueError, match=f"'{param}' parameter of compile must hold metric "
                                         r"names.*Got 'acc2' instead.*Valid names: \[.*'mae'"):
        _model(**compile_kwargs)


def test_compile_accepts_every_metric_form():
    model = _model(metrics=["accuracy", "acc", "mae", profond.metrics.get("mse"),
                            lambda t, p: p[..., 0]])
    x, y = _data()
    model.fit(x, y, verbose=0)
    assert _model(metrics={"dense": ["accuracy"]}) is not None


def test_binary_crossentropy_refuses_labels_outside_zero_one():
    x, y = _data()
    three = np.arange(len(x)) % 3  # labels 0/1/2: trained on silently before issue 17
    for activation in ("sigmoid", None):  # the fused path and the plain one
        model = _model(loss=losses.BinaryCrossentropy(from_logits=activation is None),
                       units=1, activation=activation)
        with pytest.raises(ValueError, match=r"'y_true' parameter of binary_crossentropy "
                                             r"must hold values in \[0, 1\].*from 0 to 2"):
            model.fit(x, three, verbose=0)
    model = _model(loss="binary_crossentropy", units=1, activation="sigmoid")
    model.fit(x, y, verbose=0)  # labels 0 and 1
    model.fit(x, np.full(len(x), 0.3, dtype="float32"), verbose=0)  # probabilities
    with pytest.raises(ValueError, match="NaN"):
        losses.binary_crossentropy(np.array([[0.0], [np.nan]]), profond.tensor([[0.5], [0.5]]))
    with pytest.raises(ValueError, match="from -1 to 1"):
        losses.binary_crossentropy(np.array([[-1.0], [1.0]]), profond.tensor([[0.5], [0.5]]))


def test_set_weights_names_a_non_numeric_weight():
    model = _model()
    model.build((None, 3))
    kernel, bias = model.get_weights()
    with pytest.raises(ValueError, match=r"weight 'dense(_\d+)?/kernel' a numeric array\. Got an "
                                         r"array of dtype <U1"):
        model.set_weights([np.full(kernel.shape, "a"), bias])
    with pytest.raises(ValueError, match=r"/bias' a numeric array\. Got an array of dtype object"):
        model.set_weights([kernel, None])
    model.set_weights([kernel.astype(int), bias.astype(bool)])  # numbers of any kind cast
