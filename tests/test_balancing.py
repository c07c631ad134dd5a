import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight as sk_compute_class_weight

import profond
from profond import layers, losses
from profond.data import compute_class_weight
from profond.training.class_to_sample_weight import class_weight_to_sample_weight


@pytest.mark.parametrize("seed", range(4))
def test_balanced_equals_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y = rng.choice([0, 2, 3, 7], size=int(rng.integers(20, 200)), p=[0.6, 0.25, 0.1, 0.05])
    classes = np.unique(y)
    ref = sk_compute_class_weight("balanced", classes=classes, y=y)
    ours = compute_class_weight(y, "balanced")
    assert list(ours) == classes.tolist()
    np.testing.assert_allclose(list(ours.values()), ref, rtol=1e-15)
    # one-hot rows give the same weights
    onehot = np.eye(8)[y]
    assert compute_class_weight(onehot, "balanced") == ours


def test_compute_class_weight_dict_and_errors():
    y = np.array([0, 0, 1, 2])
    assert compute_class_weight(y, {1: 3.0}) == {0: 1.0, 1: 3.0, 2: 1.0}
    assert compute_class_weight(y, None) == {0: 1.0, 1: 1.0, 2: 1.0}
    with pytest.raises(ValueError, match="classes \\[3\\] do not occur"):
        compute_class_weight(y, "balanced", classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"must name only classes among \[0, 1, 2\]\. Got classes "
                                         r"\[5\] instead"):
        compute_class_weight(y, {5: 1.0})
    with pytest.raises(ValueError, match="'class_weight' parameter of compute_class_weight"):
        compute_class_weight(y, "inverse")
    with pytest.raises(ValueError, match=r"must map each class to a finite number >= 0\. Got -1\.0 "
                                         r"for class 1 instead"):
        compute_class_weight(y, {1: -1.0})


def test_weighted_loss_equals_the_hand_computation():
    y = np.array([0, 2, 1, 2])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3], [0.5, 0.25, 0.25]])
    w = np.array([1.0, 0.5, 2.0, 3.0])
    got = float(losses.SparseCategoricalCrossentropy()(y, profond.tensor(p, dtype="float64"),
                                                       sample_weight=w))
    hand = np.sum(-np.log(p[np.arange(4), y]) * w) / 4
    assert got == pytest.approx(hand, rel=1e-12)
    # a custom loss callable is weighted the same way

    def cubed(y_true, y_pred):
        return ((y_pred - y_true) ** 2 * (y_pred - y_true)).mean(axis=-1)

    t = np.array([[1.0], [2.0], [0.0]])
    q = np.array([[2.0], [0.0], [1.0]])
    wt = np.array([1.0, 2.0, 0.0])
    got = float(losses.get(cubed)(t, profond.tensor(q, dtype="float64"), sample_weight=wt))
    assert got == pytest.approx(np.sum(((q - t) ** 3)[:, 0] * wt) / 3)


def test_class_weights_of_every_target_rank():
    cw = {0: 1.0, 1: 4.0, 2: 0.5}
    sparse = np.array([0, 1, 2, 1])
    np.testing.assert_array_equal(class_weight_to_sample_weight(cw, sparse), [1, 4, 0.5, 4])
    onehot = np.eye(3)[sparse]
    np.testing.assert_array_equal(
        class_weight_to_sample_weight(cw, onehot, loss="categorical_crossentropy"),
        [1, 4, 0.5, 4])
    seq = np.array([[0, 1, 1], [2, 2, 0]])
    np.testing.assert_array_equal(
        class_weight_to_sample_weight(cw, np.eye(3)[seq], loss="categorical_crossentropy"),
        [[1, 4, 4], [0.5, 0.5, 1]])
    np.testing.assert_array_equal(
        class_weight_to_sample_weight(cw, seq, loss="sparse_categorical_crossentropy"),
        [[1, 4, 4], [0.5, 0.5, 1]])
    binary = np.array([[0.0], [1.0], [1.0]])
    np.testing.assert_array_equal(
        class_weight_to_sample_weight({0: 1.0, 1: 3.0}, binary, loss="binary_crossentropy"),
        [1, 3, 3])
    # combined with sample weights: they multiply (per sample, over the time steps)
    np.testing.assert_array_equal(
        class_weight_to_sample_weight(cw, seq, sample_weight=np.array([2.0, 10.0]),
                                      loss="sparse_categorical_crossentropy"),
        [[2, 8, 8], [5, 5, 10]])


