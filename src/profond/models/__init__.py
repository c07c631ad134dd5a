"""Models: ``Model`` (subclass it and write ``call``, or ``Model(inputs, outputs)`` for a
functional model) and ``Sequential``."""

from profond import saving
from profond.dtype_policies import DTypePolicy
from profond.io.model_file import load_model, save_model
from profond.models.functional import Functional
from profond.models.model import Model
from profond.models.sequential import Sequential

# Keras 3 writes its models' module as "keras" ({"module": "keras", "class_name": "Sequential"}),
# and its layers' dtype policies too ({"module": "keras", "class_name": "DTypePolicy"}).
saving.register_builtin_objects("keras", "profond.models", {
    "Model": Model, "Sequential": Sequential, "DTypePolicy": DTypePolicy,
    "FloatDTypePolicy": DTypePolicy})

# Keras writes a functional model as {"module": "keras.src.models.functional",
# "class_name": "Functional"}; profond writes and reads the same.
saving.register_builtin_objects("keras.src.models.functional", "profond.models.functional",
                                {"Functional": Functional})

__all__ = ["Model", "Sequential", "Functional", "load_model", "save_model"]
