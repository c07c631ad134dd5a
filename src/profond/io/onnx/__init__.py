"""Export a profond model to `ONNX <https://onnx.ai>`_, to serve it outside Python.

``model.export("m.onnx", format="onnx")`` (as Keras 3 spells it), or
``profond export MODEL --format onnx`` on the command line, writes an ONNX model of opset 17
with a dynamic batch dimension: the input is named ``"input"`` (float32, or int64 when the
first layer is an ``Embedding``) and the output ``"output"``; onnxruntime runs it and gives
``predict``'s output. The graph is built with ``onnx.helper`` and checked with
``onnx.checker.check_model(full_check=True)`` before it is written.

Layers with an ONNX form: Dense, Activation, Conv1D and Conv2D (every padding, stride and
dilation), MaxPooling1D/2D, AveragePooling1D/2D, GlobalAveragePooling1D/2D,
GlobalMaxPooling1D/2D, BatchNormalization, Dropout and SpatialDropout1D/2D (nothing at
inference), Flatten, Reshape, ZeroPadding2D, UpSampling2D, Embedding, SimpleRNN, GRU, LSTM,
Bidirectional, TimeDistributed (of a layer with an ONNX form), Masking (masks become ONNX
sequence lengths: see :mod:`profond.io.onnx.recurrent`), and the activations of
:data:`~profond.io.onnx.core.ACTIVATIONS_WITH_ONNX_FORM`. Any other layer is named in a clear
error before anything is written.

The exporter works on a list of nodes ``(layer, inputs, outputs)`` over named values
(:func:`profond.io.onnx.graph.build_model`): a Sequential model is a chain of them, and a
functional model's graph gives the same list.

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

from profond import layers as _layers
from profond._files import atomic_write_bytes
from profond.io.onnx import conv, core, recurrent  # noqa: F401  (they register converters)
from profond.io.onnx.graph import CONVERTERS, OPSET, ExportError, build_model, chain

__all__ = ["OPSET", "ExportError", "export_onnx", "layers_with_onnx_form", "onnx_model"]


def layers_with_onnx_form() -> list:
    """The names of the layer classes the exporter converts."""
    return sorted(cls.__name__ for cls in CONVERTERS if cls is not _layers.InputLayer)


def _nodes(model):
    """``(nodes, inputs, outputs)`` of ``model``: Sequential models (a chain of layers)."""
    if not any(cls.__name__ == "Sequential" for cls in type(model).__mro__):
        raise ExportError(f"Model '{model.name}' ({type(model).__name__}): ONNX export takes "
                          "Sequential models.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or train it "
                         "before exporting.")
    stack = [layer for layer in model.layers if not isinstance(layer, _layers.InputLayer)]
    if not stack:
        raise ExportError(f"Model '{model.name}' has no layers to export.")
    shape = tuple(model.input_shape)
    dtype = "int64" if isinstance(stack[0], _layers.Embedding) else "float32"
    return chain(stack), [("input", shape, dtype)], ["output"]


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
