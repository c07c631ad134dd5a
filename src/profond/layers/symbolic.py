"""Symbolic tensors and the graph they record: what ``Input`` returns and layers are called on.

A :class:`KerasTensor` holds a shape (``None`` for the batch and any unknown axis), a dtype
and a name, no data. Calling a layer on KerasTensors runs nothing on data: the layer is
built for their shapes, its output shapes are inferred, and a :class:`Node` records the call
(the layer, its inbound tensors, the keyword arguments given), as Keras 3 records it. Each
output KerasTensor knows the ``(layer, node_index, tensor_index)`` that made it, so a
functional model can walk the graph back from its outputs
(:class:`profond.models.Functional`).

Output shapes follow Keras's rule: a layer that writes its own ``compute_output_shape`` is
asked (shape arithmetic, no computation, as ``Sequential`` builds); any other layer is run
once on a small batch of zeros, without a graph, and its outputs' shapes are read (twice, at
two sizes, when some input axis is unknown, so that the axes that follow it stay unknown). A
shared layer called on inputs unlike those it was built for is also run once on zeros, so a
shape it cannot take is refused when the graph is built, not at the first batch.

Examples
--------
>>> from profond import layers
>>> x = layers.Input((8,), name="features")
>>> x.shape, x.dtype, x.name
((None, 8), 'float32', 'features')
>>> y = layers.Dense(4, name="hidden")(x)
>>> y
<KerasTensor shape=(None, 4), dtype=float32, name=hidden>
"""

from __future__ import annotations

import numpy as np

from profond import backend

__all__ = ["KerasTensor", "Node", "is_symbolic", "symbolic_leaves", "symbolic_call"]


class KerasTensor:
    """A symbolic tensor: shape (batch axis ``None``), dtype and name, no values.

    Parameters
    ----------
    shape : tuple of int or None
        Batch axis first.
    dtype : str, default the backend's float dtype
    name : str, optional
    """

    __slots__ = ("shape", "dtype", "name", "_keras_history")

    def __init__(self, shape, dtype=None, name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype or backend.floatx()).name
        self.name = name
        self._keras_history = None  # (layer, node_index, tensor_index), set by Node

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        shape = "(" + ", ".join(str(d) for d in self.shape) + ("," if self.ndim == 1 else "") + ")"
        return f"<KerasTensor shape={shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic: it has no values. Call a Model built on it "
                        "with data instead.")

    def __bool__(self):
        raise TypeError(f"{self!r} is symbolic: it has no truth value.")


def is_symbolic(x) -> bool:
    """Whether ``x`` (a leaf or a list/tuple/dict structure) holds a KerasTensor."""
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(is_symbolic(v) for v in x)
    if isinstance(x, dict):
        return any(is_symbolic(v) for v in x.values())
    return False


def symbolic_leaves(x) -> list:
    """The KerasTensors of a structure, in order (dict values in insertion order)."""
    if isinstance(x, KerasTensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for v in x for t in symbolic_leaves(v)]
    if isinstance(x, dict):
        return [t for v in x.values() for t in symbolic_leaves(v)]
    return []


def _map(fn, x):
    """``fn`` on every KerasTensor or array-like leaf; lists, tuples and dicts kept."""
    if isinstance(x, dict):
        return {k: _map(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_map(fn, v) for v in x)
    return fn(x)


class Node:
    """One call of a layer on symbolic tensors.

    Attributes
    ----------
    layer : Layer
    call_args : tuple
        The positional arguments as given (KerasTensors inside).
    call_kwargs : dict
        The keyword arguments the caller gave (``training=True``, ``mask=...``, ...).
    outputs : KerasTensor or structure of KerasTensors
    input_tensors : list of KerasTensor
        Every KerasTensor among the arguments, in order.
    output_tensors : list of KerasTensor
    """

    def __init__(self, layer, call_args, call_kwargs, outputs):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs)
        self.outputs = outputs
        self.input_tensors = symbolic_leaves(self.call_args) + symbolic_leaves(self.call_kwargs)
        self.output_tensors = symbolic_leaves(outputs)
        nodes = layer.__dict__.setdefault("_inbound_nodes", [])
        index = len(nodes)
        nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = (layer, index, i)

    @property
    def is_input(self) -> bool:
        """A node with no inbound tensor: an ``Input``'s."""
        return not self.input_tensors

    @property
    def parent_nodes(self) -> list:
        return [t._keras_history[0]._inbound_nodes[t._keras_history[1]]
                for t in self.input_tensors]

    def __repr__(self) -> str:
        return f"<Node of {self.layer.name!r}: {len(self.input_tensors)} input(s)>"


def _is_shape(s) -> bool:
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer))
                                                for d in s)


def _show(shapes):
    if _is_shape(shapes):
        return "(" + ", ".join(str(d) for d in shapes) + ("," if len(shapes) == 1 else "") + ")"
    if isinstance(shapes, dict):
        return "{" + ", ".join(f"{k!r}: {_show(v)}" for k, v in shapes.items()) + "}"
    return "[" + ", ".join(_show(s) for s in shapes) + "]"


def _shapes(x):
    return _map(lambda t: t.shape, x)


def _compatible(built, given) -> bool:
    """Shapes the layer was built for and shapes it is called on agree (batch axis aside)."""
    if _is_shape(built) and _is_shape(given):
        return len(built) == len(given) and all(b is None or g is None or b == g
                                                for b, g in zip(built[1:], given[1:]))
    if isinstance(built, dict) and isinstance(given, dict):
        return built.keys() == given.keys() and all(_compatible(built[k], given[k])
                                                    for k in built)
    if isinstance(built, (list, tuple)) and isinstance(given, (list, tuple)):
        return len(built) == len(given) and all(_compatible(b, g) for b, g in zip(built, given))
    return False


