"""Small real datasets bundled with scikit-learn (no download): digits, iris, wine, breast
cancer, diabetes. Each loader returns NumPy arrays ``(x, y)``.
"""

from __future__ import annotations

import numpy as np

from profond._validation import require

__all__ = ["load_digits", "load_iris", "load_wine", "load_breast_cancer", "load_diabetes"]


def _sklearn_datasets():
    return require("sklearn.datasets", "The bundled datasets", "data", "scikit-learn")


def load_digits(images: bool = False):
    """Handwritten digits 0-9: 1,797 grey images of 8 x 8 pixels with values 0..16.

    Parameters
    ----------
    images : bool, default False
        False: ``x`` of shape ``(1797, 64)``; True: ``(1797, 8, 8, 1)`` (channels-last, for
        convolutional layers).

    Returns
    -------
    x : ndarray of float64, values in [0, 16]
    y : ndarray of int64, shape (1797,)

    Source: UCI ML hand-written digits (Alpaydin & Kaynak), as bundled with scikit-learn.
    """
    d = _sklearn_datasets().load_digits()
    x = d.images[..., None] if images else d.data
    return np.ascontiguousarray(x, dtype=np.float64), d.target.astype(np.int64)


def load_iris():
    """Iris flowers: 150 samples, 4 features, 3 classes (Fisher, 1936)."""
    d = _sklearn_datasets().load_iris()
    return d.data.astype(np.float64), d.target.astype(np.int64)


def load_wine():
    """Wine recognition: 178 samples, 13 chemical features, 3 cultivars (UCI)."""
    d = _sklearn_datasets().load_wine()
    return d.data.astype(np.float64), d.target.astype(np.int64)


def load_breast_cancer():
    """Breast cancer Wisconsin (diagnostic): 569 samples, 30 features, 2 classes (UCI)."""
    d = _sklearn_datasets().load_breast_cancer()
    return d.data.astype(np.float64), d.target.astype(np.int64)


def load_diabetes():
    """Diabetes progression: 442 samples, 10 standardised features, a real-valued target."""
    d = _sklearn_datasets().load_diabetes()
    return d.data.astype(np.float64), d.target.astype(np.float64)
