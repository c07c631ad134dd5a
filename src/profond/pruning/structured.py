"""Structured pruning: remove whole units and return a genuinely smaller model.

Unstructured (magnitude) pruning zeroes weights but keeps every matrix at its full size: the
file is as large and ``predict`` as slow as before. Structured pruning removes whole *units*
(Dense units, convolution filters, recurrent units) and rebuilds the model with smaller layers:

* a ``Dense`` unit ``j`` is column ``j`` of its kernel ``(in, units)`` and entry ``j`` of its
  bias, and row ``j`` of the next weight layer's kernel;
* a ``Conv1D``/``Conv2D`` filter ``j`` is ``kernel[..., j]`` and ``bias[j]``, and input channel
  ``j`` (``kernel[..., j, :]``) of the next weight layer;
* a ``SimpleRNN``/``GRU``/``LSTM`` unit ``j`` is column ``j`` of every gate block of ``kernel``
  and ``recurrent_kernel`` (and of the bias), row ``j`` of ``recurrent_kernel``, and row ``j`` of
  the next weight layer's kernel.

Between a pruned layer and the next weight layer the removed channels are followed through
``Dropout``, ``Activation``, ``BatchNormalization`` (its four vectors are sliced), pooling,
padding and ``Flatten`` (channel ``c`` at position ``p`` is flat index ``p * channels + c``,
channels-last).

A unit whose incoming kernel is zero outputs a constant, ``activation(bias)``; removing it
would drop that constant from the next layer's input, so its contribution is folded into the
next layer's bias (``fold_bias=True``). Units whose kernel is exactly zero are then removed
without changing the model's outputs (exactly so when the next layer is a ``Dense`` or
recurrent layer, or a convolution with ``padding="valid"``); units with small weights are
replaced by their bias-only output, a close approximation that fine-tuning finishes.

References: Li et al., "Pruning Filters for Efficient ConvNets" (ICLR 2017) for the L1 filter
criterion; Hu et al., "Network Trimming" (2016) for removing dead units.
"""

from __future__ import annotations

import numbers

import numpy as np

from profond import backend
from profond._validation import check_choice, check_float, check_int
from profond.autograd.engine import no_grad
from profond.autograd.tensor import Tensor

__all__ = ["CRITERIA", "neuron_scores", "prunable_layers", "prune_neurons"]

# Layers whose units can be removed, and the number of gate blocks of their kernels.
_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
_CONV = {"Conv1D", "Conv2D", "Conv3D"}
_WEIGHT_LAYERS = {"Dense"} | _CONV | set(_GATES)

# Layers that act on each channel separately (last axis in, same last axis out).
_CHANNELWISE = {"InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Activation",
                "ReLU", "LeakyReLU", "ELU", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
                "AveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
                "GlobalAveragePooling1D", "GlobalAveragePooling2D", "ZeroPadding1D",
                "ZeroPadding2D", "UpSampling1D", "UpSampling2D", "Cropping1D", "Cropping2D",
                "Masking", "BatchNormalization", "Flatten"}

# Activations that mix the units of a layer: removing one changes the others.
_MIXING_ACTIVATIONS = {"softmax", "log_softmax", "sparsemax", "glu"}


def _l1(m, xp):
    return xp.abs(m).sum(axis=0)


def _l2(m, xp):
    return xp.sqrt((m * m).sum(axis=0))


def _mean_abs(m, xp):
    return xp.abs(m).mean(axis=0)


def _max_abs(m, xp):
    return xp.abs(m).max(axis=0)


#: Criteria scoring one unit from the matrix ``(n_weights, units)`` of its weights.
CRITERIA = {"l1": _l1, "l2": _l2, "mean_abs": _mean_abs, "max_abs": _max_abs}


def _kind(layer) -> str:
    return type(layer).__name__


def _weights(layer) -> dict:
    """The layer's arrays by weight name, on their device (no copy)."""
    return {v.name: v.data for v in layer.weights}


