"""profond: deep learning from first principles.

An autograd engine over NumPy arrays (CuPy on a GPU), Keras-style layers, models and training,
and experiments that show each lesson of a deep learning course on real data.

Examples
--------
>>> import profond
>>> x = profond.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
array([2., 4., 6.], dtype=float32)
"""

from profond import backend, config, random
from profond import ops
from profond.autograd import (Tensor, Variable, enable_grad, is_grad_enabled, no_grad,
                              set_grad_enabled, tensor)
from profond import saving
from profond import dtype_policies
from profond import (activations, callbacks, constraints, initializers, layers, losses, metrics,
                     optimizers, regularizers, schedules)
from profond.layers import Input
from profond.models import Model, Sequential
from profond.io.model_file import load_model
from profond.lr_finder import find_learning_rate
from profond import pruning
from profond import data, datasets, distribution, preprocessing, utils

__version__ = "0.1.0"

__all__ = ["Tensor", "Variable", "tensor", "no_grad", "enable_grad", "is_grad_enabled",
           "set_grad_enabled", "backend", "config", "dtype_policies", "random", "ops", "saving",
           "activations", "callbacks", "constraints", "initializers", "layers", "losses",
           "metrics", "optimizers", "regularizers", "schedules", "Input", "Model", "Sequential",
           "load_model", "find_learning_rate", "pruning", "data", "datasets", "utils",
           "preprocessing", "distribution", "__version__"]
