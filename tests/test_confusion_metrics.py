"""Precision, Recall, AUC and the confusion counts, against counts written out by hand and a
direct NumPy transcription; in compile by class and by Keras's string names; saved with the
model."""

import numpy as np
import pytest

import profond
from profond import layers, metrics
from profond.metrics.confusion import confusion_counts


def _brute_counts(y_true, y_pred, thresholds, w):
    """Per threshold, the weighted counts with one comparison per prediction."""
    w = np.ravel(np.broadcast_to(w, np.shape(y_pred))) if w is not None else \
        np.ones(np.size(y_pred))
    y_true, y_pred = np.ravel(y_true) != 0, np.ravel(y_pred)
    out = {k: [] for k in ("tp", "fp", "tn", "fn")}
    for t in thresholds:
        pos = y_pred > t
        out["tp"].append(w[pos & y_true].sum())
        out["fp"].append(w[pos & ~y_true].sum())
        out["tn"].append(w[~pos & ~y_true].sum())
        out["fn"].append(w[~pos & y_true].sum())
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("weighted", [False, True])
def test_counts_equal_one_comparison_per_prediction(weighted):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, (30, 3))
    y_pred = rng.random((30, 3)).round(1)  # ties with the thresholds included
    w = rng.random((30, 1)) if weighted else None
    thresholds = [0.7, 0.0, 0.5, 0.3, 1.0]  # unsorted: results keep the given order
    got = confusion_counts(y_true, y_pred, thresholds, w)
    expected = _brute_counts(y_true, y_pred, thresholds, w)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], err_msg=k)


def test_precision_recall_counts_by_hand():
    y_true = np.array([0, 1, 1, 1, 0])
    y_pred = np.array([0.9, 0.8, 0.4, 0.6, 0.2])  # above 0.5: 0.9 (fp), 0.8, 0.6 (tp)
    values = {}
    for cls in (metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives,
                metrics.FalseNegatives, metrics.Precision, metrics.Recall):
        m = cls()
        m.update_state(y_true, y_pred)
        values[cls.__name__] = m.result()
    assert values == {"TruePositives": 2.0, "FalsePositives": 1.0, "TrueNegatives": 1.0,
                      "FalseNegatives": 1.0, "Precision": pytest.approx(2 / 3),
                      "Recall": pytest.approx(2 / 3)}
    m = metrics.Precision(thresholds=[0.5, 0.85])
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(m.result(), [2 / 3, 0.0])
    m.reset_state()
    assert m.result().tolist() == [0.0, 0.0]


def test_top_k_and_class_id():
    y_true = np.array([[0, 0, 1], [0, 1, 0]])
    y_pred = np.array([[0.1, 0.5, 0.4], [0.2, 0.3, 0.1]])
    m = metrics.Precision(top_k=1)  # the largest score of each row: 0.5 (wrong), 0.3 (right)
    m.update_state(y_true, y_pred)
    assert m.result() == pytest.approx(0.5)
    m = metrics.Recall(class_id=2, thresholds=0.3)  # column 2: 0.4 > 0.3 for its one positive
    m.update_state(y_true, y_pred)
    assert m.result() == pytest.approx(1.0)


def test_auc_extremes_and_weights():
    y_true = np.array([0, 0, 1, 1])
    for curve in ("ROC", "PR"):
        perfect = metrics.AUC(curve=curve)
        perfect.update_state(y_true, [0.1, 0.2, 0.8, 0.9])
        assert perfect.result() == pytest.approx(1.0, abs=1e-6)
    reversed_ = metrics.AUC()
    reversed_.update_state(y_true, [0.9, 0.8, 0.2, 0.1])
    assert reversed_.result() == pytest.approx(0.0, abs=1e-6)
    # a zero weight removes a sample: the misplaced one here
    m = metrics.AUC()
    m.update_state([0, 1, 1], [0.9, 0.2, 0.8], sample_weight=[0.0, 1.0, 1.0])
    assert m.result() == 0.0  # positives only: the false-positive rate is never defined


def test_auc_roc_equals_the_rank_statistic_on_distinct_scores():
    """With enough thresholds, the ROC area is the Mann-Whitney probability that a positive
    scores above a negative."""
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, 200)
    y_pred = np.clip(0.3 * y_true + 0.7 * rng.random(200), 0, 1)
    m = metrics.AUC(num_thresholds=20001)
    m.update_state(y_true, y_pred)
    pos, neg = y_pred[y_true == 1], y_pred[y_true == 0]
    assert m.result() == pytest.approx((pos[:, None] > neg[None, :]).mean(), abs=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="'thresholds' parameter of Precision"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="'top_k' parameter of Recall"):
        metrics.Recall(top_k=0)
    with pytest.raises(ValueError, match="'curve' parameter of AUC"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match="'num_thresholds' parameter of AUC"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="'summation_method' parameter of AUC"):
        metrics.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match="'y_pred' parameter of AUC must have rank 2"):
        metrics.AUC(multi_label=True).update_state(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="'y_true' parameter of Precision"):
        metrics.Precision().update_state(np.ones(3), np.ones(4))


@pytest.mark.parametrize("metric", [
    metrics.Precision(thresholds=[0.3, 0.6], top_k=2, class_id=1, name="p"),
    metrics.Recall(), metrics.TruePositives(thresholds=0.4),
    metrics.AUC(curve="PR", num_thresholds=50, summation_method="minoring", multi_label=True,
                label_weights=[1.0, 2.0]),
    metrics.AUC(thresholds=[0.2, 0.7], from_logits=True),
])
def test_config_round_trip(metric):
    again = metrics.deserialize(metrics.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


def test_in_compile_by_string_and_class_and_saved_with_the_model(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 4))
    y = (x[:, :1] + 0.3 * rng.normal(size=(64, 1)) > 0).astype("float32")
    model = profond.Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["precision", "recall", "auc", metrics.TruePositives()])
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert {"precision", "recall", "auc", "true_positives", "val_auc"} <= set(history.history)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    auc = metrics.AUC()
    auc.update_state(y, p)
    assert result["auc"] == pytest.approx(auc.result(), rel=1e-6)
    assert result["true_positives"] == float(((p > 0.5) & (y == 1)).sum())
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(result)
    assert [type(m).__name__ for m in loaded.compiled_metrics.all] == [
        "Precision", "Recall", "AUC", "TruePositives"]


def test_class_names_resolve_and_several_thresholds_are_logged_as_an_array():
    assert type(metrics.get("TrueNegatives")) is metrics.TrueNegatives
    model = profond.Sequential([layers.Input((2,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=[metrics.Precision(thresholds=[0.3, 0.6])])
    x = np.random.default_rng(3).random((20, 2))
    history = model.fit(x, (x[:, :1] > 0.5).astype(float), epochs=2, verbose=0)
    assert [np.shape(v) for v in history.history["precision"]] == [(2,), (2,)]