def _units(layer) -> int:
    return int(layer.filters if _kind(layer) in _CONV else layer.units)


def _unit_matrix(layer):
    """The weights of each unit as the columns of one ``(n_weights, units)`` matrix.

    Dense and convolution units: their incoming kernel (a zero kernel makes a constant unit,
    folded into the next layer). Recurrent units: every gate's input and recurrent columns and
    biases (a unit with all of them zero outputs exactly 0 at every step).
    """
    w = _weights(layer)
    kind = _kind(layer)
    kernel = w["kernel"]
    units = _units(layer)
    if kind not in _GATES:
        return kernel.reshape(-1, units)
    xp = backend.get_array_module(kernel)
    parts = [kernel.reshape(-1, units), w["recurrent_kernel"].reshape(-1, units)]
    if "bias" in w:
        parts.append(w["bias"].reshape(-1, units))
    return xp.concatenate(parts, axis=0)


def _criterion(criterion):
    if callable(criterion):
        return lambda m, xp: criterion(m)
    return CRITERIA[check_choice(criterion, "criterion", "prune_neurons", sorted(CRITERIA))]


def neuron_scores(model, criterion="l2") -> dict:
    """Score every unit of every weight layer (lower = less important).

    Parameters
    ----------
    model : Model
        A built model.
    criterion : {"l1", "l2", "mean_abs", "max_abs"} or callable, default "l2"
        Reduction of a unit's weights (see :func:`prune_neurons`); a callable receives the
        ``(n_weights, units)`` matrix and returns one score per unit.

    Returns
    -------
    dict
        ``{layer_name: ndarray of shape (units,)}`` (NumPy), for each Dense, convolution and
        recurrent layer, in model order.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.pruning import neuron_scores
    >>> model = profond.Sequential([layers.Input((3,)), layers.Dense(2, name="h"),
    ...                             layers.Dense(1, name="out")])
    >>> model.layers[0].set_weights([np.array([[1., 0.], [2., 0.], [2., 0.]]), np.zeros(2)])
    >>> neuron_scores(model, criterion="l1")["h"]
    array([5., 0.])
    """
    fn = _criterion(criterion)
    out = {}
    for layer in _flat_layers(model):
        if _kind(layer) in _WEIGHT_LAYERS:
            _require_built(model, layer)
            out[layer.name] = _unit_scores(fn, layer, "neuron_scores")
    return out


def _unit_scores(fn, layer, owner):
    """The criterion ``fn``'s score of each unit of ``layer``, as float64 NumPy."""
    m = _unit_matrix(layer)
    scores = backend.to_numpy(fn(m, backend.get_array_module(m))).astype(np.float64)
    if scores.shape != (_units(layer),):
        raise ValueError(f"The 'criterion' parameter of {owner} must give one score per unit, "
                         f"shape ({_units(layer)},) for layer '{layer.name}'. Got scores of "
                         f"shape {scores.shape} instead.")
    return scores


def _flat_layers(model):
    from profond.models.sequential import Sequential

    if not isinstance(model, Sequential) and hasattr(model, "own_nodes"):
        raise TypeError(f"The 'model' parameter of structured pruning must be a Sequential model. "
                        f"Got the functional model '{model.name}' instead: its units may flow "
                        "into merges, shared layers and several outputs, which structured "
                        "pruning does not follow. Use prune_low_magnitude (which works on any "
                        "model), or build the chain as a Sequential.")
    if not isinstance(model, Sequential):
        raise TypeError(f"The 'model' parameter of structured pruning must be a Sequential model "
                        f"(it is rebuilt from its config). Got {type(model).__name__} "
                        f"'{model.name}' instead. Write the smaller subclassed model by hand, or "
                        "use prune_low_magnitude (which works on any model).")
    return model.layers


def _require_built(model, layer=None):
    if not model.built or (layer is not None and not layer.built):
        raise ValueError(f"Model '{model.name}' is not built: build it (model.build(shape), an "
                         "Input layer, or a first call on data) before pruning it.")


