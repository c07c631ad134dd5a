"""Models: ``Model`` (subclass it and write ``call``) and ``Sequential``."""

from profond import saving
from profond.io.model_file import load_model, save_model
from profond.models.model import Model
from profond.models.sequential import Sequential

# Keras 3 writes its models' module as "keras" ({"module": "keras", "class_name": "Sequential"}).
saving.register_builtin_objects("keras", "profond.models", {"Model": Model,
                                                            "Sequential": Sequential})

__all__ = ["Model", "Sequential", "load_model", "save_model"]
