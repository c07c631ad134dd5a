"""The text table printed by ``model.summary()``."""

from __future__ import annotations

__all__ = ["format_summary"]


def _shape_str(shape):
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_shape_str(v)}" for k, v in shape.items()) + "}"
    if shape and isinstance(shape[0], (tuple, list)):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    return "(" + ", ".join("None" if i == 0 else str(d) for i, d in enumerate(shape)) + \
        ("," if len(shape) == 1 else "") + ")"


def _functional_rows(model):
    """``(label, shape, params, connections)`` per layer of a functional model: the output
    shape of the layer's first call in the model, and where each call's inputs come from, as
    Keras writes them (``layer[node][tensor]``)."""
    rows = []
    for layer in model.layers:
        nodes = [node for _, node in model.own_nodes(layer)]
        first = nodes[0] if nodes else None
        shape = None
        if first is not None:
            outs = first.output_tensors
            shape = outs[0].shape if len(outs) == 1 else [t.shape for t in outs]
        links = [f"{t._keras_history[0].name}[{t._keras_history[1]}][{t._keras_history[2]}]"
                 for node in nodes for t in node.input_tensors]
        params = sum(int(v.size) for v in layer.weights) if layer.built else 0
        rows.append((f"{layer.name} ({type(layer).__name__})", _shape_str(shape),
                     f"{params:,}", ", ".join(links) or "-"))
    return rows


def format_summary(model, line_length=78) -> str:
    if hasattr(model, "own_nodes"):
        return _format_functional(model, line_length)
    labels = [f"{layer.name} ({type(layer).__name__})" for layer in model.layers]
    shapes = [_shape_str(getattr(layer, "_output_shape", None)) for layer in model.layers]
    # Columns widen to fit the longest label and shape, so nothing spills into the next one.
    w_name = max([int(line_length * 0.45)] + [len(t) + 2 for t in labels])
    w_shape = max([int(line_length * 0.33)] + [len(t) + 2 for t in shapes])
    w_param = 14
    line_length = w_name + w_shape + w_param
    rule = "-" * line_length
    lines = [f'Model: "{model.name}"', rule,
             f"{'Layer (type)':<{w_name}}{'Output Shape':<{w_shape}}{'Param #':>{w_param}}",
             "=" * line_length]
    for layer in model.layers:
        label = f"{layer.name} ({type(layer).__name__})"
        shape = getattr(layer, "_output_shape", None)
        params = sum(int(v.size) for v in layer.weights) if layer.built else 0
        count = f"{params:,}" if layer.built else "0 (unbuilt)"
        lines.append(f"{label:<{w_name}}{_shape_str(shape):<{w_shape}}{count:>{w_param}}")
    lines.append("=" * line_length)
    weights = model.weights
    total = sum(int(v.size) for v in weights)
    trainable = sum(int(v.size) for v in model.trainable_weights)
    lines.append(f"Total params: {total:,}")
    lines.append(f"Trainable params: {trainable:,}")
    lines.append(f"Non-trainable params: {total - trainable:,}")
    if not model.built:
        lines.append("(The model is not built yet: call it on data, or give an input shape.)")
    lines.append(rule)
    return "\n".join(lines)


def _format_functional(model, line_length) -> str:
    """The table of a functional model, with Keras's "Connected to" column."""
    rows = _functional_rows(model)
    w_name = max([int(line_length * 0.3)] + [len(r[0]) + 2 for r in rows])
    w_shape = max([int(line_length * 0.25)] + [len(r[1]) + 2 for r in rows])
    w_param = 12
    w_link = max([int(line_length * 0.25)] + [len(r[3]) + 2 for r in rows])
    width = w_name + w_shape + w_param + w_link
    rule = "-" * width
    header = f"{'Layer (type)':<{w_name}}{'Output Shape':<{w_shape}}{'Param #':>{w_param}}  " \
        "Connected to"
    lines = [f'Model: "{model.name}"', rule, header, "=" * width]
    for label, shape, params, links in rows:
        lines.append(f"{label:<{w_name}}{shape:<{w_shape}}{params:>{w_param}}  {links}".rstrip())
    lines.append("=" * width)
    total = sum(int(v.size) for v in model.weights)
    trainable = sum(int(v.size) for v in model.trainable_weights)
    lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", rule]
    return "\n".join(lines)
