"""profond.sklearn: scikit-learn's own estimator checks over both estimators, then what the
checks do not cover (labels, the model= path, stopping rules, pickling through the model file,
Pipeline / GridSearchCV / cross_val_score)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import profond
from profond import layers
from profond.sklearn import ProfondClassifier, ProfondRegressor


# Every check of scikit-learn's, none expected to fail: the estimators' tags
# (``__sklearn_tags__``) say the classifier takes multilabel targets and the regressor 2-d y.
@parametrize_with_checks([ProfondClassifier(), ProfondRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def _quiet(estimator, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args)


# --- labels -------------------------------------------------------------------------------------
def test_string_labels_and_probabilities(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = _quiet(ProfondClassifier((16,), learning_rate_init=0.01, random_state=0), X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.predict(X).dtype == names.dtype and clf.score(X, names) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(axis=1), 1)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all()


def test_binary_labels(iris):
    X, y = iris
    clf = ProfondClassifier((8,), learning_rate_init=0.01, random_state=0).fit(X, y == 0)
    assert list(clf.classes_) == [False, True] and clf.predict_proba(X).shape == (150, 2)
    assert clf.score(X, y == 0) == 1.0


def test_multilabel_indicator():
    X, Y = make_multilabel_classification(200, n_features=10, n_classes=4, random_state=0)
    clf = _quiet(ProfondClassifier((32,), learning_rate_init=0.01, random_state=0), X, Y)
    assert list(clf.classes_) == [0, 1, 2, 3]
    pred, proba = clf.predict(X), clf.predict_proba(X)
    assert pred.shape == proba.shape == (200, 4) and set(np.unique(pred)) <= {0, 1}
    assert ((proba > 0.5) == pred).all() and (pred == Y).mean() > 0.85
    with pytest.raises(ValueError, match="multilabel"):
        clf.partial_fit(X, Y[:, 0])


def test_unknown_label_in_partial_fit(iris):
    X, y = iris
    clf = ProfondClassifier((4,), random_state=0)
    with pytest.raises(ValueError, match="'classes' parameter of ProfondClassifier.partial_fit"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.predict_proba(X).shape == (150, 3)
    with pytest.raises(ValueError, match=r"labels \[7\]"):
        clf.partial_fit(X[:3], [0, 1, 7])


def test_feature_names_in_from_a_dataframe(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    clf = _quiet(ProfondClassifier((8,), max_iter=20, random_state=0), frame, y)
    assert list(clf.feature_names_in_) == ["sl", "sw", "pl", "pw"] and clf.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)  # fitted with names, given none


def test_regressor_several_targets():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 3))
    Y = np.stack([X[:, 0] + X[:, 1], X[:, 1] * X[:, 2]], axis=1)
    reg = ProfondRegressor((32,), learning_rate_init=0.01, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (300, 2) and reg.n_outputs_ == 2 and reg.score(X, Y) > 0.8
    with pytest.raises(ValueError, match="y has 1 outputs"):
        reg.partial_fit(X, Y[:, 0])


# --- determinism, stopping rules, attributes ----------------------------------------------------
def test_random_state_makes_fit_deterministic(iris):
    X, y = iris
    a, b, c = (_quiet(ProfondClassifier((8,), max_iter=15, random_state=s), X, y)
               for s in (3, 3, 4))
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    # the estimator draws its own stream: profond's global generator does not move
    before = profond.random.get_state()
    _quiet(ProfondClassifier((8,), max_iter=2, random_state=3), X, y)
    assert profond.random.get_state() == before


def test_max_iter_warns_and_epochs_trains_exactly(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(5\)"):
        clf = ProfondClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 5 and clf.t_ == 750
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = ProfondClassifier((8,), epochs=7, tol=10.0, random_state=0).fit(X, y)
    assert clf.n_iter_ == 7  # tol=10 would stop at once under the convergence rule


def test_training_loss_convergence_stops_early(iris):
    X, y = iris
    clf = ProfondClassifier((8,), tol=10.0, n_iter_no_change=2, random_state=0).fit(X, y)
    # MLPClassifier's rule: one epoch sets the best loss, then three fail to improve it by
    # tol, which is more than n_iter_no_change
    assert clf.n_iter_ == 4
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_early_stopping_keeps_the_best_epoch(iris):
    X, y = iris
    seen = []

    class Watched(ProfondClassifier):
        def _validation_score(self, model, X_val, y_val):
            score = super()._validation_score(model, X_val, y_val)
            seen.append((score, model.get_weights()))
            return score

    clf = Watched((8,), early_stopping=True, n_iter_no_change=3, learning_rate_init=0.05,
                  random_state=0).fit(X, y)
    scores = clf.validation_scores_
    assert [s for s, _ in seen] == scores and len(scores) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(scores) and clf.best_loss_ is None
    best = seen[scores.index(max(scores))][1]  # the first epoch that reached the best
    assert all(np.array_equal(a, b) for a, b in zip(clf.model_.get_weights(), best))


def test_regressor_early_stopping_scores_r2():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (400, 2))
    y = X[:, 0] - 2 * X[:, 1]
    reg = ProfondRegressor((16,), early_stopping=True, learning_rate_init=0.01,
                           random_state=0).fit(X, y)
    assert 0.9 < reg.best_validation_score_ == max(reg.validation_scores_) <= 1.0
    assert len(reg.validation_scores_) == reg.n_iter_ and reg.t_ == 360 * reg.n_iter_


def test_loss_curve_includes_the_l2_penalty(iris):
    X, y = iris
    small, large = (_quiet(ProfondClassifier((8,), alpha=a, max_iter=1, random_state=0), X, y)
                    for a in (0.0, 10.0))
    assert large.loss_curve_[0] > small.loss_curve_[0]
    trained = _quiet(ProfondClassifier((8,), alpha=10.0, max_iter=50, random_state=0), X, y)
    weak = _quiet(ProfondClassifier((8,), alpha=0.0, max_iter=50, random_state=0), X, y)
    assert np.abs(trained.model_.get_weights()[0]).sum() < \
        np.abs(weak.model_.get_weights()[0]).sum()


def test_adaptive_learning_rate_divides_by_five(iris):
    X, y = iris
    clf = _quiet(ProfondClassifier((8,), solver="sgd", learning_rate="adaptive", tol=10.0,
                                   n_iter_no_change=1, max_iter=6, random_state=0), X, y)
    # epoch 1 sets the best loss; epochs 3 and 5 are the second without improvement
    assert clf.model_.optimizer.learning_rate == pytest.approx(0.001 / 5 ** 2)
    clf = _quiet(ProfondClassifier((8,), solver="sgd", learning_rate="invscaling", max_iter=2,
                                   learning_rate_init=0.1, random_state=0), X, y)
    assert clf.model_.optimizer.learning_rate == pytest.approx(0.1 / 301 ** 0.5)


def test_solvers_build_their_optimizer(iris):
    X, y = iris
    for solver, cls in (("sgd", "SGD"), ("adam", "Adam"), ("rmsprop", "RMSprop"),
                        ("nadam", "Nadam")):
        clf = _quiet(ProfondClassifier((4,), solver=solver, max_iter=1), X, y)
        assert type(clf.model_.optimizer).__name__ == cls
    opt = profond.optimizers.SGD(0.5, momentum=0.5)
    clf = _quiet(ProfondClassifier((4,), optimizer=opt, max_iter=1), X, y)
    assert clf.model_.optimizer is not opt and clf.model_.optimizer.momentum == 0.5
    assert opt.iterations == 0  # the estimator's copy trained, not the given object


def test_partial_fit_and_warm_start_go_on(iris):
    X, y = iris
    a = ProfondClassifier((8,), random_state=0)
    for _ in range(3):
        a.partial_fit(X, y, classes=[0, 1, 2])
    b = ProfondClassifier((8,), random_state=0)
    for _ in range(3):
        b.partial_fit(X, y, classes=[0, 1, 2])
    assert a.n_iter_ == 3 and len(a.loss_curve_) == 3
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))  # the stream carried over
    w = _quiet(ProfondClassifier((8,), warm_start=True, max_iter=4, random_state=0), X, y)
    first = w.model_
    _quiet(w, X, y)
    assert w.model_ is first and w.n_iter_ == 8 and len(w.loss_curve_) == 8


def test_verbose_prints_each_epoch(iris, capsys):
    X, y = iris
    _quiet(ProfondClassifier((4,), max_iter=2, verbose=True), X, y)
    assert capsys.readouterr().out.startswith("Iteration 1, loss = ")


@pytest.mark.parametrize("params, match", [
    ({"solver": "lbfgs"}, "'solver' parameter of ProfondClassifier must be one of"),
    ({"hidden_layer_sizes": (10, 0)}, "'hidden_layer_sizes' parameter"),
    ({"max_iter": 0}, "'max_iter' parameter of ProfondClassifier must be an int in"),
    ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
    ({"activation": "nope"}, "Unknown activation"),
    ({"model": profond.Sequential([layers.Dense(3)])}, "'model' parameter"),
])
def test_bad_parameters(iris, params, match):
    X, y = iris
    with pytest.raises(ValueError, match=match):
        ProfondClassifier(**params).fit(X, y)


# --- model= -------------------------------------------------------------------------------------
def _cnn(n_features_in, n_classes):
    return profond.Sequential([
        layers.Input((n_features_in,)), layers.Reshape((8, 8, 1)),
        layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dense(n_classes)])


def test_a_cnn_given_as_model(digits):
    X, y = digits
    clf = ProfondClassifier(model=_cnn, epochs=12, batch_size=32, learning_rate_init=0.01,
                            random_state=0).fit(X[:450], y[:450])
    assert clf.score(X[450:], y[450:]) > 0.85
    assert [type(layer).__name__ for layer in clf.model_.layers][:2] == ["Reshape", "Conv2D"]
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_model_gets_only_the_arguments_it_names(iris):
    X, y = iris
    seen = {}

    def build(**meta):
        seen.update(meta)
        return profond.Sequential([layers.Input((4,)), layers.Dense(3)])

    _quiet(ProfondClassifier(model=build, max_iter=1), X, y)
    assert seen == {"n_features_in": 4, "n_outputs": 3, "n_classes": 3}
    _quiet(ProfondRegressor(model=lambda n_outputs: profond.Sequential(
        [layers.Input((3,)), layers.Dense(n_outputs)]), max_iter=1), X[:, :3], X[:, 3])


def test_a_compiled_model_keeps_its_loss_and_a_softmax_output_is_read_as_is(iris):
    X, y = iris

    def build():
        net = profond.Sequential([layers.Input((4,)), layers.Dense(16, activation="tanh"),
                                  layers.Dense(3, activation="softmax")])
        net.compile(optimizer=profond.optimizers.Adam(0.02),
                    loss="sparse_categorical_crossentropy")
        return net

    clf = _quiet(ProfondClassifier(model=build, max_iter=60, random_state=0), X, y)
    assert clf.model_.optimizer.learning_rate == 0.02 and clf.score(X, y) > 0.9
    proba = clf.predict_proba(X)
    assert np.allclose(proba, clf.model_.predict(X.astype(np.float32), verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="compiled already"):
        ProfondClassifier(model=build, loss="mse").fit(X, y)
    with pytest.raises(TypeError, match="must return a profond Model"):
        ProfondClassifier(model=lambda: "not a model").fit(X, y)


# --- pickling -----------------------------------------------------------------------------------
def test_pickle_goes_through_the_model_file(iris):
    X, y = iris
    clf = _quiet(ProfondClassifier((8,), max_iter=5, random_state=0), X, y)
    state = clf.__getstate__()
    raw = state["model_"]
    assert isinstance(raw, bytes) and b'"format":"profond-model"' in raw.replace(b" ", b"")
    data = pickle.dumps(clf)
    rest = data.replace(raw, b"")  # the model file names its classes; nothing else may
    assert b"profond.models" not in rest and b"profond.layers" not in rest
    again = pickle.loads(data)
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert again.model_.optimizer.iterations == clf.model_.optimizer.iterations
    again.partial_fit(X, y)  # the optimizer's state came back with the file
    assert again.n_iter_ == 6


def test_import_profond_does_not_need_sklearn():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import profond\n"
            "try:\n    import profond.sklearn\n"
            "except ImportError as err:\n    print(err)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(os.path.dirname(profond.__file__))] + sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=False,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install 'profond[data]'" in out.stdout


# --- scikit-learn's tools -----------------------------------------------------------------------
def test_pipeline_grid_search_and_cross_validation(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), ProfondClassifier((8,), learning_rate_init=0.02,
                                                             epochs=30, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    search = GridSearchCV(pipe, {"profondclassifier__hidden_layer_sizes": [(2,), (16,)],
                                 "profondclassifier__alpha": [1e-4, 1e-2]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["profondclassifier__hidden_layer_sizes"] in [(2,), (16,)]
    assert search.best_estimator_[-1].n_iter_ == 30 and search.score(X, y) > 0.8
    copy = clone(search.best_estimator_)
    assert not hasattr(copy[-1], "model_")
    assert copy[-1].get_params() == search.best_estimator_[-1].get_params()
