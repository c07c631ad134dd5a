"""Export a profond model to `ONNX <https://onnx.ai>`_, to serve it outside Python.

``model.export("m.onnx", format="onnx")`` (as Keras 3 spells it), or
``profond export MODEL --format onnx`` on the command line, writes an ONNX model of opset 17
with a dynamic batch dimension. A Sequential model's input is named ``"input"`` and its output
``"output"``; a functional model's inputs are named after its ``Input`` layers and its outputs
after its output layers (``model.output_names``). Inputs are float32, or int64 when they are
integers or read only by ``Embedding`` layers. onnxruntime runs the file and gives
``predict``'s outputs. The graph is built with ``onnx.helper`` and checked with
``onnx.checker.check_model(full_check=True)`` before it is written.

Layers with an ONNX form: Dense, Activation, Conv1D/2D/3D (every padding, stride, dilation
and groups), Conv1D/2D/3DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D,
MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, GlobalAveragePooling1D/2D/3D,
GlobalMaxPooling1D/2D/3D, BatchNormalization, Dropout and SpatialDropout1D/2D (nothing at
inference), Flatten, Reshape, ZeroPadding2D, UpSampling2D, Embedding, SimpleRNN, GRU, LSTM,
Bidirectional, TimeDistributed (of a layer with an ONNX form), Masking (masks become ONNX
sequence lengths: see :mod:`profond.io.onnx.recurrent`), the merge layers Add, Subtract,
Multiply, Average, Maximum, Minimum, Concatenate and Dot (see :mod:`profond.io.onnx.merging`),
the activation layers ReLU, LeakyReLU, PReLU, ELU, Softmax, LayerNormalization (over trailing
axes), EinsumDense, Permute, RepeatVector, Rescaling, ZeroPadding1D/3D, Cropping1D/2D/3D,
UpSampling1D/3D, the layers that do nothing at inference (Identity, GaussianNoise,
GaussianDropout, AlphaDropout, ActivityRegularization, RandomFlip, RandomContrast,
RandomTranslation, RandomRotation, RandomZoom; see :mod:`profond.io.onnx.catalogue`),
and the activations of :data:`~profond.io.onnx.core.ACTIVATIONS_WITH_ONNX_FORM`. Any other
layer is named in a clear error before anything is written.

The exporter works on a list of nodes ``(layer, inputs, outputs)`` over named values
(:func:`profond.io.onnx.graph.build_model`): a Sequential model is a chain of them; a
functional model's calls, put in an order where each follows those it reads from, give the
same list. A layer called twice (shared) is two nodes over one set of initializers; a model
used as a layer (Sequential or functional) has its own calls inlined.

Examples
--------
>>> import os, tempfile, numpy as np, profond
>>> from profond import layers
>>> model = profond.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu")])
>>> path = os.path.join(tempfile.mkdtemp(), "m.onnx")
>>> model.export(path, format="onnx")
>>> import onnxruntime
>>> session = onnxruntime.InferenceSession(path)
>>> x = np.ones((2, 4), dtype="float32")
>>> np.allclose(session.run(None, {"input": x})[0], model.predict(x, verbose=0), atol=1e-6)
True
"""

from __future__ import annotations

import os

import numpy as np

from profond import layers as _layers
from profond._files import atomic_write_bytes
# (the modules register their converters when imported)
from profond.io.onnx import catalogue, conv, core, merging, recurrent  # noqa: F401
from profond.io.onnx.graph import CONVERTERS, OPSET, ExportError, build_model

__all__ = ["OPSET", "ExportError", "export_onnx", "layers_with_onnx_form", "onnx_model"]


def layers_with_onnx_form() -> list:
    """The names of the layer classes the exporter converts."""
    return sorted(cls.__name__ for cls in CONVERTERS if cls is not _layers.InputLayer)


def _is_sequential(model) -> bool:
    return any(cls.__name__ == "Sequential" for cls in type(model).__mro__)


def _is_functional(model) -> bool:
    # io sits below models (the house's floors): known by what it offers, not its class.
    return callable(getattr(model, "own_nodes", None)) and \
        isinstance(getattr(model, "inputs", None), list) and \
        isinstance(getattr(model, "outputs", None), list)


def _plan(model) -> list:
    """The calls (``Node``s) of a functional model, each after the calls it reads from."""
    calls = [node for layer in model.layers for _, node in model.own_nodes(layer)
             if not node.is_input]
    maker = {id(t): node for node in calls for t in node.output_tensors}
    readers, waiting = {}, {}
    for node in calls:
        parents = {id(maker[id(t)]) for t in node.input_tensors if id(t) in maker}
        waiting[id(node)] = len(parents)
        for parent in parents:
            readers.setdefault(parent, []).append(node)
    order = [node for node in calls if not waiting[id(node)]]
    for node in order:  # grows while it is walked
        for reader in readers.get(id(node), []):
            waiting[id(reader)] -= 1
            if not waiting[id(reader)]:
                order.append(reader)
    return order