def _chain(layers, i):
    """Layers after ``layers[i]`` up to the next weight layer: ``(between, consumer, blocker)``.

    ``consumer`` is None when the units reach the model's output; ``blocker`` is the first layer
    that the units cannot be followed through (None when there is none).
    """
    between = []
    for layer in layers[i + 1:]:
        kind = _kind(layer)
        if kind in _WEIGHT_LAYERS:
            return between, layer, None
        if kind not in _CHANNELWISE or not _is_channelwise(layer):
            return between, None, layer
        between.append(layer)
    return between, None, None


def _is_channelwise(layer) -> bool:
    kind = _kind(layer)
    if kind == "Activation":
        return _activation_name(layer) not in _MIXING_ACTIVATIONS
    if kind == "BatchNormalization":
        rank = len(layer._build_input_shape)
        return layer.axis in (-1, rank - 1)
    return True


def _activation_name(layer):
    from profond import activations

    try:
        name = activations.serialize(layer.activation)
    except (ValueError, TypeError, KeyError):
        return None
    return name if isinstance(name, str) else None  # a custom callable: assume elementwise


def prunable_layers(model) -> list:
    """Names of the layers whose units :func:`prune_neurons` can remove.

    A Dense, convolution or recurrent layer whose outputs reach another weight layer through
    channel-wise layers only (the last weight layer gives the model's outputs and keeps them),
    and whose activation does not mix its units (softmax).

    Examples
    --------
    >>> import profond
    >>> from profond import layers
    >>> from profond.pruning import prunable_layers
    >>> model = profond.Sequential([layers.Input((4,)), layers.Dense(8, name="a"),
    ...                             layers.Dropout(0.5), layers.Dense(8, name="b"),
    ...                             layers.Dense(2, name="out")])
    >>> prunable_layers(model)
    ['a', 'b']
    """
    layers = _flat_layers(model)
    names = []
    for i, layer in enumerate(layers):
        if _kind(layer) in _WEIGHT_LAYERS:
            _, consumer, blocker = _chain(layers, i)
            if consumer is not None and blocker is None and \
                    _activation_name(layer) not in _MIXING_ACTIVATIONS:
                names.append(layer.name)
    return names


def _check_selectable(layers, i):
    """Raise a clear error when ``layers[i]`` cannot lose units."""
    layer = layers[i]
    kind = _kind(layer)
    if kind not in _WEIGHT_LAYERS:
        raise ValueError(f"Layer '{layer.name}' ({kind}) has no units that prune_neurons can "
                         f"remove: it can prune {sorted(_WEIGHT_LAYERS)}.")
    between, consumer, blocker = _chain(layers, i)
    if blocker is not None:
        raise ValueError(f"Layer '{layer.name}' ({kind}) cannot be pruned: its units flow into "
                         f"layer '{blocker.name}' ({_kind(blocker)}), which mixes channels or "
                         "is not supported by structured pruning. Leave it out with "
                         "layers=[...] (see prunable_layers(model)).")
    if consumer is None:
        raise ValueError(f"Layer '{layer.name}' ({kind}) gives the model's outputs: its units "
                         "cannot be removed. Prune the hidden layers before it.")
    if _activation_name(layer) in _MIXING_ACTIVATIONS:
        raise ValueError(f"Layer '{layer.name}' ({kind}) cannot be pruned: its "
                         f"'{_activation_name(layer)}' activation mixes its units, so removing "
                         "one changes the others.")
    return between, consumer


def _removal(scores, name, kind, amount, threshold, units):
    """Indices of the units to remove (sorted), from an amount or a threshold."""
    order = np.argsort(scores, kind="stable")
    if amount is not None:
        if isinstance(amount, numbers.Integral) and not isinstance(amount, bool):
            n = check_int(amount, "amount", "prune_neurons", low=0)
        else:
            frac = check_float(amount, "amount", "prune_neurons", low=0, high=1, high_open=True)
            n = round(frac * units)
        removed = np.sort(order[:n])
    else:
        removed = np.flatnonzero(scores <= threshold)
    if len(removed) >= units:
        by = f"amount={amount!r}" if amount is not None else f"threshold={threshold!r}"
        raise ValueError(f"Pruning with {by} would remove all {units} units of layer '{name}' "
                         f"({kind}); a layer needs at least one. Lower the amount or threshold, "
                         "or leave this layer out with layers=[...].")
    return removed


