"""Functional models: ``Model(inputs, outputs)`` over the graph that symbolic calls recorded.

``Input`` returns a symbolic tensor; calling layers on symbolic tensors records each call as
a node (:mod:`profond.layers.symbolic`). ``Model(inputs, outputs)`` walks that graph back from
the outputs once, at construction: it orders the layers as Keras 3 does (by depth from the
outputs, then by first sight), so that ``weights``, ``get_weights()`` and ``summary()`` list
them in Keras's order, and compiles a plan of the calls in topological order. Running the
model is then one loop over that plan, each call reading its inputs from slots of a list and
writing its outputs to others; a slot is let go after its last reader, and masks travel beside
the tensors as in ``Sequential``.

``get_config`` writes Keras 3's functional config (``layers`` with their ``inbound_nodes``,
``input_layers``, ``output_layers``), which ``from_config`` reads back by calling the layers
again on symbolic tensors.
"""

from __future__ import annotations

from profond import saving
from profond.autograd.tensor import Tensor
from profond.layers.base import InputLayer, KerasTensor
from profond.layers.masks import get_mask, set_mask
from profond.layers.pooling import call_relu_pool, relu_pool_fusable
from profond.models.model import Model

__all__ = ["Functional"]


class _Slot:
    """Where a recorded call's argument is read from, at run time."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _flat(x) -> list:
    """Leaves of a structure, dict values in insertion order (as :func:`symbolic_leaves`)."""
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _flat(item)]
    if isinstance(x, dict):
        return [leaf for item in x.values() for leaf in _flat(item)]
    return [x]


def _replace(x, fn):
    if isinstance(x, dict):
        return {k: _replace(v, fn) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_replace(v, fn) for v in x)
    return fn(x)


def _is_model(layer) -> bool:
    # Keras counts an extra first node on Functional (and Sequential) layers in a config's
    # input_layers/output_layers; profond writes and reads the same numbers.
    return isinstance(layer, Model)


def _node_of(tensor):
    layer, index, _ = tensor._keras_history
    return layer._inbound_nodes[index]


def _map_graph(inputs, outputs):
    """Nodes in topological order and layers in Keras's order, from the outputs back.

    Iterative depth-first search (a deep model must not hit the recursion limit): a layer is
    numbered when first seen, a node is placed after all the nodes it reads from. Then, as
    Keras: a node's depth is one more than the deepest node reading it, a layer's the
    deepest of its nodes, and the layers go from the deepest to the outputs, ties by number.
    """
    input_ids = {id(t) for t in inputs}
    order, seen_layers, done, on_path = [], {}, set(), set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            tensor, expanded = stack.pop()
            node = _node_of(tensor)
            if expanded:
                on_path.discard(id(node))
                if id(node) not in done:
                    done.add(id(node))
                    order.append(node)
                continue
            if id(node) in done:
                continue
            if id(node) in on_path:
                raise ValueError(f"The graph of the model has a cycle through layer "
                                 f"'{node.layer.name}'.")
            seen_layers.setdefault(id(node.layer), (len(seen_layers), node.layer))
            if node.is_input:
                if id(tensor) not in input_ids:
                    raise ValueError(f"The 'inputs' parameter of Model must hold every Input the "
                                     f"outputs depend on. Got outputs that depend on input "
                                     f"'{node.layer.name}', which is not among them, instead.")
                done.add(id(node))
                order.append(node)
                continue
            on_path.add(id(node))
            stack.append((tensor, True))
            for parent in reversed(node.input_tensors):
                if id(_node_of(parent)) not in done:
                    stack.append((parent, False))
    for t in inputs:  # inputs no output depends on still belong to the model
        node = _node_of(t)
        if id(node) not in done:
            done.add(id(node))
            order.insert(0, node)
            seen_layers.setdefault(id(node.layer), (-1, node.layer))
    depth = {}
    for node in reversed(order):
        d = depth.setdefault(id(node), 0)
        for parent in node.parent_nodes:
            depth[id(parent)] = max(depth.get(id(parent), 0), d + 1)
    layer_depth = {}
    for node in order:
        layer_depth[id(node.layer)] = max(layer_depth.get(id(node.layer), 0), depth[id(node)])
    layers = sorted((layer for _, layer in seen_layers.values()),
                    key=lambda layer: (-layer_depth[id(layer)], seen_layers[id(layer)][0]))
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"The name '{name}' is used by {names.count(name)} layers of the "
                             "model. Every layer of a model must have its own name (it names "
                             "the layer in saved files).")
    return order, layers


class Functional(Model):
    """A model defined by a graph of layer calls: ``Model(inputs, outputs)``.

    Parameters
    ----------
    inputs : KerasTensor, list or dict of KerasTensor
        What ``Input(...)`` returned; a dict maps names to inputs (its keys are then the keys
        of the data), a list takes the data in that order.
    outputs : KerasTensor, list or dict of KerasTensor
        Symbolic results of layer calls on ``inputs``.
    name : str, optional
    trainable : bool, default True

    Examples
    --------
    A residual block with two inputs:

    >>> import numpy as np, profond
    >>> from profond import layers
    >>> a, b = layers.Input((4,), name="a"), layers.Input((4,), name="b")
    >>> joined = layers.concatenate([a, b], name="joined")
    >>> h = layers.Dense(4, activation="relu", name="h")(joined)
    >>> out = layers.Dense(1, name="out")(layers.add([h, a], name="skip"))
    >>> model = profond.Model([a, b], out, name="residual")
    >>> [layer.name for layer in model.layers]
    ['a', 'b', 'joined', 'h', 'skip', 'out']
    >>> model.predict([np.ones((3, 4)), np.zeros((3, 4))], verbose=0).shape
    (3, 1)
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        inputs = list(inputs) if isinstance(inputs, tuple) else inputs
        outputs = list(outputs) if isinstance(outputs, tuple) else outputs
        for what, struct in (("inputs", inputs), ("outputs", outputs)):
            leaves = _flat(struct)
            bad = [x for x in leaves if not isinstance(x, KerasTensor) or
                   x._keras_history is None]
            if not leaves or bad:
                raise ValueError(f"The '{what}' parameter of Model must be symbolic tensors (from "
                                 f"Input and layer calls on it), alone or in a list or dict. Got "
                                 f"{bad[0] if bad else struct!r} instead.")
        for x in _flat(inputs):
            layer = x._keras_history[0]
            if not isinstance(layer, InputLayer):
                raise ValueError("The 'inputs' parameter of Model must be tensors made by Input(). "
                                 f"Got the output of layer '{layer.name}' instead.")
        if isinstance(inputs, dict):
            for key, x in inputs.items():
                if key != x.name:
                    raise ValueError(f"The 'inputs' parameter of Model, as a dict, must map each "
                                     f"input's name to it. Got key '{key}' for input "
                                     f"'{x.name}' instead: name it Input(..., name='{key}').")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = _flat(inputs)
        self.outputs = _flat(outputs)
        self._nodes, self._layers = _map_graph(self.inputs, self.outputs)
        self._node_ids = {id(node) for node in self._nodes}
        for layer in self._layers:
            self._track(layer)
        self._compile_plan()
        self._build_input_shape = _replace(inputs, lambda t: t.shape)
        self.built = True
        self.output_names = (list(outputs) if isinstance(outputs, dict) else
                             [t._keras_history[0].name for t in self.outputs])

    # --- the plan -----------------------------------------------------------------------------
    def _compile_plan(self):
        slot = {}

        def slot_of(t):
            return slot.setdefault(id(t), len(slot))

        self._input_slots = [slot_of(t) for t in self.inputs]
        self._input_samples = [tuple(t.shape[1:]) for t in self.inputs]
        steps, reads = [], []
        for node in self._nodes:
            if node.is_input:
                continue
            outs = [slot_of(t) for t in node.output_tensors]
            one_out = isinstance(node.outputs, KerasTensor)
            args, kwargs = node.call_args, dict(node.call_kwargs)
            if len(args) == 1 and isinstance(args[0], KerasTensor) and not kwargs and one_out:
                reads.append([slot[id(args[0])]])
                steps.append((node.layer, slot[id(args[0])], None, None, outs))
                continue
            marked = _replace((args, kwargs), lambda x: _Slot(slot[id(x)])
                              if isinstance(x, KerasTensor) else x)
            reads.append([slot[id(t)] for t in node.input_tensors])
            steps.append((node.layer, None, marked[0], marked[1], outs))
        self._output_slots = [slot[id(t)] for t in self.outputs]
        self._output_template = _replace(self._outputs_struct, lambda t: _Slot(slot[id(t)]))
        last = {}
        for i, slots in enumerate(reads):
            for s in slots:
                last[s] = i
        keep = set(self._output_slots)
        free = [[] for _ in steps]
        for s, i in last.items():
            if s not in keep:
                free[i].append(s)
        self._steps = [step + (tuple(f),) for step, f in zip(steps, free)]
        # A ReLU convolution whose output only a max pooling reads (not a model output): the
        # pooling may apply the ReLU on its smaller output (see layers.pooling.relu_pool_fusable)
        readers = {}
        for i, slots in enumerate(reads):
            for s in slots:
                readers.setdefault(s, []).append(i)
        self._relu_pool = {}  # convolution step -> (the pooling step that reads it, its layer)
        for i, (layer, single, _, _, outs) in enumerate(steps):
            after = readers.get(outs[0], ()) if single is not None else ()
            if len(after) == 1 and outs[0] not in keep and steps[after[0]][1] == outs[0] and \
                    relu_pool_fusable(layer, steps[after[0]][0]):
                self._relu_pool[i] = (after[0], steps[after[0]][0])
        self._n_slots = len(slot)

    def _flat_inputs(self, inputs):
        """The data for each ``Input``, in order, from a single array, a list or a dict."""
        names = [t.name for t in self.inputs]
        if isinstance(inputs, dict):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"The 'inputs' parameter of model '{self.name}' must hold data "
                                 f"for inputs {names}. Got keys {sorted(inputs)} instead.")
            return [inputs[n] for n in names]
        flat = [inputs] if isinstance(inputs, Tensor) else _flat(inputs)
        if len(flat) != len(names):
            raise ValueError(f"The 'inputs' parameter of model '{self.name}' must hold "
                             f"{len(names)} arrays (for inputs {names}). Got {len(flat)} "
                             "instead.")
        return flat

    def _check_input(self, i, x):
        sample, got = self._input_samples[i], tuple(x.shape[1:])
        if len(got) != len(sample) or any(e is not None and e != g
                                          for e, g in zip(sample, got)):
            raise ValueError(f"The inputs of model '{self.name}' must have samples of shape "
                             f"{sample} for input '{self.inputs[i].name}'. Got data of shape "
                             f"{tuple(x.shape)} instead.")

    def call(self, inputs, training=None, mask=None):
        # Runs at every batch: the checks are tuple comparisons, the loop one call per node.
        flat = (inputs,) if isinstance(inputs, Tensor) and len(self._input_slots) == 1 \
            else self._flat_inputs(inputs)
        values = [None] * self._n_slots
        for i, (s, x, sample) in enumerate(zip(self._input_slots, flat, self._input_samples)):
            if x.shape[1:] != sample:
                self._check_input(i, x)  # raises unless only unknown axes differ
            values[s] = x
        if mask is not None:
            for x, m in zip(flat, _flat(mask)):
                if m is not None:
                    set_mask(x, m)
        relu_pool, done = self._relu_pool, ()
        steps = self._steps
        for i, (layer, single, args, kwargs, outs, free) in enumerate(steps):
            if single is not None:
                x = values[single]
                if i in done:  # a pooling run with its convolution (below)
                    pass
                elif i in relu_pool and isinstance(x, Tensor) and \
                        relu_pool_fusable(layer, relu_pool[i][1]):  # (still: a layer may change)
                    # Conv(relu) and the max pooling that alone reads it, run now (neither
                    # draws random numbers, and the steps in between do not read them): see
                    # call_relu_pool
                    j, pool = relu_pool[i]
                    values[steps[j][4][0]] = call_relu_pool(layer, pool, x, training)
                    done = done + (j,)
                else:
                    values[outs[0]] = layer(x, training=training)
            else:
                call_args = _replace(args, lambda a: values[a.index] if isinstance(a, _Slot)
                                     else a)
                call_kwargs = _replace(kwargs, lambda a: values[a.index] if isinstance(a, _Slot)
                                       else a)
                call_kwargs.setdefault("training", training)
                first = call_args[0]
                if call_kwargs.get("mask") is None and not isinstance(first, Tensor):
                    arg_masks = _replace(first, get_mask)
                    if any(m is not None for m in _flat(arg_masks)):
                        call_kwargs["mask"] = arg_masks
                if call_kwargs.get("mask") is None:
                    call_kwargs.pop("mask", None)
                out = layer(*call_args, **call_kwargs)
                for s, value in zip(outs, _flat(out)):
                    values[s] = value
            for s in free:
                values[s] = None
        template = self._output_template
        if isinstance(template, _Slot):
            return values[template.index]
        return _replace(template, lambda t: values[t.index])

    # --- inspection -----------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The layers, ``InputLayer``s included, in Keras's order (inputs first)."""
        return list(self._layers)

    @property
    def input_shape(self):
        """The inputs' shapes (batch axis ``None``), in the structure the model takes them."""
        shapes = _replace(self._inputs_struct, lambda t: t.shape)
        return shapes[0] if isinstance(shapes, list) and len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """The outputs' shapes (batch axis ``None``), in the structure the model gives them."""
        shapes = _replace(self._outputs_struct, lambda t: t.shape)
        return shapes[0] if isinstance(shapes, list) and len(shapes) == 1 else shapes

    def own_nodes(self, layer) -> list:
        """``(index, node)`` of ``layer``'s calls that belong to this model."""
        return [(i, node) for i, node in enumerate(getattr(layer, "_inbound_nodes", []))
                if id(node) in self._node_ids]

    def build(self, input_shape=None):
        """A functional model is built by its construction."""
        self.built = True

    def get_build_config(self):
        return None

    # --- configuration --------------------------------------------------------------------------
    def _kept_index(self, layer, index):
        """``index`` among ``layer``'s nodes that belong to this model (Keras's numbering)."""
        return sum(1 for i, node in enumerate(layer._inbound_nodes[:index])
                   if id(node) in self._node_ids)

    def _tensor_config(self, t):
        layer, index, tensor_index = t._keras_history
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(t.shape), "dtype": t.dtype,
                           "keras_history": [layer.name, self._kept_index(layer, index),
                                             tensor_index]}}

    def _layer_ref(self, t):
        layer, index, tensor_index = t._keras_history
        return [layer.name, self._kept_index(layer, index) + (1 if _is_model(layer) else 0),
                tensor_index]

    def get_config(self) -> dict:
        """Keras 3's functional config: the layers with the calls that link them."""
        layer_configs = []
        for layer in self._layers:
            config = saving.serialize_keras_object(layer)
            config["name"] = layer.name
            config["inbound_nodes"] = [
                {"args": saving.serialize_keras_object(_replace(
                    list(node.call_args), lambda x: self._tensor_config(x)
                    if isinstance(x, KerasTensor) else x)),
                 "kwargs": saving.serialize_keras_object(_replace(
                     node.call_kwargs, lambda x: self._tensor_config(x)
                     if isinstance(x, KerasTensor) else x))}
                for _, node in self.own_nodes(layer) if not node.is_input]
            layer_configs.append(config)
        return {"name": self.name, "trainable": self.trainable, "layers": layer_configs,
                "input_layers": _replace(self._inputs_struct, self._layer_ref),
                "output_layers": _replace(self._outputs_struct, self._layer_ref)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Re-create the model from :meth:`get_config`'s output (or a Keras 3 config)."""
        return functional_from_config(cls, config, custom_objects)


def _is_ref(x) -> bool:
    return isinstance(x, list) and len(x) == 3 and isinstance(x[0], str) and \
        isinstance(x[1], int) and isinstance(x[2], int)


def functional_from_config(cls, config, custom_objects=None):
    """Build ``cls(inputs, outputs, ...)`` from a functional config: create every layer, then
    replay the recorded calls, each once the tensors it reads exist (a layer shared at
    different depths may have to wait)."""
    config = dict(config)
    created, pending = {}, {}
    specs = config.pop("layers")
    for spec in specs:
        layer = saving.deserialize_keras_object(spec, custom_objects=custom_objects)
        created[spec["name"]] = layer
        pending[spec["name"]] = list(spec.get("inbound_nodes") or [])

    def tensor_at(name, index, tensor_index):
        if name not in created:
            raise ValueError(f"The config of model '{config.get('name')}' refers to layer "
                             f"'{name}', which it does not define.")
        nodes = getattr(created[name], "_inbound_nodes", [])
        if index >= len(nodes):
            raise IndexError(index)  # not made yet: replayed in a later round
        return nodes[index].output_tensors[tensor_index]

    def revive(x):
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            return tensor_at(*x["config"]["keras_history"])
        if isinstance(x, dict):
            return {k: revive(v) for k, v in x.items()}
        if isinstance(x, list):
            return [revive(v) for v in x]
        return x

    while any(pending.values()):
        progressed = False
        for spec in specs:
            queue = pending[spec["name"]]
            while queue:
                node = queue[0]
                try:
                    if isinstance(node, dict):
                        args = revive(node.get("args", []))
                        kwargs = saving.deserialize_keras_object(revive(node.get("kwargs", {})))
                    else:  # Keras 2's [[name, node, tensor, kwargs], ...]
                        tensors = [tensor_at(*ref[:3]) for ref in node]
                        args = [tensors[0] if len(tensors) == 1 else tensors]
                        kwargs = node[0][3] if node and len(node[0]) > 3 else {}
                except IndexError:
                    break
                created[spec["name"]](*args, **(kwargs or {}))
                queue.pop(0)
                progressed = True
        if not progressed:
            raise ValueError(f"The config of model '{config.get('name')}' has calls that "
                             "cannot be replayed (a cycle, or a tensor no layer makes): "
                             f"{sorted(k for k, v in pending.items() if v)}.")

    def find(ref):
        name, index, tensor_index = ref
        if _is_model(created.get(name)):
            index -= 1
        return tensor_at(name, index, tensor_index)

    def tensors(struct):
        if _is_ref(struct):
            return find(struct)
        if isinstance(struct, dict):
            return {k: tensors(v) for k, v in struct.items()}
        return [tensors(v) for v in struct]

    inputs = tensors(config.pop("input_layers"))
    outputs = tensors(config.pop("output_layers"))
    return cls(inputs, outputs, name=config.pop("name", None),
               trainable=config.pop("trainable", True))
