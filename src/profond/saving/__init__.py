"""The one registry and Keras 3's serialization, for every named kind of object.

Activations, losses, metrics, optimizers, learning-rate schedules, initializers, regularizers,
constraints, layers and models all register and serialize here, in Keras 3's names and dict
shapes (a ``.keras`` file's ``config.json``). A custom class or function registered once with
:func:`register_keras_serializable` saves with a model and loads back; each kind hands its
built-in table to :func:`register_builtin_objects` when it is imported, so this floor imports
no kind.

Examples
--------
>>> from profond import saving
>>> saving.serialize_keras_object(saving.deserialize_keras_object(
...     {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.5},
...      "registered_name": None}))
{'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 0.5}, \
'registered_name': None}
"""

from profond.saving.object_registration import (CustomObjectScope, builtin_objects,
                                                custom_object_scope, find_by_name,
                                                get_custom_objects, get_registered_name,
                                                get_registered_object, lookup_name,
                                                public_module_of, register_builtin_objects,
                                                register_keras_serializable)
from profond.saving.serialization_lib import (UnknownObjectError, deserialize_keras_object,
                                             resolve_identifier, retrieve_class_or_fn,
                                             serialize_if_named, serialize_keras_object)

__all__ = ["register_keras_serializable", "get_registered_name", "get_registered_object",
           "get_custom_objects", "custom_object_scope", "CustomObjectScope",
           "serialize_keras_object", "deserialize_keras_object", "retrieve_class_or_fn",
           "register_builtin_objects", "builtin_objects", "public_module_of", "find_by_name",
           "lookup_name", "serialize_if_named", "resolve_identifier",
           "UnknownObjectError"]
