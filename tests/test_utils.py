"""profond.utils: Keras's utilities, each against Keras's own function on the same inputs where
Keras is installed (timeseries_dataset_from_array's needs TensorFlow too), and against
references written here."""

import os
import random

import numpy as np
import pytest

import profond
from profond import layers, utils


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


# --- to_categorical -------------------------------------------------------------------------------
@pytest.mark.parametrize("x,num_classes", [
    ([0, 2, 1, 2], None), ([0, 2, 1], 5), ([[1], [0], [3]], None), (np.array([[0, 1], [2, 0]]), 3),
    (np.array([1.0, 0.0]), 2)], ids=str)
def test_to_categorical_matches_keras(x, num_classes):
    keras = _keras()
    got = utils.to_categorical(x, num_classes)
    expected = keras.utils.to_categorical(x, num_classes)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_to_categorical_reference_and_bad_labels():
    np.testing.assert_array_equal(utils.to_categorical([[1], [0]]), [[0, 1], [1, 0]])
    assert utils.to_categorical(np.zeros((2, 3), int), 4).shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"'x' parameter of to_categorical must hold labels in "
                                         r"\[0, 2\)"):
        utils.to_categorical([0, 2], num_classes=2)
    with pytest.raises(ValueError, match="must hold integer class labels"):
        utils.to_categorical([0.5])


def test_to_categorical_labels_train_a_model():
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = utils.to_categorical(np.arange(16) % 3)
    model = profond.Sequential([layers.Input((3,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0).history["loss"][0])


# --- pad_sequences --------------------------------------------------------------------------------
SEQUENCES = [[1, 2, 3, 4], [5], [], [6, 7]]


@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 2}, {"maxlen": 6}, {"padding": "post"}, {"truncating": "post", "maxlen": 3},
    {"padding": "post", "truncating": "post", "maxlen": 2, "value": -1},
    {"dtype": "float32", "value": 0.5}], ids=str)
def test_pad_sequences_matches_keras(kwargs):
    keras = _keras()
    got = utils.pad_sequences(SEQUENCES, **kwargs)
    expected = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_pad_sequences_of_vectors_and_text_match_keras():
    keras = _keras()
    vectors = [np.ones((3, 2)), np.zeros((1, 2))]
    np.testing.assert_array_equal(utils.pad_sequences(vectors, dtype="float32"),
                                  keras.utils.pad_sequences(vectors, dtype="float32"))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(utils.pad_sequences(words, dtype=object, value="<pad>"),
                                  keras.utils.pad_sequences(words, dtype=object, value="<pad>"))


def test_pad_sequences_reference_and_bad_arguments():
    np.testing.assert_array_equal(utils.pad_sequences([[1, 2, 3], [4]], maxlen=2),
                                  [[2, 3], [0, 4]])
    with pytest.raises(ValueError, match="'padding' parameter of pad_sequences must be one of"):
        utils.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="'value' parameter of pad_sequences must be a number"):
        utils.pad_sequences([[1]], value="x")
    with pytest.raises(ValueError, match="of one sample shape"):
        utils.pad_sequences([np.ones((2, 2)), np.ones((2, 3))])


# --- normalize ------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis,order", [(-1, 2), (1, 1), (-1, np.inf), (0, 2)], ids=str)
def test_normalize_matches_keras(axis, order):
    keras = _keras()
    x = np.random.default_rng(1).normal(size=(4, 3))
    x[1] = 0
    got = utils.normalize(x, axis=axis, order=order)
    if axis == 0:
        # Keras's NumPy path turns axis 0 into -1 ("axis or -1"); its tensor path does not
        expected = keras.ops.convert_to_numpy(keras.ops.nn.normalize(x, axis=0, order=2))
    else:
        expected = keras.utils.normalize(x, axis=axis, order=order)
    np.testing.assert_allclose(got, expected, rtol=1e-7)


def test_normalize_of_a_tensor_is_differentiable():
    from profond.testing import gradcheck
    x = np.random.default_rng(2).normal(size=(3, 4))
    out = utils.normalize(profond.tensor(x))
    np.testing.assert_allclose(out.numpy(), x / np.linalg.norm(x, axis=-1, keepdims=True),
                               rtol=1e-6)
    assert gradcheck(lambda t: utils.normalize(t, axis=0), x)
    assert gradcheck(lambda t: utils.normalize(t, order=1), x)


# --- set_random_seed ------------------------------------------------------------------------------
def test_set_random_seed_seeds_profond_numpy_and_python():
    def draws():
        return (profond.random.generator().random(), np.random.rand(), random.random(),
                layers.Dense(2)(np.ones((1, 3))).numpy().tolist())

    utils.set_random_seed(11)
    first = draws()
    utils.set_random_seed(11)
    assert draws() == first
    with pytest.raises(ValueError, match="'seed' parameter of set_random_seed must be"):
        utils.set_random_seed(1.5)