def _per_layer(value, param, names):
    """A per-layer dict from a single value or a dict (its keys must be layer names)."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"The '{param}' parameter of prune_neurons names unknown or "
                             f"non-prunable layers {unknown}. Prunable layers: {names}.")
        return dict(value)
    return {n: value for n in names}


def _out_ops(layer, keep):
    """Slices removing units of ``layer`` itself: ``{weight_name: [("take", axis, idx)]}``."""
    kind = _kind(layer)
    units = _units(layer)
    if kind not in _GATES:
        return {"kernel": [("take", -1, keep)], "bias": [("take", -1, keep)]}
    cols = np.concatenate([g * units + keep for g in range(_GATES[kind])])
    return {"kernel": [("take", -1, cols)],
            "recurrent_kernel": [("take", 0, keep), ("take", -1, cols)],
            "bias": [("take", -1, cols)]}


def _in_axis(layer) -> int:
    """Axis of a weight layer's kernel that indexes its input channels."""
    return -2 if _kind(layer) in _CONV else 0


def _probe(producer, between):
    """Output, at the consumer's input, of ``producer`` fed zeros: ``activation(bias)`` per
    channel, carried through the channel-wise layers (None when a shape is unknown)."""
    shape = producer._build_input_shape
    if shape is None or any(d is None for d in shape[1:]):
        return None
    xp = backend.xp()
    x = Tensor(xp.zeros((1,) + tuple(shape[1:]), dtype=backend.floatx()))
    with no_grad():
        x = producer(x, training=False)
        for layer in between:
            x = layer(x, training=False)
    return x.data


def _fold_delta(consumer, z, removed):
    """Change of ``consumer``'s bias that keeps the contribution of constant input channels.

    ``z`` is the consumer's input when the producer is fed zeros; ``removed`` the channels
    that disappear. None when the consumer has no bias.
    """
    w = _weights(consumer)
    if "bias" not in w or len(removed) == 0:
        return None
    kernel = w["kernel"]
    xp = backend.get_array_module(kernel)
    idx = xp.asarray(removed)
    channels = z.shape[-1]
    zr = z.reshape(-1, channels)[0][idx].astype(kernel.dtype)   # constant over positions
    if not bool(xp.any(zr != 0)):
        return None
    if _kind(consumer) in _CONV:
        taps = xp.take(kernel, idx, axis=-2).reshape(-1, len(removed), kernel.shape[-1])
        delta = xp.einsum("r,trk->k", zr, taps)
    else:
        delta = zr @ xp.take(kernel, idx, axis=0)
    bias = w["bias"]
    if bias.ndim == 2:  # GRU with reset_after: [input bias, recurrent bias]
        full = xp.zeros_like(bias)
        full[0] = delta
        return full
    return delta


