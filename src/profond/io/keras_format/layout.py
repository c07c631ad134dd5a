"""Where Keras 3 puts each variable in a ``.weights.h5`` file (and a ``.keras`` file's
``model.weights.h5``), computed from a profond model.

Keras does not address a layer by its name (names are generated and differ between two
instances of one model) but by the path that reaches it from the model, as its saver walks it:

* a ``Sequential`` or functional model's layers sit in ``layers/<key>``, where the key is the
  layer's class name in snake case, made unique within the list by ``_1``, ``_2`` ... in list
  order (``dense``, ``dense_1``, ``conv2d``, ``input_layer`` ...); a nested model nests;
* a layer's own variables are the datasets ``vars/0``, ``vars/1`` ..., trainable ones first, in
  creation order (Keras's ``get_weights`` order); the ``vars`` group carries the layer's name;
* a recurrent layer keeps its weights in its cell: ``<key>/cell/vars/<i>``; ``Bidirectional``
  holds ``forward_layer/`` and ``backward_layer/``, ``TimeDistributed`` ``layer/``;
* a layer whose variables Keras keeps in sub-layers profond does not have (or keeps twice)
  says where with ``_keras_variable_groups()``: ``[(sub-path, [variables])]``
  (``MultiHeadAttention``'s ``query_dense`` ..., ``SpectralNormalization``'s own kernel);
* a subclassed model's attributes are walked in sorted order (private ones last), each layer
  under the attribute's name and each list of layers as above; its ``layers`` list is one of
  those attributes, and a layer reached twice is stored at its first path only;
* the optimizer's variables are ``optimizer/vars/<i>``: the step count, the learning rate
  (unless it is a schedule), then the slots in the order of :data:`SLOT_ORDER`.

This was read off files written by Keras 3.15.1; the parity tests check it against Keras.
"""

from __future__ import annotations

import re

from profond import saving
from profond.layers import Bidirectional, Layer, TimeDistributed
from profond.layers.recurrent import GRU, LSTM, SimpleRNN

__all__ = ["snake_case", "layer_groups", "SLOT_ORDER", "optimizer_slot_order"]

_RECURRENT = (SimpleRNN, GRU, LSTM)

# Per optimizer, the groups of slot names: within a group the slots of one variable follow
# each other, variable after variable; groups follow each other (RMSprop keeps all its
# velocities, then all its momentums ...). Slots an optimizer's config does not use are absent.
SLOT_ORDER = {
    "SGD": [["momentum"]],
    "Adam": [["momentum", "velocity"], ["velocity_hat"]],
    "AdamW": [["momentum", "velocity"], ["velocity_hat"]],
    "Nadam": [["momentum", "velocity"]],
    "RMSprop": [["velocity"], ["momentum"], ["average_gradient"]],
    "Adagrad": [["accumulator"]],
    "Adadelta": [["accumulated_grad", "accumulated_delta_var"]],
}


def snake_case(name: str) -> str:
    """Keras's snake case of a class name: ``"Conv2D"`` -> ``"conv2d"``, ``"ReLU"`` -> ``"re_lu"``.

    Examples
    --------
    >>> [snake_case(n) for n in ("Dense", "MaxPooling2D", "PReLU", "InputLayer")]
    ['dense', 'max_pooling2d', 'p_re_lu', 'input_layer']
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(base, used):
    n = used.get(base, 0)
    used[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _model_kind(obj):
    """"Sequential", "Functional", "Model" (subclassed) or None for a plain layer."""
    sequential = (saving.builtin_objects("keras") or {}).get("Sequential")
    functional = (saving.builtin_objects("keras.src.models.functional") or {}).get("Functional")
    model = (saving.builtin_objects("keras") or {}).get("Model")
    if sequential is not None and isinstance(obj, sequential):
        return "Sequential"
    if functional is not None and isinstance(obj, functional):
        return "Functional"
    if model is not None and isinstance(obj, model):
        return "Model"
    return None


def _own_weights(layer):
    """The layer's own variables (its sub-layers' left out), in Keras's order."""
    inner = {id(v) for sub in layer.layers for v in sub.weights}
    return [v for v in layer.weights if id(v) not in inner]


