"""The ONNX graph under construction, and the walk over a model's nodes that fills it.

A model reaches the exporter as a list of nodes ``(layer, input_names, output_names)`` over
named values, with the model's inputs and outputs named the same way. A Sequential model is
a chain of such nodes (:func:`chain`); a functional model's graph gives the same list, in a
topological order, so it plugs into :func:`build_model` unchanged. Each layer kind has a
converter ``fn(builder, layer, x, shape, mask) -> (y, mask)`` that appends ONNX nodes: ``x``
is the name of its input value, ``shape`` its Keras shape (``None`` for the batch), ``mask``
the name of a boolean ``(batch, time)`` mask or None. A converter registered with
``converts(..., many=True)`` (the merge layers) takes lists instead: the names, shapes and
masks of all its inputs.

Constants are kept once: an initializer asked for again with the same hint and the same
values (a shared layer's weights, converted at each of its calls) is the one already made.

Everything is built with ``onnx.helper`` and ``onnx.numpy_helper``; no protobuf by hand.
"""

from __future__ import annotations

import hashlib

import numpy as np

from profond._validation import require

__all__ = ["CONVERTERS", "OPSET", "Builder", "ExportError", "build_model", "chain", "converter_of"]

OPSET = 17
CONVERTERS: dict = {}  # layer class -> converter, filled by the modules of this package


class ExportError(ValueError):
    """A model, or a part of it, that ONNX cannot express."""


def _onnx():
    return require("onnx", "Exporting to ONNX", "onnx")


def converts(*classes, many=False):
    """Register the decorated function as the converter of ``classes``; ``many``: it takes
    lists of inputs (names, shapes, masks)."""
    def register(fn):
        fn.many_inputs = many
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return register


class Builder:
    """Collects nodes and initializers with unique names."""

    def __init__(self):
        self.onnx = _onnx()
        self.nodes, self.initializers, self._used = [], [], set()
        self._consts = {}  # (hint, dtype, shape, digest) -> name

    def name(self, hint: str) -> str:
        base, i = hint.replace("/", "_"), 0
        name = base
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    def const(self, array, hint: str) -> str:
        """An initializer holding ``array`` (float arrays as float32), by name."""
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        array = np.ascontiguousarray(array)
        key = (hint, array.dtype.str, array.shape, hashlib.sha256(array.tobytes()).digest())
        if key not in self._consts:
            name = self.name(hint)
            self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
            self._consts[key] = name
        return self._consts[key]

    def ints(self, values, hint: str) -> str:
        return self.const(np.asarray(values, dtype=np.int64), hint)

    def op(self, op_type: str, inputs, hint: str, outputs: int = 1, **attrs):
        """Append one node; returns its output name (or the list of ``outputs`` names)."""
        names = [self.name(f"{hint}_{op_type}" if i == 0 else f"{hint}_{op_type}_{i}")
                 for i in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names,
                                                     name=self.name(f"{hint}/{op_type}"),
                                                     **attrs))
        return names[0] if outputs == 1 else names


def chain(layers, input_name="input", output_name="output"):
    """The nodes of a Sequential model: each layer reads the previous one's output."""
    nodes, current = [], input_name
    for i, layer in enumerate(layers):
        out = output_name if i == len(layers) - 1 else f"{layer.name}_out"
        nodes.append((layer, [current], [out]))
        current = out
    return nodes


def converter_of(layer):
    """The converter of ``layer``'s class (or of its nearest base class), or None."""
    for cls in type(layer).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    return None


def build_model(nodes, inputs, outputs, graph_name="profond"):
    """The ONNX ``ModelProto`` of a model given as nodes.

    Parameters
    ----------
    nodes : list of (Layer, list of str, list of str)
        In an order where every input is produced before it is read.
    inputs : list of (str, tuple, numpy dtype)
        The model's inputs: name, Keras shape (``None`` for the batch) and dtype.
    outputs : list of str or of (str, str)
        The values given as the model's outputs: a name, or ``(graph output name, value
        name)`` where they differ (one value may be given twice).
    """
    missing = sorted({f"'{layer.name}' ({type(layer).__name__})" for layer, _, _ in nodes
                      if converter_of(layer) is None})
    if missing:
        raise ExportError(f"These layers have no ONNX form in profond's exporter: "
                          f"{', '.join(missing)}.")
    b = Builder()
    helper, tp = b.onnx.helper, b.onnx.TensorProto
    values = {}  # name -> (onnx name, Keras shape, mask name or None)
    graph_inputs = []
    for output in outputs:  # kept free for the outputs: no node of the graph takes them
        b._used.add(output if isinstance(output, str) else output[0])
    for name, shape, dtype in inputs:
        b._used.add(name)
        values[name] = (name, tuple(shape), None)
        elem = tp.INT64 if np.dtype(dtype).kind in "iu" else tp.FLOAT
        graph_inputs.append(helper.make_tensor_value_info(
            name, elem, ["batch"] + [d if d is not None else f"{name}_d{i + 1}"
                                     for i, d in enumerate(shape[1:])]))
    for layer, ins, outs in nodes:
        convert = converter_of(layer)
        many = getattr(convert, "many_inputs", False)
        if (not many and len(ins) != 1) or len(outs) != 1:
            raise ExportError(f"Layer '{layer.name}' ({type(layer).__name__}) takes "
                              f"{len(ins)} inputs and gives {len(outs)} outputs; the exporter "
                              "handles one of each for this layer.")
        if many:
            x, shape, mask = (list(v) for v in zip(*(values[name] for name in ins)))
        else:
            x, shape, mask = values[ins[0]]
        y, out_mask = convert(b, layer, x, shape, mask)
        values[outs[0]] = (y, tuple(layer.compute_output_shape(shape)), out_mask)
    graph_outputs = []
    for output in outputs:
        name, value = (output, output) if isinstance(output, str) else output
        y, shape, _ = values[value]
        if y != name:
            b.nodes.append(helper.make_node("Identity", [y], [name], name=b.name(name + "/id")))
        graph_outputs.append(helper.make_tensor_value_info(
            name, tp.FLOAT, ["batch"] + [d if d is not None else f"{name}_d{i + 1}"
                                         for i, d in enumerate(shape[1:])]))
    graph = helper.make_graph(b.nodes, graph_name, graph_inputs, graph_outputs,
                              initializer=b.initializers)
    model = helper.make_model(graph, producer_name="profond",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime 1.15 and later
    return model