def _plan(model, amount, threshold, criterion, layers, fold_bias):
    """Decide which units go and how every weight array is sliced.

    Returns ``(removed, ops)``: ``{layer_name: removed unit indices}`` and ``{layer_name:
    {weight_name: [op, ...]}}`` with ops ``("add", delta)`` then ``("take", axis, idx)``.
    """
    model_layers = _flat_layers(model)
    _require_built(model)
    index = {layer.name: i for i, layer in enumerate(model_layers)}
    if layers is None:
        selected = [n for n in (amount if isinstance(amount, dict) else
                                threshold if isinstance(threshold, dict) else {})]
        selected = selected or prunable_layers(model)
    else:
        if isinstance(layers, str):
            layers = [layers]
        selected = list(layers)
    for name in selected:
        if name not in index:
            raise ValueError(f"The 'layers' parameter of prune_neurons names layer {name!r}, "
                             f"which model '{model.name}' does not have. Its layers: "
                             f"{list(index)}.")
    selected.sort(key=index.get)
    amounts = _per_layer(amount, "amount", selected) if amount is not None else None
    thresholds = _per_layer(threshold, "threshold", selected) if threshold is not None else None
    fn = _criterion(criterion)

    removed_by_layer, ops = {}, {}

    def add_ops(name, weight_ops):
        mine = ops.setdefault(name, {})
        for weight, seq in weight_ops.items():
            mine.setdefault(weight, []).extend(seq)

    for name in selected:
        i = index[name]
        layer = model_layers[i]
        between, consumer = _check_selectable(model_layers, i)
        units = _units(layer)
        scores = _unit_scores(fn, layer, "prune_neurons")
        a = amounts.get(name) if amounts is not None else None
        t = thresholds.get(name) if thresholds is not None else None
        if a is None and t is None:
            continue
        if t is not None:
            t = check_float(t, "threshold", "prune_neurons")
        removed = _removal(scores, name, _kind(layer), a, t, units)
        if len(removed) == 0:
            continue
        keep = np.setdiff1d(np.arange(units), removed)
        removed_by_layer[name] = removed

        # Follow the channels to the consumer: keep indices in its input's last axis.
        cur_keep, size = keep, units
        for mid in between:
            if _kind(mid) == "BatchNormalization":
                add_ops(mid.name, {w: [("take", -1, cur_keep)] for w in _weights(mid)})
            elif _kind(mid) == "Flatten":
                shape = tuple(mid._build_input_shape[1:])
                if any(d is None for d in shape):
                    raise ValueError(f"Layer '{name}' cannot be pruned: Flatten layer "
                                     f"'{mid.name}' has inputs of unknown shape {shape}.")
                grid = np.arange(int(np.prod(shape))).reshape(shape)
                cur_keep, size = grid[..., cur_keep].ravel(), grid.size
        cur_removed = np.setdiff1d(np.arange(size), cur_keep)

        if fold_bias and _kind(layer) not in _GATES:
            z = _probe(layer, between)
            delta = None if z is None else _fold_delta(consumer, z, cur_removed)
            if delta is not None:
                add_ops(consumer.name, {"bias": [("add", delta)]})
        add_ops(name, _out_ops(layer, keep))
        add_ops(consumer.name, {"kernel": [("take", _in_axis(consumer), cur_keep)]})
    return removed_by_layer, ops


def _apply_ops(array, seq, adds=True):
    xp = backend.get_array_module(array)
    for op in seq:
        if op[0] == "add":
            if adds:
                array = array + xp.asarray(op[1], dtype=array.dtype)
        else:
            array = xp.take(array, xp.asarray(op[2]), axis=op[1])
    return array


def _rebuild(model, removed, ops):
    """A new Sequential model with fewer units, its weights sliced from ``model``'s."""
    from profond.layers import deserialize
    from profond.models.sequential import Sequential

    config = model.get_config()
    old = {layer.name: layer for layer in model.layers}
    specs = []
    for spec in config["layers"]:
        spec = {"class_name": spec["class_name"], "config": dict(spec["config"])}
        name = spec["config"].get("name")
        if name in removed:
            key = "filters" if spec["class_name"] in _CONV else "units"
            spec["config"][key] = int(spec["config"][key]) - len(removed[name])
        specs.append(spec)
    new = Sequential([deserialize(s) for s in specs], name=config.get("name"),
                     trainable=config.get("trainable", True))
    shape = config.get("build_input_shape")
    if not new.built:
        new.build(tuple(shape) if shape is not None else model.input_shape)
    for layer in new.layers:
        source = _weights(old[layer.name])
        layer_ops = ops.get(layer.name, {})
        for var in layer.weights:
            var.assign(_apply_ops(source[var.name], layer_ops.get(var.name, ())))
    return new