def _probe(layer, args, kwargs, fill):
    """Run ``layer`` on zeros shaped like the symbolic arguments (``fill`` for unknown axes)."""
    from profond.autograd.engine import no_grad
    from profond.autograd.tensor import Tensor

    xp = backend.xp()

    def zeros(t):
        if not isinstance(t, KerasTensor):
            return t
        return Tensor(xp.zeros(tuple(fill if d is None else d for d in t.shape), dtype=t.dtype))

    saved = list(layer._activity_losses)  # the probe's activity penalties are not training's
    try:
        with no_grad():
            out = layer(*_map(zeros, args), **_map(zeros, kwargs))
    finally:
        layer._activity_losses = saved
    return _map(lambda t: (tuple(t.shape), t.dtype.name), out)


def _spec_from_probes(first, second, batch):
    """Output specs from two probes: an axis whose size changed with the inputs' is unknown."""
    if isinstance(first, dict):
        return {k: _spec_from_probes(first[k], second[k], batch) for k in first}
    if not _is_spec(first):
        return type(first)(_spec_from_probes(a, b, batch) for a, b in zip(first, second))
    (shape, dtype), (shape2, _) = first, second
    dims = [a if a == b else None for a, b in zip(shape, shape2)]
    if dims:
        dims[0] = batch
    return tuple(dims), dtype


def _infer(layer, args, kwargs, first_input, changed, custom):
    """Output specs ``(shape, dtype)`` (in the outputs' structure) of ``layer`` on ``args``."""
    batch = first_input.shape[0] if first_input is not None else None
    if custom and not kwargs and len(args) == 1:
        if changed:  # a shared layer on other shapes: let it refuse them now
            _probe(layer, args, kwargs, 2)
        dtype = layer.dtype or backend.floatx()
        shapes = layer.compute_output_shape(_shapes(args[0]))
        return _map_shapes(lambda s: ((batch,) + tuple(s)[1:], dtype), shapes)
    unknown = any(None in t.shape[1:] or (t.shape and t.shape[0] is None)
                  for t in symbolic_leaves((args, kwargs)))
    first = _probe(layer, args, kwargs, 2)
    second = _probe(layer, args, kwargs, 3) if unknown else first
    return _spec_from_probes(first, second, batch)


def _map_shapes(fn, shapes):
    if _is_shape(shapes):
        return fn(shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    return type(shapes)(_map_shapes(fn, s) for s in shapes)


def symbolic_call(layer, args, kwargs, custom_shape=False):
    """Call ``layer`` on symbolic arguments: build it, infer its outputs, record a Node.

    Parameters
    ----------
    layer : Layer
    args : tuple
        Positional arguments; the first holds the inputs (a KerasTensor or a structure).
    kwargs : dict
        The keyword arguments the caller gave.
    custom_shape : bool, default False
        Whether the layer's class writes its own ``compute_output_shape`` (then asked for the
        output shapes, instead of a run on zeros).

    Returns
    -------
    KerasTensor or structure of KerasTensors

    Raises
    ------
    ValueError
        The inputs mix data and symbolic tensors, or the layer cannot take their shapes (the
        message names the layer, the shapes it was built for where it was, and those given).
    """
    inputs = args[0]
    mixed = _map(lambda t: t if isinstance(t, KerasTensor) or t is None else "data", inputs)
    if "data" in [v for v in _flat(mixed)]:
        raise ValueError(f"The 'inputs' parameter of layer '{layer.name}' "
                         f"({type(layer).__name__}) must be all symbolic tensors (from Input) "
                         "or all data. Got a mix of both instead.")
    given = _shapes(inputs)
    label = f"layer '{layer.name}' ({type(layer).__name__})"
    changed = False
    try:
        if not layer.built:
            layer._build_input_shape = given
            layer.build(given)
            layer.built = True
        else:
            built = layer._build_input_shape
            changed = built is not None and not _compatible(built, given)
        first = symbolic_leaves(inputs)
        specs = _infer(layer, args, kwargs, first[0] if first else None, changed,
                       custom_shape)
    except (ValueError, TypeError, IndexError) as err:
        built = layer._build_input_shape
        expected = f" (it was built for inputs of shape {_show(built)})" \
            if built is not None and built != given else ""
        raise ValueError(f"The 'inputs' parameter of {label} must have shapes the layer can "
                         f"take{expected}. Got inputs of shape {_show(given)} instead: "
                         f"{err}") from None
    count = [0]

    def make(spec):
        shape, dtype = spec
        count[0] += 1
        return KerasTensor(shape, dtype, name=layer.name if count[0] == 1
                           else f"{layer.name}_{count[0] - 1}")

    outputs = _map_specs(make, specs)
    Node(layer, args, kwargs, outputs)
    return outputs


def _is_spec(x) -> bool:
    return isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], str)


def _map_specs(fn, specs):
    if _is_spec(specs):
        return fn(specs)
    if isinstance(specs, dict):
        return {k: _map_specs(fn, v) for k, v in specs.items()}
    return type(specs)(_map_specs(fn, s) for s in specs)


def _flat(x):
    if isinstance(x, dict):
        return [v for item in x.values() for v in _flat(item)]
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    return [x]
