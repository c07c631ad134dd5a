"""What the classifier and the regressor share: their parameters, the network they build, the
training loop (``MLPClassifier``'s stopping rules on top of ``Model.fit``) and pickling through
profond's model file."""

from __future__ import annotations

import contextlib
import inspect
import numbers
import os
import tempfile
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from profond import optimizers, regularizers
from profond import random as prandom
from profond._validation import check_choice, check_float, check_int
from profond.callbacks import Callback
from profond.io.model_file import load_model, save_model
from profond.layers import Dense, Input
from profond.models import Model, Sequential

# MLPClassifier's activation names, and profond's own.
_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_SOLVERS = ("adam", "sgd", "rmsprop", "adagrad", "adamw", "nadam", "adadelta")
_LEARNING_RATES = ("constant", "invscaling", "adaptive")
# What a function given as ``model=`` may ask for by naming it as an argument.
_META = ("n_features_in", "n_outputs", "n_classes")


def _model_bytes(model) -> bytes:
    """The bytes of ``model``'s profond model file (saved with profond's saver)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.safetensors")
        save_model(model, path)
        with open(path, "rb") as fh:
            return fh.read()


def _model_from_bytes(raw: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.safetensors")
        with open(path, "wb") as fh:
            fh.write(raw)
        return load_model(path)


class _Stopping(Callback):
    """``MLPClassifier``'s end-of-epoch rules: record the loss, score the validation set, count
    the epochs without improvement (by more than ``tol``), adapt or stop."""

    def __init__(self, estimator, n_samples, validation, converge):
        super().__init__()
        self.estimator = estimator
        self.n_samples = n_samples
        self.validation = validation  # (X_val, y_val) or None
        self.converge = converge  # stop when the training loss stalls (epochs=None)
        self.converged = False
        self.best_weights = None  # with a validation set: the best epoch's weights

    def on_epoch_end(self, epoch, logs=None):
        est, model = self.estimator, self.model
        loss = float(logs["loss"])
        est.loss_curve_.append(loss)
        est.n_iter_ += 1
        est.t_ += self.n_samples
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if est.learning_rate == "invscaling" and est.solver == "sgd" and est.optimizer is None:
            model.optimizer.learning_rate = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if self.validation is not None:
            score = est._validation_score(model, *self.validation)
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:.6f}")
            stalled = score < est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_weights = model.get_weights()
            what = "Validation score"
        elif self.converge:
            stalled = loss > est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
            what = "Training loss"
        else:
            return
        est._no_improvement_count = est._no_improvement_count + 1 if stalled else 0
        if est._no_improvement_count <= est.n_iter_no_change:
            return
        lr = float(model.optimizer.learning_rate)
        if est.learning_rate == "adaptive" and est.solver == "sgd" and est.optimizer is None \
                and lr > 1e-6:
            model.optimizer.learning_rate = lr / 5.0
            est._no_improvement_count = 0
            if est.verbose:
                print(f"Setting learning rate to {lr / 5.0:f}")
            return
        if est.verbose:
            print(f"{what} did not improve more than tol={est.tol:f} for "
                  f"{est.n_iter_no_change} consecutive epochs. Stopping.")
        self.converged = True
        model.stop_training = True


class ProfondEstimator(BaseEstimator):
    """The shared base of :class:`ProfondClassifier` and :class:`ProfondRegressor` (see them
    for the parameters). Subclasses say how targets become network outputs."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, model=None, loss=None,
                 optimizer=None, epochs=None, solver="adam", alpha=0.0001, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.epochs = epochs
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

    # --- subclass hooks ----------------------------------------------------------------------
    def _targets(self, y, first, classes=None):
        """``(y as the network's targets, number of outputs)``; sets the target attributes."""
        raise NotImplementedError

    def _default_loss(self, model):
        raise NotImplementedError

    def _validation_score(self, model, X, y):
        raise NotImplementedError

    # --- parameters ----------------------------------------------------------------------------
    def _check_params(self):
        owner = type(self).__name__
        if self.model is None:
            sizes = self.hidden_layer_sizes
            sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
            try:
                sizes = [check_int(s, "hidden_layer_sizes", owner, low=1) for s in sizes]
            except (TypeError, ValueError):
                raise ValueError(f"The 'hidden_layer_sizes' parameter of {owner} must be an int "
                                 f"or a sequence of ints >= 1. Got {self.hidden_layer_sizes!r} "
                                 "instead.") from None
            if not isinstance(self.activation, str):
                raise ValueError(f"The 'activation' parameter of {owner} must be a str among "
                                 f"{sorted(_ACTIVATIONS)} or a profond activation name. Got "
                                 f"{self.activation!r} instead.")
        elif isinstance(self.model, Model) or not callable(self.model):
            raise ValueError(f"The 'model' parameter of {owner} must be None or a function "
                             "returning a profond Model (not a Model itself: the estimator "
                             f"builds a fresh one at each fit). Got {self.model!r} instead.")
        else:
            sizes = None
        check_choice(self.solver, "solver", owner, _SOLVERS)
        check_choice(self.learning_rate, "learning_rate", owner, _LEARNING_RATES)
        check_int(self.epochs, "epochs", owner, low=1, allow_none=True)
        check_int(self.max_iter, "max_iter", owner, low=1)
        check_int(self.n_iter_no_change, "n_iter_no_change", owner, low=1)
        if self.batch_size != "auto":
            check_int(self.batch_size, "batch_size", owner, low=1)
        for name, low, high, high_open in (
                ("alpha", 0, None, False), ("learning_rate_init", 0, None, False),
                ("power_t", 0, None, False), ("tol", 0, None, False),
                ("momentum", 0, 1, False), ("validation_fraction", 0, 1, True),
                ("beta_1", 0, 1, True), ("beta_2", 0, 1, True), ("epsilon", 0, None, False)):
            check_float(getattr(self, name), name, owner, low=low, high=high,
                        low_open=name in ("learning_rate_init", "validation_fraction"),
                        high_open=high_open)
        return sizes

    def _seed(self):
        """An int seed from ``random_state`` (None: profond's global stream)."""
        if self.random_state is None:
            return None
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    @contextlib.contextmanager
    def _randomness(self, fresh):
        """profond's generator for a fit: seeded from ``random_state`` for a fresh model, the
        stream the last fit left for a model that goes on training (``partial_fit``)."""
        seed = self._seed() if fresh else None
        if fresh and seed is not None:
            with prandom.seeded(seed):
                yield
                self._random_stream = prandom.get_state()
        elif not fresh and getattr(self, "_random_stream", None) is not None:
            with prandom.preserved():
                prandom.set_state(self._random_stream)
                yield
                self._random_stream = prandom.get_state()
        else:
            self._random_stream = None
            yield

    def _new_optimizer(self):
        if self.optimizer is not None:
            if isinstance(self.optimizer, optimizers.Optimizer):  # a fresh one for each fit
                return optimizers.deserialize(optimizers.serialize(self.optimizer))
            return optimizers.get(self.optimizer)
        lr = self.learning_rate_init
        if self.solver == "sgd":
            return optimizers.SGD(lr, momentum=self.momentum,
                                  nesterov=bool(self.nesterovs_momentum and self.momentum > 0))
        if self.solver in ("adam", "nadam", "adamw"):
            return optimizers.get(self.solver).__class__(
                lr, beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return optimizers.get(self.solver).__class__(lr, epsilon=self.epsilon)

    def _build(self, sizes, n_features, n_outputs, batch_size, meta):
        """A compiled network: ``MLPClassifier``'s, or the one ``model`` builds."""
        if self.model is None:
            # sklearn's L2 term is alpha / 2 * ||W||^2 divided by the batch's length.
            reg = regularizers.L2(0.5 * self.alpha / batch_size) if self.alpha > 0 else None
            act = _ACTIVATIONS.get(self.activation, self.activation)
            net = Sequential([Input((n_features,))] +
                             [Dense(s, activation=act, kernel_regularizer=reg) for s in sizes] +
                             [Dense(n_outputs, kernel_regularizer=reg)])
        else:
            wanted = inspect.signature(self.model).parameters
            takes_all = any(p.kind is p.VAR_KEYWORD for p in wanted.values())
            net = self.model(**{k: v for k, v in meta.items() if takes_all or k in wanted})
            if not isinstance(net, Model):
                raise TypeError(f"The function given as 'model' to {type(self).__name__} must "
                                f"return a profond Model. It returned {net!r}.")
        if net.optimizer is not None:  # compiled by the user: their loss and optimizer
            if self.loss is not None or self.optimizer is not None:
                raise ValueError(f"The model built by 'model' is compiled already, so the "
                                 f"'loss' and 'optimizer' parameters of {type(self).__name__} "
                                 "must be None. Compile it there or here, not both.")
            return net
        net.compile(optimizer=self._new_optimizer(),
                    loss=self.loss if self.loss is not None else self._default_loss(net))
        return net

    # --- training ------------------------------------------------------------------------------
    def fit(self, X, y):
        """Train the network on ``(X, y)`` for up to ``max_iter`` epochs (``epochs`` exactly).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False)

    def _fit(self, X, y, incremental, classes=None):
        sizes = self._check_params()
        fresh = not hasattr(self, "model_") or not (incremental or self.warm_start)
        X, y = validate_data(self, X, y, reset=fresh, dtype=(np.float64, np.float32),
                             **self._y_checks())
        y, n_outputs = self._targets(y, fresh, classes)
        if not fresh and n_outputs != self.n_outputs_:
            raise ValueError(f"y has {n_outputs} outputs; {type(self).__name__} was fitted "
                             f"with {self.n_outputs_}.")
        X = X.astype(np.float32, copy=False)
        n = len(X)
        if self.batch_size == "auto":
            batch = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped", UserWarning, stacklevel=3)
            batch = min(self.batch_size, n)
        with self._randomness(fresh):
            if fresh:
                meta = {"n_features_in": X.shape[1], "n_outputs": n_outputs,
                        **self._meta()}
                self.model_ = self._build(sizes, X.shape[1], n_outputs, batch, meta)
                self.n_outputs_ = n_outputs
                self.loss_curve_ = []
                self.best_loss_ = np.inf
                self.n_iter_ = 0
                self.t_ = 0
            if fresh or not incremental:  # a warm-started fit counts its own stalled epochs
                self._no_improvement_count = 0
            validation = None
            if self.early_stopping and not incremental:
                X, X_val, y, y_val = train_test_split(
                    X, y, test_size=self.validation_fraction, shuffle=True,
                    random_state=prandom.draw_seed(), stratify=self._stratify(y))
                validation = (X_val, y_val)
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
                n = len(X)
                batch = min(batch, n)
            stopping = _Stopping(self, n, validation, converge=self.epochs is None)
            epochs = 1 if incremental else (self.epochs or self.max_iter)
            self.model_.fit(X, y, batch_size=batch, epochs=epochs, shuffle=bool(self.shuffle),
                            verbose=0, callbacks=[stopping])
        if stopping.best_weights is not None:
            self.model_.set_weights(stopping.best_weights)
        if not incremental and self.epochs is None and not stopping.converged:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                          "and the optimization hasn't converged yet.", ConvergenceWarning,
                          stacklevel=3)
        return self

    def _meta(self):
        return {}

    def _y_checks(self):
        return {"multi_output": True}

    def _stratify(self, y):
        return None

    def _outputs(self, X):
        """The network's outputs for ``X`` (float64, shape (n_samples, n_outputs))."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        out = self.model_.predict(X.astype(np.float32, copy=False),
                                  batch_size=min(len(X), 4096), verbose=0)
        return np.asarray(out, dtype=np.float64).reshape(len(X), -1)

    # --- pickling through profond's model file -------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state)
            state["model_"] = _model_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state = dict(state)
            state["model_"] = _model_from_bytes(state["model_"])
        super().__setstate__(state)
