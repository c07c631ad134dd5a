"""Every public entry point rejects bad input with an error that names the argument, what was
expected and what was received."""

import numpy as np
import pytest

import profond
from profond import activations, layers, losses, optimizers


@pytest.fixture
def model():
    m = profond.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax",
                                                             name="probs")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


X = np.random.default_rng(0).random((10, 4))
Y = np.arange(10) % 3


def test_good_input_trains(model):  # the baseline the cases below depart from
    model.fit(X, Y, epochs=1, verbose=0)


def test_input_shape_mismatch_names_the_layer(model):
    with pytest.raises(ValueError, match=r"layer 'input_layer.* must have samples of shape "
                                         r"\(4,\)\. Got data of shape \(10, 5\) instead"):
        model.fit(np.ones((10, 5)), Y, verbose=0)
    dense = layers.Dense(2, name="hidden")
    dense(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"layer 'hidden' \(Dense\).*\(None, \.\.\., 4\).*"
                                         r"\(2, 5\)"):
        dense(np.ones((2, 5)))
    stack = profond.Sequential([layers.Dense(2, name="first"), layers.Dense(1, name="second")])
    stack.predict(np.ones((3, 6)), verbose=0)
    with pytest.raises(ValueError, match="layer 'first'"):
        stack.predict(np.ones((3, 7)), verbose=0)


@pytest.mark.parametrize("call", ["fit", "evaluate"])
def test_x_and_y_of_different_lengths(model, call):
    with pytest.raises(ValueError, match=r"same number of samples.*'x' has 10, 'y' has 8"):
        getattr(model, call)(X, Y[:8], verbose=0)
    with pytest.raises(ValueError, match=r"'sample_weight' has 3"):
        getattr(model, call)(X, Y, sample_weight=np.ones(3), verbose=0)


@pytest.mark.parametrize("labels,match", [(Y + 1, r"must hold labels in \[0, 2\] for 3 classes. "
                                                  r"Got values in \[1, 3\]"),
                                          (Y - 1, r"Got values in \[-1, 1\]"),
                                          (Y + 0.5, "integer class indices")])
def test_labels_out_of_range_for_the_loss(model, labels, match):
    with pytest.raises(ValueError, match=match):
        model.fit(X, labels, verbose=0)
    with pytest.raises(ValueError, match=match):
        losses.SparseCategoricalCrossentropy()(labels, profond.tensor(np.full((10, 3), 1 / 3)))


