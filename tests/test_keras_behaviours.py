"""Behaviours that follow Keras 3 (the Keras side of each is in tests/parity/): metric names as
written, no learning_rate in the history of a plain fit, evaluate's progress line, Keras's loss
reductions and ignore_class, Normalization's count, bilinear up-sampling."""

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import layers, losses
from profond.io.weights_file import save_weights


def _data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    return x, x.sum(axis=1, keepdims=True)


def _model():
    model = profond.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mean_squared_error", "acc"])
    return model


def test_metrics_are_logged_under_the_string_written_and_no_learning_rate():
    x, y = _data()
    history = _model().fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert sorted(history.history) == ["acc", "loss", "mae", "mean_squared_error", "val_acc",
                                       "val_loss", "val_mae", "val_mean_squared_error"]


def test_evaluate_prints_its_line_by_default_and_not_with_verbose_0(capsys):
    x, y = _data()
    model = _model()
    result = model.evaluate(x, y, batch_size=16, return_dict=True)
    err = capsys.readouterr().err
    assert err.startswith("3/3 - ") and f"mae: {result['mae']:.4g}" in err
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("reduction,expected", [
    (None, [1.0, 4.0, 18.0]), ("none", [1.0, 4.0, 18.0]), ("sum", 23.0),
    ("sum_over_batch_size", 23.0 / 3), ("mean", 23.0 / 3), ("mean_with_sample_weight", 23.0 / 4),
])
def test_loss_reductions(reduction, expected):
    y_true, y_pred = np.zeros((3, 1)), np.array([[1.0], [2.0], [3.0]])
    w = np.array([1.0, 1.0, 2.0])
    out = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert losses.MeanSquaredError(reduction=reduction).get_config()["reduction"] == reduction


@pytest.mark.parametrize("from_logits", [False, True])
def test_mean_with_sample_weight_fused_and_plain_agree(from_logits):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 4))
    y_pred = logits if from_logits else profond.ops.softmax(profond.tensor(logits))
    y_true, w = rng.integers(0, 4, 6), rng.random(6)
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits,
                                                reduction="mean_with_sample_weight")
    per = losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits).numpy()
    np.testing.assert_allclose(float(loss(y_true, y_pred, w)), (per * w).sum() / w.sum(),
                               rtol=1e-5)


@pytest.mark.parametrize("from_logits", [False, True])
def test_ignore_class_averages_over_the_other_labels(from_logits):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(8, 3))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y_true = np.array([0, 2, 255, 1, 255, 0, 1, 2])  # 255: "void", outside the classes
    y_pred = logits if from_logits else p
    keep = y_true != 255
    per = -np.log(p[np.arange(8), np.where(keep, y_true, 0)]) * keep
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=255)
    np.testing.assert_allclose(float(loss(y_true, y_pred)), per.sum() / keep.sum(), rtol=1e-5)
    values = losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class=255)
    np.testing.assert_allclose(values.numpy(), per, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match=r"labels in \[0, 2\]"):
        losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits)
    with pytest.raises(ValueError, match="'ignore_class' parameter"):
        losses.SparseCategoricalCrossentropy(ignore_class="void")


def test_sparse_axis_is_honoured_and_checked():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(4, 3, 5))  # classes on axis 1
    y_true = rng.integers(0, 3, (4, 5))
    moved = np.moveaxis(logits, 1, -1)
    expected = losses.sparse_categorical_crossentropy(y_true, moved, from_logits=True).numpy()
    got = losses.sparse_categorical_crossentropy(y_true, logits, from_logits=True, axis=1)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(y_true, probs, axis=1).numpy(), expected,
        rtol=1e-5)
    with pytest.raises(ValueError, match="'axis' parameter of sparse_categorical_crossentropy"):
        losses.sparse_categorical_crossentropy(y_true, logits, axis=3)


def test_normalization_count_in_keras_order_and_two_array_lists_and_files_still_load(tmp_path):
    x = np.random.default_rng(4).normal(3, 2, size=(50, 2))
    norm = layers.Normalization()
    norm.adapt(x)
    mean, var, count = norm.get_weights()
    assert count.shape == () and count.dtype == np.int64 and int(count) == 50
    other = layers.Normalization()
    other.build((None, 2))
    other.set_weights([mean, var])  # a list written before the count was kept
    np.testing.assert_allclose(other(x).numpy(), norm(x).numpy())
    other.set_weights([mean, var, np.array(7)])
    assert int(other.count.numpy()) == 7

    def make():
        return profond.Sequential([layers.Input((2,)), layers.Normalization(), layers.Dense(1)])

    model = make()
    model.layers[0].adapt(x)
    old = tmp_path / "old.safetensors"
    # a file of the earlier layout: mean, variance, kernel, bias (no count)
    st = pytest.importorskip("safetensors.numpy")
    tensors = {f"{i:04d}/{v.path}": v.numpy() for i, v in
               enumerate(w for w in model.weights if w.name != "count")}
    st.save_file(tensors, str(old))
    fresh = make()
    fresh.load_weights(old)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    new = tmp_path / "new.safetensors"
    save_weights(model, new)
    again = make()
    again.load_weights(new)
    assert int(again.layers[0].count.numpy()) == 50


def _bilinear_reference(x, sh, sw):
    """Half-pixel-centre bilinear up-sampling, one output pixel at a time."""
    n, h, w, c = x.shape
    out = np.empty((n, h * sh, w * sw, c))

    def taps(i, scale, size):
        s = min(max((i + 0.5) / scale - 0.5, 0.0), size - 1)
        lo = int(np.floor(s))
        return lo, min(lo + 1, size - 1), s - lo

    for i in range(h * sh):
        r0, r1, fr = taps(i, sh, h)
        for j in range(w * sw):
            c0, c1, fc = taps(j, sw, w)
            out[:, i, j] = ((1 - fr) * ((1 - fc) * x[:, r0, c0] + fc * x[:, r0, c1])
                            + fr * ((1 - fc) * x[:, r1, c0] + fc * x[:, r1, c1]))
    return out


@pytest.mark.parametrize("size,shape", [((2, 2), (2, 3, 4, 2)), ((3, 1), (1, 2, 3, 1)),
                                        ((1, 4), (2, 1, 3, 3))])
def test_bilinear_upsampling_forward_and_gradcheck(size, shape):
    layer = layers.UpSampling2D(size, interpolation="bilinear")
    check_op(layer, lambda a: _bilinear_reference(a, *size), draw(shape))
    assert layers.UpSampling2D.from_config(layer.get_config()).interpolation == "bilinear"