def test_class_weight_on_sequence_labels_in_fit_matches_the_hand_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=(6, 4))
    y = np.eye(3, dtype=np.float32)[labels]  # (batch, time, classes)
    cw = {0: 1.0, 1: 2.0, 2: 5.0}
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((4, 3)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=profond.optimizers.SGD(learning_rate=0.0),
                  loss="categorical_crossentropy")
    history = model.fit(x, y, batch_size=6, epochs=1, class_weight=cw, shuffle=False,
                        verbose=0)
    p = model.predict(x, verbose=0).astype(np.float64)
    per_step = -np.log(np.take_along_axis(p, labels[..., None], axis=-1)[..., 0])
    weights = np.vectorize(cw.get)(labels)
    hand = np.sum(per_step * weights) / per_step.size
    assert history.history["loss"][0] == pytest.approx(hand, rel=1e-5)
    balanced = model.fit(x, y, batch_size=6, epochs=1, class_weight="balanced", verbose=0)
    bw = compute_class_weight(labels, "balanced")
    hand_b = np.sum(per_step * np.vectorize(bw.get)(labels)) / per_step.size
    assert balanced.history["loss"][0] == pytest.approx(hand_b, rel=1e-5)


def test_class_and_sample_weights_multiply_in_fit():
    x = np.eye(4, dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    sw = np.array([1.0, 2.0, 3.0, 0.0])
    profond.random.seed(1)
    model = profond.Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=profond.optimizers.SGD(learning_rate=0.0),
                  loss="sparse_categorical_crossentropy")
    got = model.fit(x, y, batch_size=4, class_weight={0: 1.0, 1: 10.0}, sample_weight=sw,
                    verbose=0).history["loss"][0]
    p = model.predict(x, verbose=0).astype(np.float64)
    nll = -np.log(p[np.arange(4), y])
    assert got == pytest.approx(np.sum(nll * sw * np.array([1, 10, 10, 1])) / 4, rel=1e-5)


def _linear_model(kernel):
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((kernel.shape[0],)),
                                layers.Dense(kernel.shape[1], use_bias=False)])
    model.set_weights([kernel])
    return model


def test_loss_weights_per_column_change_the_gradient_as_by_hand():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3))
    y = rng.normal(size=(8, 2))
    k0 = rng.normal(size=(3, 2)).astype(np.float32)
    lw = np.array([3.0, 0.5])
    lr = 0.1
    model = _linear_model(k0)
    model.compile(optimizer=profond.optimizers.SGD(learning_rate=lr), loss="mse",
                  loss_weights=lw)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    # L = mean_i sum_j lw_j (x_i k_j - y_ij)^2 / n_cols  ->  dL/dk = 2 x^T (err * lw) / (n * 2)
    err = x @ k0.astype(np.float64) - y
    grad = 2 * x.T @ (err * lw) / (8 * 2)
    np.testing.assert_allclose(model.get_weights()[0], k0 - lr * grad, rtol=1e-5, atol=1e-6)
    # the unweighted gradient is different: the weights did change the step
    plain = k0 - lr * 2 * x.T @ err / (8 * 2)
    assert not np.allclose(model.get_weights()[0], plain, atol=1e-4)


def test_class_weight_bad_inputs_give_clear_errors():
    x = np.zeros((4, 2), dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((2,)), layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"names classes \[5\] that do not occur in y"):
        model.fit(x, y, class_weight={0: 1.0, 1: 1.0, 5: 2.0}, verbose=0)
    with pytest.raises(ValueError, match=r"has no weight for classes \[1\]"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match=r"class_weight\[1\] must be a finite non-negative"):
        model.fit(x, y, class_weight={0: 1.0, 1: -2.0}, verbose=0)
    with pytest.raises(ValueError, match="keys must be class indices"):
        model.fit(x, y, class_weight={0: 1.0, 1: 1.0, 1.5: 2.0}, verbose=0)
    with pytest.raises(ValueError, match="'class_weight' parameter of fit must map class "
                                         "indices.*'cat'.*keys are strings.*one output"):
        model.fit(x, y, class_weight={"cat": 1.0, "dog": 2.0}, verbose=0)
    with pytest.raises(ValueError, match=r"must map class indices.*Got \{'0': 2.0\}"):
        model.fit(x, y, class_weight={"0": 2.0}, verbose=0)  # issue 17: a class as a string
    with pytest.raises(ValueError, match="must be a dict or 'balanced'"):
        model.fit(x, y, class_weight="inverse", verbose=0)
    with pytest.raises(ValueError, match="'sample_weight' argument must be non-negative"):
        model.fit(x, y, sample_weight=np.array([1.0, -1.0, 1.0, 1.0]), verbose=0)
    with pytest.raises(ValueError, match="non-integer"):
        class_weight_to_sample_weight({0: 1.0}, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"do not exist: the one-hot targets have 2 classes"):
        class_weight_to_sample_weight({0: 1.0, 1: 1.0, 2: 1.0}, np.eye(2),
                                      loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="multi-label"):
        class_weight_to_sample_weight({0: 1.0, 1: 1.0}, np.array([[0.0, 1.0], [1.0, 1.0]]),
                                      loss="binary_crossentropy")
