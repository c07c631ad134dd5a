"""scikit-learn estimators over profond networks: :class:`ProfondClassifier` and
:class:`ProfondRegressor`.

They follow scikit-learn's conventions (``fit`` returns ``self``, learned attributes end in
``_``, ``get_params``/``set_params`` and ``clone`` from ``BaseEstimator``, randomness only
through ``random_state``) and pass ``sklearn.utils.estimator_checks.check_estimator``, so they
work in a ``Pipeline``, ``GridSearchCV`` or ``cross_val_score``. The network is given either as
``MLPClassifier``'s arguments (``hidden_layer_sizes``, ``activation``, ``solver``, ``alpha``,
...) or as ``model=``, a function that builds any profond model (a CNN, a recurrent net ...).

A fitted estimator pickles through profond's own model file: the fitted model travels as the
bytes of its ``.safetensors`` file (weights, architecture, optimizer state; no pickle of the
model object), and unpickling loads it with :func:`profond.load_model`.

This module needs scikit-learn (``pip install 'profond[data]'``); ``import profond`` does not.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from profond.sklearn import ProfondClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = make_pipeline(StandardScaler(), ProfondClassifier((32,), learning_rate_init=0.01,
...                                                       random_state=0))
>>> clf.fit(X, y).score(X, y) > 0.9
True
"""

from profond._validation import require

require("sklearn.base", "profond.sklearn", "data", package="scikit-learn")

from profond.sklearn._estimators import ProfondClassifier, ProfondRegressor

__all__ = ["ProfondClassifier", "ProfondRegressor"]
