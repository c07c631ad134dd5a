"""Real datasets, one call each."""

from profond.datasets.bundled import (load_breast_cancer, load_diabetes, load_digits, load_iris,
                                      load_wine)
from profond.datasets.fashion_mnist import load_fashion_mnist
from profond.datasets.series import load_sunspots

__all__ = ["load_digits", "load_iris", "load_wine", "load_breast_cancer", "load_diabetes",
           "load_fashion_mnist", "load_sunspots"]