def _layer_attributes(layer, is_model):
    """``(attribute, layer or list of layers)`` as Keras's saver visits them: sorted, private
    names last. A model's own ``layers`` list is one of them; profond's private bookkeeping
    (``_sublayers``, ``_stack`` ...) is not an attribute Keras would have."""
    found = []
    for attr, value in vars(layer).items():
        if attr.startswith("_") and (is_model or attr in ("_sublayers", "_parent")):
            continue
        if isinstance(value, Layer):
            found.append((attr, value))
        elif isinstance(value, (list, tuple, dict)):
            items = list(value.values()) if isinstance(value, dict) else list(value)
            if items and all(isinstance(v, Layer) for v in items):
                found.append((attr, items))
    if is_model:
        found.append(("layers", layer.layers))
    return sorted(found, key=lambda item: "~" + item[0] if item[0].startswith("_") else item[0])


def layer_groups(model) -> list:
    """``[(group path, layer, [variables], name)]`` for every layer of ``model``, at the paths
    Keras gives them (the model itself first, at ``""``); ``name`` is what Keras writes in the
    group's ``vars`` attributes (the layer's name, or its cell's).

    A layer's variables are filled from ``<path>/vars/<i>`` (``<path>/cell/vars/<i>`` for a
    recurrent layer); a path names the group whose ``vars`` subgroup holds them.
    """
    out, visited = [], set()

    def walk(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        kind = _model_kind(obj)
        if isinstance(obj, _RECURRENT):
            out.append((path, obj, [], obj.name))
            out.append((_join(path, "cell"), obj, _own_weights(obj),
                        f"{snake_case(type(obj).__name__)}_cell"))
            return
        groups = getattr(obj, "_keras_variable_groups", None)
        if groups is None:
            out.append((path, obj, _own_weights(obj), obj.name))
        else:  # a layer that says how Keras groups its variables (sub-layers Keras has)
            out.extend((_join(path, sub), obj, variables, obj.name)
                       for sub, variables in groups())
        if isinstance(obj, Bidirectional):
            walk(obj.backward_layer, _join(path, "backward_layer"))
            walk(obj.forward_layer, _join(path, "forward_layer"))
            return
        if isinstance(obj, TimeDistributed):
            walk(obj.layer, _join(path, "layer"))
            return
        if kind in ("Sequential", "Functional"):
            container(obj.layers, _join(path, "layers"))
            return
        for attr, value in _layer_attributes(obj, kind == "Model"):
            if isinstance(value, list):
                container(value, _join(path, attr))
            else:
                walk(value, _join(path, attr))

    def container(items, path):
        used = {}
        for layer in items:
            walk(layer, _join(path, _unique(snake_case(keras_class_name(layer)), used)))

    walk(model, "")
    return out


def keras_class_name(layer) -> str:
    """The class name Keras knows ``layer`` by (a functional profond model is Keras's
    ``Functional``; every other class keeps its own name)."""
    return "Functional" if _model_kind(layer) == "Functional" else type(layer).__name__


def _join(path, name):
    return f"{path}/{name}" if path else name


def optimizer_slot_order(optimizer, slots) -> list:
    """``[(variable index, slot name)]`` in the order Keras stores an optimizer's slots.

    Parameters
    ----------
    optimizer : Optimizer
    slots : list of dict
        The slots per trainable variable (``optimizer.get_state()["slots"]`` in the model's
        order), to know which slots this configuration has.

    Raises
    ------
    ValueError
        An optimizer whose variables' order in a Keras file is not known.
    """
    name = type(optimizer).__name__
    if name not in SLOT_ORDER:
        raise ValueError(f"The optimizer {name} has no known layout in Keras files (known: "
                         f"{sorted(SLOT_ORDER)}).")
    order = []
    present = set().union(*(set(s) for s in slots)) if slots else set()
    unknown = present - {n for group in SLOT_ORDER[name] for n in group}
    if unknown:
        raise ValueError(f"The optimizer {name} holds slots {sorted(unknown)}, which its Keras "
                         "layout does not have.")
    for group in SLOT_ORDER[name]:
        names = [n for n in group if n in present]
        for i in range(len(slots)):
            order.extend((i, n) for n in names)
    return order