def _copy_compile(model, new):
    """Compile ``new`` as ``model`` was, with a fresh optimizer of the same configuration."""
    config = model.get_compile_config()
    if getattr(model, "optimizer", None) is None or config is None:
        return
    opt = model.optimizer
    new.compile(optimizer=type(opt).from_config(opt.get_config()), **config)


def prune_neurons(model, threshold=None, amount=None, criterion="l2", layers=None,
                  fold_bias=True):
    """Remove whole units from a Sequential model and return a smaller new model.

    Each selected Dense, convolution or recurrent layer loses the units whose weights score
    lowest under ``criterion``; the layer is rebuilt with fewer ``units``/``filters`` and the
    next weight layer with fewer input rows or channels (see :mod:`profond.pruning.structured`).
    The original model is left unchanged.

    Parameters
    ----------
    model : Sequential
        A built model.
    threshold : float or dict, optional
        Remove the units whose score is ``<= threshold`` (``threshold=0`` removes the units
        whose weights are all exactly zero). A dict gives one threshold per layer name.
    amount : float, int or dict, optional
        Per layer: a float in [0, 1) removes that fraction of its units (rounded), an int that
        many units; a dict gives one amount per layer name. Give ``threshold`` or ``amount``.
    criterion : {"l1", "l2", "mean_abs", "max_abs"} or callable, default "l2"
        How a unit's weights become its score: the sum of their absolute values, their
        Euclidean norm, their mean or largest absolute value. A Dense or convolution unit is
        scored on its incoming kernel; a recurrent unit on its input and recurrent kernel
        columns (every gate) and biases. A callable receives the ``(n_weights, units)`` matrix
        and returns one score per unit.
    layers : list of str, optional
        Names of the layers to prune; by default :func:`prunable_layers` (or the keys of a
        dict ``amount``/``threshold``).
    fold_bias : bool, default True
        Add the constant output of each removed Dense/convolution unit (its output when its
        kernel is zero, ``activation(bias)``) to the next layer's bias.

    Returns
    -------
    Sequential
        A new model with smaller layers and the same layer names, compiled like ``model``
        (with a fresh optimizer of the same configuration) when ``model`` was compiled.

    Raises
    ------
    ValueError
        When pruning would remove every unit of a layer, when a layer named in ``layers``
        cannot lose units (no units, gives the model's output, or feeds a layer that mixes
        channels such as ``Reshape``), or for invalid arguments.
    TypeError
        When ``model`` is not a ``Sequential``.

    Examples
    --------
    Units whose weights are exactly zero are removed without changing the outputs:

    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.pruning import prune_neurons
    >>> model = profond.Sequential([layers.Input((4,)), layers.Dense(6, activation="relu"),
    ...                             layers.Dense(3)])
    >>> kernel, bias = model.layers[0].get_weights()
    >>> kernel[:, [1, 4]] = 0.0
    >>> model.layers[0].set_weights([kernel, bias])
    >>> small = prune_neurons(model, threshold=0.0)
    >>> small.layers[0].units, model.count_params(), small.count_params()
    (4, 51, 35)
    >>> x = np.random.default_rng(0).normal(size=(5, 4))
    >>> bool(np.allclose(model.predict(x, verbose=0), small.predict(x, verbose=0), atol=1e-6))
    True
    """
    if (threshold is None) == (amount is None):
        raise ValueError("The 'threshold' and 'amount' parameters of prune_neurons must be one "
                         "given, one None ('threshold': remove units scoring <= threshold; "
                         "'amount': fraction or number of units per layer). Got "
                         f"threshold={threshold!r} and amount={amount!r} instead.")
    new, _, _ = _prune(model, threshold, amount, criterion, layers, fold_bias)
    _copy_compile(model, new)
    return new


def _prune(model, threshold, amount, criterion, layers, fold_bias):
    """``(new_model, removed, ops)``: the smaller model, the removed units per layer, and the
    slicing operations per weight (also used to slice an optimizer's slots)."""
    removed, ops = _plan(model, amount, threshold, criterion, layers, fold_bias)
    return _rebuild(model, removed, ops), removed, ops