def test_set_random_seed_seeds_numpy_and_python_as_keras():
    keras = _keras()
    keras.utils.set_random_seed(5)
    expected = (np.random.rand(), random.random())
    utils.set_random_seed(5)
    assert (np.random.rand(), random.random()) == expected


# --- split_dataset --------------------------------------------------------------------------------
X = np.arange(20).reshape(10, 2)
Y = np.arange(10)


# (Keras's PyTorch path refuses two sizes that leave samples out: torch's random_split wants
# them all; its TensorFlow path takes them, as profond does: see the test below)
@pytest.mark.parametrize("left,right", [(0.7, None), (None, 0.25), (3, None), (None, 4),
                                        (0.35, None), (0.6, 0.4)], ids=str)
def test_split_dataset_sizes_match_keras(left, right):
    keras = _keras()
    a, b = utils.split_dataset((X, Y), left_size=left, right_size=right)
    ka, kb = keras.utils.split_dataset((X, Y), left_size=left, right_size=right)
    assert (len(a[1]), len(b[1])) == (len(ka), len(kb))
    # unshuffled: the first and the last samples, as Keras's TensorFlow path
    n_left, n_right = len(ka), len(kb)
    np.testing.assert_array_equal(a[0], X[:n_left])
    np.testing.assert_array_equal(b[1], Y[10 - n_right:])


def test_split_dataset_shuffles_as_keras_tensorflow_path():
    order = list(range(10))
    random.seed(42)
    random.shuffle(order)  # what Keras's split does with seed=42
    (xl, yl), (_, yr) = utils.split_dataset((X, Y), left_size=6, shuffle=True, seed=42)
    np.testing.assert_array_equal(np.concatenate([yl, yr]), order)
    np.testing.assert_array_equal(xl, X[order[:6]])


def test_split_dataset_matches_keras_tensorflow_path():
    keras = _keras()
    pytest.importorskip("tensorflow")
    left, right = keras.utils.split_dataset((X, Y), left_size=0.6, shuffle=True, seed=3,
                                            preferred_backend="tensorflow")
    (_, yl), (_, yr) = utils.split_dataset((X, Y), left_size=0.6, shuffle=True, seed=3)
    np.testing.assert_array_equal([int(y) for _, y in left], yl)
    np.testing.assert_array_equal([int(y) for _, y in right], yr)


@pytest.mark.parametrize("left,right,sizes", [(0.5, 0.3, (5, 3)), (2, 5, (2, 5)),
                                              (0.25, 2, (2, 2))], ids=str)
def test_split_dataset_may_leave_samples_out(left, right, sizes):
    (_, yl), (_, yr) = utils.split_dataset((X, Y), left_size=left, right_size=right)
    np.testing.assert_array_equal(yl, Y[:sizes[0]])  # 0.25 * 10 = 2.5 rounds to 2, as Python's
    np.testing.assert_array_equal(yr, Y[10 - sizes[1]:])


def test_split_dataset_structures_and_bad_sizes():
    left, right = utils.split_dataset(X, right_size=0.2)
    assert left.shape == (8, 2) and right.shape == (2, 2)
    left, right = utils.split_dataset({"a": X, "b": Y}, left_size=0.5)
    assert sorted(left) == ["a", "b"] and len(right["b"]) == 5
    left, right = utils.split_dataset([X, Y], left_size=1)
    assert isinstance(left, list) and len(left[0]) == 1
    with pytest.raises(ValueError, match="must not both be None"):
        utils.split_dataset(X)
    with pytest.raises(ValueError, match=r"'left_size' parameter of split_dataset must be a "
                                         r"float in \(0, 1\)"):
        utils.split_dataset(X, left_size=1.5)
    with pytest.raises(ValueError, match="'right_size' parameter of split_dataset must be an "
                                         "int"):
        utils.split_dataset(X, right_size=10)
    with pytest.raises(ValueError, match="at most 10 samples together"):
        utils.split_dataset(X, left_size=0.6, right_size=0.6)
    with pytest.raises(TypeError, match="of one length"):
        utils.split_dataset((X, Y[:3]), left_size=0.5)


# --- timeseries_dataset_from_array ----------------------------------------------------------------
def _windows_reference(data, targets, length, stride, rate, start, end):
    """Keras's definition, written out window by window."""
    end = len(data) if end is None else end
    xs, ys = [], []
    s = start
    while s + (length - 1) * rate < end and (targets is None or s < len(targets)):
        xs.append(data[s:s + (length - 1) * rate + 1:rate])
        if targets is not None:
            ys.append(targets[s])
        s += stride
    return np.array(xs), np.array(ys)