@pytest.mark.parametrize("where", ["x", "y"])
@pytest.mark.parametrize("value,kind", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf")])
def test_nan_or_inf_in_x_or_y(where, value, kind):
    m = profond.Sequential([layers.Input((4,)), layers.Dense(2)])
    m.compile(optimizer="sgd", loss="mse")
    x, y = X.copy(), np.zeros((10, 2))
    (x if where == "x" else y)[3, 1] = value
    with pytest.raises(ValueError, match=rf"'{where}' argument contains {kind} \(first at index "
                                         r"\(3, 1\)\)"):
        m.fit(x, y, verbose=0)
    if where == "x":
        with pytest.raises(ValueError, match=rf"'x' argument contains {kind}"):
            m.predict(x, verbose=0)


def test_nan_or_negative_sample_weight(model):
    with pytest.raises(ValueError, match="'sample_weight' argument contains NaN"):
        model.fit(X, Y, sample_weight=np.where(Y == 1, np.nan, 1.0), verbose=0)
    with pytest.raises(ValueError, match="'sample_weight' argument must be non-negative"):
        model.fit(X, Y, sample_weight=-np.ones(10), verbose=0)


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
def test_empty_data(model, call):
    args = (np.zeros((0, 4)),) if call == "predict" else (np.zeros((0, 4)), np.zeros(0))
    with pytest.raises(ValueError, match=r"'x' argument is empty \(0 samples\)"):
        getattr(model, call)(*args, verbose=0)


@pytest.mark.parametrize("x,y,name,match", [
    (np.array([["a"] * 4] * 10), Y, "x", "<U1"),
    (X, np.array(["cat"] * 10), "y", "<U3"),
    (X, [None] * 10, "y", "object"),
    ("a string", Y, "x", "str"),
])
def test_wrong_dtypes(model, x, y, name, match):
    with pytest.raises(TypeError, match=rf"'{name}' argument must .*{match}"):
        model.fit(x, y, verbose=0)


def test_wrong_dtype_for_a_tensor():
    with pytest.raises(TypeError, match=r"'data' argument of tensor must hold numbers.*<U1"):
        profond.tensor(["a", "b"])
    with pytest.raises(TypeError, match="floating-point"):
        profond.tensor([1, 2], requires_grad=True)


def test_unknown_names_list_the_valid_ones(model):
    with pytest.raises(ValueError, match=r"Unknown activation 'rellu'. Valid names: \[.*'relu'"):
        layers.Dense(2, activation="rellu")
    with pytest.raises(ValueError, match=r"Unknown activation 'sigmoidd'.*'sigmoid'"):
        layers.Activation("sigmoidd")
    with pytest.raises(ValueError, match=r"Unknown loss 'msqe'. Valid names: \[.*'mse'"):
        model.compile(optimizer="sgd", loss="msqe")
    with pytest.raises(ValueError, match=r"Unknown optimizer 'sgdd'. Valid names: \[.*'sgd'"):
        model.compile(optimizer="sgdd", loss="mse")
    with pytest.raises(ValueError, match=r"Unknown metric 'accuracyy'"):
        model.compile(optimizer="sgd", loss="mse", metrics=["accuracyy"])
        model.fit(X, np.zeros((10, 3)), verbose=0)
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get("Heaviside")
    with pytest.raises(ValueError, match="Unknown optimizer"):
        optimizers.get("adamm")


@pytest.mark.parametrize("make,match", [
    (lambda: layers.Dense(0), r"'units' parameter of Dense must be an int in \[1, inf\). Got 0"),
    (lambda: layers.Dense(2.5), r"'units' parameter of Dense must be an int.*Got 2.5"),
    (lambda: optimizers.SGD(learning_rate=-1), r"'learning_rate' parameter of SGD"),
    (lambda: optimizers.SGD(momentum=1.5), r"'momentum' parameter of SGD"),
    (lambda: profond.backend.set_floatx("int8"), r"'dtype' parameter of set_floatx"),
])
def test_bad_constructor_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_size=0), r"'batch_size' parameter of fit must be an int in \[1, inf\)"),
    (dict(epochs=-1), r"'epochs' parameter of fit"),
    (dict(validation_split=1.0), r"'validation_split' parameter of fit"),
])
def test_bad_fit_arguments(model, kwargs, match):
    with pytest.raises(ValueError, match=match):
        model.fit(X, Y, verbose=0, **kwargs)


def test_fit_before_compile_and_without_targets():
    m = profond.Sequential([layers.Dense(2)])
    with pytest.raises(RuntimeError, match="compile the model before training"):
        m.fit(X, Y, verbose=0)
    m.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="needs targets"):
        m.fit(X, verbose=0)
    with pytest.raises(ValueError, match="needs a loss"):
        m.compile(optimizer="sgd")


def test_loss_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"The 'y_true' parameter of .* must match y_pred of "
                                         r"shape \(10, 3\)\. Got y_true of shape \(10, 2\) "
                                         r"instead"):
        losses.MeanSquaredError()(np.ones((10, 2)), profond.tensor(np.ones((10, 3))))


def test_large_finite_values_whose_sum_overflows_are_accepted():
    """The finiteness check sums each chunk; an overflowing sum of finite data must not be
    taken for an inf (the exact test decides), while a real inf beside them still is."""
    m = profond.Sequential([layers.Input((4,)), layers.Dense(2)])
    m.compile(optimizer="sgd", loss="mse")
    x = np.full((10, 4), 1e37, dtype=np.float32)  # sum 4e38 > float32's max
    m.predict(x, verbose=0)  # no error: every value is finite
    x[7, 2] = np.inf
    with pytest.raises(ValueError, match=r"'x' argument contains inf \(first at index \(7, 2\)\)"):
        m.predict(x, verbose=0)


def test_predict_names_a_bad_value_in_a_later_batch_by_its_index_in_x():
    m = profond.Sequential([layers.Input((4,)), layers.Dense(2)])
    x = np.ones((10, 4), dtype=np.float32)
    x[9, 3] = np.nan
    with pytest.raises(ValueError, match=r"'x' argument contains NaN \(first at index \(9, 3\)\)"):
        m.predict(x, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match=r"'x' argument is empty"):
        m.predict(x[:0], verbose=0)
