"""``ProfondClassifier`` and ``ProfondRegressor``: how each turns targets into network outputs
and outputs back into predictions."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from profond import activations, losses
from profond.sklearn._base import ProfondEstimator

__all__ = ["ProfondClassifier", "ProfondRegressor"]


def _ends_in(model, names) -> bool:
    """Whether the model's last layer applies one of the activations ``names``."""
    last = model.layers[-1] if model.layers else None
    act = getattr(last, "activation", None)
    if act is None:
        return False
    try:
        name = activations.serialize(act)
    except (TypeError, ValueError):
        return False
    return isinstance(name, str) and name in names


class ProfondClassifier(ClassifierMixin, ProfondEstimator):
    """A classifier trained by profond: ``MLPClassifier``'s network and arguments, or any
    profond model built by ``model``.

    Labels may be of any type (ints, strings ...), binary, multiclass, or a multilabel 0/1
    indicator matrix. The network has one output per class (per label for multilabel) and is
    trained on the softmax cross-entropy (sigmoid for multilabel).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        Units of each hidden ``Dense`` layer (ignored when ``model`` is given).
    activation : str, default "relu"
        Of the hidden layers: ``MLPClassifier``'s "identity", "logistic", "tanh", "relu", or
        any profond activation name ("gelu", "elu" ...).
    model : callable or None, default None
        A function returning a profond ``Model`` (any architecture), compiled or not, called at
        each fresh ``fit``; it receives those of ``n_features_in``, ``n_outputs``,
        ``n_classes`` that it names as arguments. Its output must be one column per class:
        logits, or probabilities when its last layer applies softmax (sigmoid for
        multilabel). A compiled model keeps its loss and optimizer (``loss`` and
        ``optimizer`` must then be None).
    loss : str, Loss or callable, default None
        None: sparse categorical cross-entropy (binary for multilabel), on logits unless the
        model ends in softmax or sigmoid. Any profond loss otherwise; it receives class
        indices 0..n_classes-1 (the 0/1 matrix for multilabel).
    optimizer : str, Optimizer, class or dict, default None
        Overrides ``solver`` and its settings (an Optimizer object is copied at each fit).
    epochs : int or None, default None
        None trains as ``MLPClassifier`` does: up to ``max_iter`` epochs, stopping when the
        training loss improves by less than ``tol`` for ``n_iter_no_change`` epochs in a row.
        An int trains exactly that many epochs, as Keras's ``fit`` (``early_stopping`` still
        applies).
    solver : {"adam", "sgd", "rmsprop", "adagrad", "adamw", "nadam", "adadelta"}, default "adam"
        The optimizer, built with ``learning_rate_init`` (and ``momentum``,
        ``nesterovs_momentum`` for "sgd"; ``beta_1``, ``beta_2`` for the Adam family;
        ``epsilon``).
    alpha : float, default 0.0001
        L2 penalty in scikit-learn's scale: ``alpha / (2 * batch_size)`` times the squared
        kernels' sum is added to each batch's loss (through ``regularizers.L2``).
    batch_size : int or "auto", default "auto"
        Samples per update; "auto" is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        For ``solver="sgd"``: "invscaling" sets the rate to ``learning_rate_init / (t_ + 1) **
        power_t`` after each epoch, "adaptive" divides it by 5 where training would stop.
    learning_rate_init : float, default 0.001
    power_t : float, default 0.5
    max_iter : int, default 200
        Most epochs when ``epochs`` is None.
    shuffle : bool, default True
        Reshuffle the samples at each epoch.
    random_state : int, RandomState or None, default None
        Seeds initial weights, shuffling, dropout and the validation split; None draws from
        profond's global generator.
    tol : float, default 1e-4
    verbose : bool, default False
        Print the loss (and validation score) after each epoch.
    warm_start : bool, default False
        ``fit`` goes on training the fitted network (and its optimizer) instead of a new one.
    momentum : float, default 0.9
    nesterovs_momentum : bool, default True
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data (stratified), stop when its accuracy
        improves by less than ``tol`` for ``n_iter_no_change`` epochs in a row, and keep the best
        epoch's weights.
    validation_fraction : float, default 0.1
    beta_1, beta_2, epsilon : float, default 0.9, 0.999, 1e-8
    n_iter_no_change : int, default 10

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels (``arange(n_labels)`` for multilabel).
    model_ : profond.Model
        The fitted network.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had column names (a pandas DataFrame).
    loss_curve_ : list of float
        The training loss (penalty included) after each epoch.
    best_loss_ : float or None
        The lowest training loss (None with ``early_stopping``).
    validation_scores_ : list of float
        With ``early_stopping``: the accuracy on the held-out data after each epoch.
    best_validation_score_ : float
    n_iter_ : int
        Epochs trained.
    t_ : int
        Samples seen in training.

    Notes
    -----
    Pickling stores the fitted network as the bytes of profond's ``.safetensors`` model file
    (written by :func:`profond.io.model_file.save_model`, read back by
    :func:`profond.load_model`), never as a pickled model object: a ``model`` with custom
    layers must register them (``@profond.saving.register_keras_serializable()``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from profond.sklearn import ProfondClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = ProfondClassifier((64,), learning_rate_init=0.01, epochs=20, random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    >>> clf.predict_proba(X_test[:2]).shape
    (2, 10)

    A small CNN on the digits' 8x8 images, given as a function that builds it:

    >>> import profond
    >>> from profond import layers
    >>> def cnn(n_features_in, n_classes):
    ...     return profond.Sequential([
    ...         layers.Input((n_features_in,)), layers.Reshape((8, 8, 1)),
    ...         layers.Conv2D(8, 3, activation="relu"), layers.Flatten(),
    ...         layers.Dense(n_classes)])
    >>> clf = ProfondClassifier(model=cnn, epochs=10, batch_size=32, learning_rate_init=0.003,
    ...                         random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    """

    def _meta(self):
        return {"n_classes": len(self.classes_)}

    def _targets(self, y, first, classes=None):
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if first:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
            elif classes is not None:
                self.classes_ = np.unique(classes)
            else:
                self.classes_ = np.unique(column_or_1d(y, warn=True))
        elif multilabel != self._multilabel:
            raise ValueError(f"{type(self).__name__} was fitted on "
                             f"{'multilabel' if self._multilabel else 'single-label'} "
                             f"targets; these are {type_of_target(y)}.")
        if self._multilabel:
            if y.shape[1] != len(self.classes_):
                raise ValueError(f"y has {y.shape[1]} labels; {type(self).__name__} was "
                                 f"fitted with {len(self.classes_)}.")
            return y.astype(np.float32), len(self.classes_)
        y = column_or_1d(y, warn=True)
        index = np.searchsorted(self.classes_, y)
        index = np.minimum(index, len(self.classes_) - 1)
        if not np.array_equal(self.classes_[index], y):
            unseen = np.setdiff1d(y, self.classes_).tolist()
            raise ValueError(f"y contains labels {unseen} that are not in classes_ "
                             f"{self.classes_.tolist()}.")
        return index.astype(np.int64), len(self.classes_)

    def _default_loss(self, model):
        if self._multilabel:
            return losses.BinaryCrossentropy(from_logits=not _ends_in(model, ("sigmoid",)))
        return losses.SparseCategoricalCrossentropy(
            from_logits=not _ends_in(model, ("softmax",)))

    def _stratify(self, y):
        return None if self._multilabel else y

    def _validation_score(self, model, X, y):
        out = model.predict(X, batch_size=min(len(X), 4096), verbose=0)
        if self._multilabel:
            return accuracy_score(y, np.asarray(out) > (0.5 if _ends_in(model, ("sigmoid",))
                                                        else 0.0))
        return accuracy_score(y, np.asarray(out).argmax(axis=1))

    def partial_fit(self, X, y, classes=None):
        """One epoch over ``(X, y)``, on the fitted network (a new one at the first call).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), optional
            Every label that ``y`` may hold over all calls: needed at the first call (unless
            ``y`` is a multilabel indicator matrix), ignored afterwards.

        Returns
        -------
        self
        """
        if not hasattr(self, "model_") and classes is None and \
                type_of_target(y) != "multilabel-indicator":
            raise ValueError(f"The 'classes' parameter of {type(self).__name__}.partial_fit "
                             "must be given at the first call (every label y may hold). Got "
                             "None instead.")
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Rows sum to 1 (for multilabel, each column is its label's probability).
        """
        out = self._outputs(X)
        if self._multilabel:
            return out if _ends_in(self.model_, ("sigmoid",)) else 1.0 / (1.0 + np.exp(-out))
        if _ends_in(self.model_, ("softmax",)):
            return out / out.sum(axis=1, keepdims=True)
        out = np.exp(out - out.max(axis=1, keepdims=True))
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) (or (n_samples, n_labels) for multilabel)
        """
        proba = self.predict_proba(X)
        if self._multilabel:
            return (proba > 0.5).astype(int)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class ProfondRegressor(RegressorMixin, ProfondEstimator):
    """A regressor trained by profond: ``MLPRegressor``'s network and arguments, or any
    profond model built by ``model``.

    The network has one linear output per target and is trained on the mean squared error.
    Targets are used as given (scale them, e.g. with ``TransformedTargetRegressor``, when
    their range is far from 1).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        Units of each hidden ``Dense`` layer (ignored when ``model`` is given).
    activation : str, default "relu"
        Of the hidden layers: ``MLPClassifier``'s "identity", "logistic", "tanh", "relu", or
        any profond activation name ("gelu", "elu" ...).
    model : callable or None, default None
        A function returning a profond ``Model`` (any architecture), compiled or not, called at
        each fresh ``fit``; it receives those of ``n_features_in``, ``n_outputs`` that it
        names as arguments. Its output must be one column per target. A compiled model keeps
        its loss and optimizer (``loss`` and ``optimizer`` must then be None).
    loss : str, Loss or callable, default None
        None: mean squared error. Any profond loss otherwise; it receives the targets.
    optimizer : str, Optimizer, class or dict, default None
        Overrides ``solver`` and its settings (an Optimizer object is copied at each fit).
    epochs : int or None, default None
        None trains as ``MLPClassifier`` does: up to ``max_iter`` epochs, stopping when the
        training loss improves by less than ``tol`` for ``n_iter_no_change`` epochs in a row.
        An int trains exactly that many epochs, as Keras's ``fit`` (``early_stopping`` still
        applies).
    solver : {"adam", "sgd", "rmsprop", "adagrad", "adamw", "nadam", "adadelta"}, default "adam"
        The optimizer, built with ``learning_rate_init`` (and ``momentum``,
        ``nesterovs_momentum`` for "sgd"; ``beta_1``, ``beta_2`` for the Adam family;
        ``epsilon``).
    alpha : float, default 0.0001
        L2 penalty in scikit-learn's scale: ``alpha / (2 * batch_size)`` times the squared
        kernels' sum is added to each batch's loss (through ``regularizers.L2``).
    batch_size : int or "auto", default "auto"
        Samples per update; "auto" is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        For ``solver="sgd"``: "invscaling" sets the rate to ``learning_rate_init / (t_ + 1) **
        power_t`` after each epoch, "adaptive" divides it by 5 where training would stop.
    learning_rate_init : float, default 0.001
    power_t : float, default 0.5
    max_iter : int, default 200
        Most epochs when ``epochs`` is None.
    shuffle : bool, default True
        Reshuffle the samples at each epoch.
    random_state : int, RandomState or None, default None
        Seeds initial weights, shuffling, dropout and the validation split; None draws from
        profond's global generator.
    tol : float, default 1e-4
    verbose : bool, default False
        Print the loss (and validation score) after each epoch.
    warm_start : bool, default False
        ``fit`` goes on training the fitted network (and its optimizer) instead of a new one.
    momentum : float, default 0.9
    nesterovs_momentum : bool, default True
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data (at random), stop when its R² improves
        by less than ``tol`` for ``n_iter_no_change`` epochs in a row, and keep the best
        epoch's weights.
    validation_fraction : float, default 0.1
    beta_1, beta_2, epsilon : float, default 0.9, 0.999, 1e-8
    n_iter_no_change : int, default 10

    Attributes
    ----------
    model_ : profond.Model
        The fitted network.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had column names (a pandas DataFrame).
    loss_curve_ : list of float
        The training loss (penalty included) after each epoch.
    best_loss_ : float or None
        The lowest training loss (None with ``early_stopping``).
    validation_scores_ : list of float
        With ``early_stopping``: the R² on the held-out data after each epoch.
    best_validation_score_ : float
    n_iter_ : int
        Epochs trained.
    t_ : int
        Samples seen in training.

    Notes
    -----
    Pickling stores the fitted network as the bytes of profond's ``.safetensors`` model file
    (written by :func:`profond.io.model_file.save_model`, read back by
    :func:`profond.load_model`), never as a pickled model object: a ``model`` with custom
    layers must register them (``@profond.saving.register_keras_serializable()``).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.sklearn import ProfondRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (300, 2))
    >>> y = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 0])
    >>> reg = ProfondRegressor((32, 32), learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.95
    True
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    def _y_checks(self):
        return {"multi_output": True, "y_numeric": True}

    def _targets(self, y, first, classes=None):
        y = np.asarray(y)
        return y.reshape(len(y), -1).astype(np.float32), 1 if y.ndim == 1 else y.shape[1]

    def _default_loss(self, model):
        return losses.MeanSquaredError()

    def _validation_score(self, model, X, y):
        out = model.predict(X, batch_size=min(len(X), 4096), verbose=0)
        return r2_score(y, np.asarray(out, dtype=np.float64).reshape(y.shape))

    def partial_fit(self, X, y):
        """One epoch over ``(X, y)``, on the fitted network (a new one at the first call).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            1-d when the model has a single output.
        """
        out = self._outputs(X)
        return out.ravel() if out.shape[1] == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # one output per column of a 2-d y
        return tags