CASES = [dict(sequence_length=5), dict(sequence_length=3, sequence_stride=2, sampling_rate=3),
         dict(sequence_length=4, start_index=5, end_index=40, batch_size=7),
         dict(sequence_length=2, sampling_rate=4, batch_size=None)]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_timeseries_dataset_against_the_definition(kwargs):
    data = np.arange(100 * 2).reshape(100, 2).astype("float32")
    targets = np.arange(100) * 10
    ds = utils.timeseries_dataset_from_array(data, targets, **kwargs)
    batches = list(ds)
    if kwargs.get("batch_size", 128) is None:
        xs = np.stack([x for x, _ in batches])
        ys = np.array([y for _, y in batches])
    else:
        assert all(len(x) <= kwargs.get("batch_size", 128) for x, _ in batches)
        xs = np.concatenate([x for x, _ in batches])
        ys = np.concatenate([y for _, y in batches])
    ref_x, ref_y = _windows_reference(data, targets, kwargs["sequence_length"],
                                      kwargs.get("sequence_stride", 1),
                                      kwargs.get("sampling_rate", 1),
                                      kwargs.get("start_index", 0), kwargs.get("end_index"))
    np.testing.assert_array_equal(xs, ref_x)
    np.testing.assert_array_equal(ys, ref_y)


@pytest.mark.parametrize("kwargs", CASES[:3], ids=str)
def test_timeseries_dataset_matches_keras(kwargs):
    keras = _keras()
    pytest.importorskip("tensorflow")  # Keras builds it with tf.data (or grain)
    data = np.arange(100 * 2).reshape(100, 2).astype("float32")
    targets = np.arange(100) * 10
    theirs = list(keras.utils.timeseries_dataset_from_array(data, targets, **kwargs))
    ours = list(utils.timeseries_dataset_from_array(data, targets, **kwargs))
    assert len(ours) == len(theirs)
    for (x, y), (kx, ky) in zip(ours, theirs):
        np.testing.assert_array_equal(x, np.asarray(kx))
        np.testing.assert_array_equal(y, np.asarray(ky))


def test_timeseries_dataset_shuffles_windows_and_feeds_fit():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(60, 1)).astype("float32")
    ds = utils.timeseries_dataset_from_array(series, series[4:, 0], sequence_length=4,
                                             batch_size=8, shuffle=True, seed=1)
    xs = np.concatenate([x for x, _ in ds])
    ys = np.concatenate([y for _, y in ds])
    assert xs.shape == (56, 4, 1)
    np.testing.assert_array_equal(np.sort(ys), np.sort(series[4:, 0]))
    for x, y in zip(xs, ys):  # each window with its own target
        start = int(np.flatnonzero(series[:, 0] == x[0, 0])[0])
        assert y == series[start + 4, 0]
    first = np.concatenate([y for _, y in ds])
    ds.on_epoch_end()
    assert not np.array_equal(first, np.concatenate([y for _, y in ds]))
    model = profond.Sequential([layers.Input((4, 1)), layers.LSTM(3), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    predictions = model.predict(utils.timeseries_dataset_from_array(
        series, None, sequence_length=4, batch_size=16), verbose=0)
    assert predictions.shape == (57, 1)


@pytest.mark.parametrize("kwargs,match", [
    (dict(sequence_length=0), "'sequence_length' parameter"),
    (dict(sequence_length=2, sampling_rate=0), "'sampling_rate' parameter"),
    (dict(sequence_length=2, sequence_stride=10), "'sequence_stride' parameter"),
    (dict(sequence_length=2, start_index=12), "'start_index' parameter"),
    (dict(sequence_length=2, start_index=4, end_index=3), "'end_index' parameter"),
    (dict(sequence_length=2, end_index=10), "'end_index' parameter"),
], ids=str)
def test_timeseries_dataset_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match + " of timeseries_dataset_from_array must be"):
        utils.timeseries_dataset_from_array(np.arange(10), None, **kwargs)


# --- the serialization names Keras re-exports in keras.utils ----------------------------------
def test_serialization_names_are_the_saving_ones():
    from profond import saving
    for name in ("get_custom_objects", "register_keras_serializable", "custom_object_scope",
                 "CustomObjectScope", "serialize_keras_object", "deserialize_keras_object",
                 "get_registered_name", "get_registered_object"):
        assert getattr(utils, name) is getattr(saving, name)


# --- pack/unpack ----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(1,), ((1, 2),), ([1],), (1, 2), (1, 2, 3), (1, None, 3)],
                         ids=str)
def test_pack_x_y_sample_weight_matches_keras(args):
    keras = _keras()
    assert utils.pack_x_y_sample_weight(*args) == keras.utils.pack_x_y_sample_weight(*args)


@pytest.mark.parametrize("data", [1, (1,), [1, 2], (1, 2, 3), np.ones(2)], ids=str)
def test_unpack_x_y_sample_weight_matches_keras(data):
    keras = _keras()
    ours, theirs = utils.unpack_x_y_sample_weight(data), keras.utils.unpack_x_y_sample_weight(data)
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        assert a is b or a == b


def test_unpack_refuses_four_items():
    with pytest.raises(ValueError, match="'data' parameter of unpack_x_y_sample_weight must be"):
        utils.unpack_x_y_sample_weight((1, 2, 3, 4))