class _Walk:
    """A model's layer calls as exporter nodes; nested models are inlined."""

    def __init__(self):
        self.nodes, self._names = [], set()

    def value(self, hint) -> str:
        name, i = hint, 0
        while name in self._names:
            i += 1
            name = f"{hint}_{i}"
        self._names.add(name)
        return name

    def call(self, layer, ins) -> list:
        """Output value names of ``layer`` called on the values ``ins``."""
        if _is_sequential(layer):
            if len(ins) != 1:
                raise ExportError(f"Model '{layer.name}' (Sequential) is called on {len(ins)} "
                                  "inputs; a Sequential model takes one.")
            return [self.sequential(layer, ins[0])]
        if _is_functional(layer):
            return self.functional(layer, ins)
        out = self.value(f"{layer.name}_out")
        self.nodes.append((layer, list(ins), [out]))
        return [out]

    def sequential(self, model, x) -> str:
        stack = [layer for layer in model.layers if not isinstance(layer, _layers.InputLayer)]
        if not stack:
            raise ExportError(f"Model '{model.name}' has no layers to export.")
        for layer in stack:
            (x,) = self.call(layer, [x])
        return x

    def functional(self, model, ins) -> list:
        if len(ins) != len(model.inputs):
            raise ExportError(f"Model '{model.name}' is called on {len(ins)} inputs; it takes "
                              f"{len(model.inputs)}.")
        values = {id(t): name for t, name in zip(model.inputs, ins)}
        for node in _plan(model):
            extra = sorted(k for k, v in node.call_kwargs.items()
                           if not (k == "training" and not v))
            if extra:
                raise ExportError(f"Layer '{node.layer.name}' ({type(node.layer).__name__}) "
                                  f"is called with {', '.join(extra)}, which ONNX export (of "
                                  "inference) does not take.")
            first = node.call_args[0] if node.call_args else None
            if isinstance(first, dict) and _is_functional(node.layer):
                tensors = [first[t.name] for t in node.layer.inputs]  # by the inner names
            else:
                tensors = node.input_tensors
            outs = self.call(node.layer, [values[id(t)] for t in tensors])
            if len(outs) != len(node.output_tensors):
                raise ExportError(f"Layer '{node.layer.name}' ({type(node.layer).__name__}) "
                                  f"gives {len(node.output_tensors)} outputs; the exporter "
                                  "handles one per layer.")
            values.update((id(t), name) for t, name in zip(node.output_tensors, outs))
        return [values[id(t)] for t in model.outputs]


def _input_dtype(tensor, readers) -> str:
    if np.dtype(tensor.dtype).kind in "iu" or (
            readers and all(isinstance(layer, _layers.Embedding) for layer in readers)):
        return "int64"
    return "float32"


def _nodes(model):
    """``(nodes, inputs, outputs)`` of ``model``, a Sequential or a functional model.

    A Sequential model takes ``"input"`` and gives ``"output"``; a functional model's graph
    inputs are named after its ``Input`` layers and its outputs after its output layers.
    """
    if not (_is_sequential(model) or _is_functional(model)):
        raise ExportError(f"Model '{model.name}' ({type(model).__name__}): ONNX export takes "
                          "Sequential and functional models.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or train it "
                         "before exporting.")
    walk = _Walk()
    if _is_sequential(model):
        walk._names.add("input")
        out = walk.sequential(model, "input")
        first = walk.nodes[0][0] if walk.nodes else None
        dtype = "int64" if isinstance(first, _layers.Embedding) else "float32"
        return walk.nodes, [("input", tuple(model.input_shape), dtype)], [("output", out)]
    names = [t.name for t in model.inputs]
    walk._names.update(names)
    outs = walk.functional(model, names)
    inputs = [(name, t.shape, _input_dtype(t, [layer for layer, ins, _ in walk.nodes
                                               if name in ins]))
              for name, t in zip(names, model.inputs)]
    return walk.nodes, inputs, list(zip(model.output_names, outs))


def onnx_model(model):
    """The ``onnx.ModelProto`` of ``model``, checked with ``onnx.checker`` (full check)."""
    nodes, inputs, outputs = _nodes(model)
    proto = build_model(nodes, inputs, outputs, graph_name=model.name)
    import onnx

    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(model, filepath) -> None:
    """Write ``model`` as an ONNX file at ``filepath`` (atomically).

    Parameters
    ----------
    model : Sequential
        A built model whose layers all have an ONNX form (see the module's docstring).
    filepath : str or path-like
        Where to write; by convention it ends in ``.onnx``.

    Raises
    ------
    ExportError
        (a ``ValueError``) A layer, activation or setting without an ONNX form, named.
    """
    filepath = os.fspath(filepath)
    atomic_write_bytes(filepath, onnx_model(model).SerializeToString())
