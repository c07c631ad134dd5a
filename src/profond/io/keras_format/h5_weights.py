"""Keras 3's HDF5 weights (``.weights.h5``, and a ``.keras`` file's ``model.weights.h5``),
read and written through h5py.

The layout (which variable sits at which path) is :mod:`.layout`'s. Reading is all or
nothing: every path, count and shape is checked before any weight of the model changes, and
a file with weights the model has no place for is refused rather than half used. Datasets
are only ever read as arrays (no pickled objects, no references followed).
"""

from __future__ import annotations

import io
import math
import os
import warnings
import zipfile

import numpy as np

from profond._validation import require
from profond.io.foreign import describe
from profond.io.keras_format.layout import layer_groups, optimizer_slot_order

__all__ = ["h5py", "write_h5_bytes", "read_weights", "read_optimizer_arrays", "has_keras_weights",
           "optimizer_arrays", "apply_optimizer_arrays", "save_weights_h5", "load_weights_h5"]


def h5py():
    """The h5py module, or an ImportError naming the extra that installs it."""
    return require("h5py", "Reading and writing Keras files (.keras, .weights.h5)", "h5")


def _join(path, name):
    return f"{path}/{name}" if path else name


def has_keras_weights(h5file) -> bool:
    """Whether an open HDF5 file has Keras 3's weights layout (Keras always writes the model's
    own ``vars`` group at the root, with ``layers`` beside it for a Sequential or functional
    model)."""
    return "vars" in h5file or "layers" in h5file


# --- writing -------------------------------------------------------------------------------------
def write_h5_bytes(model, optimizer_variables=None, optimizer_name=None) -> bytes:
    """The bytes of an HDF5 file holding ``model``'s weights (and the optimizer's variables,
    when given) in Keras's layout."""
    h5 = h5py()
    buffer = io.BytesIO()
    with h5.File(buffer, "w") as f:
        for path, _, variables, name in layer_groups(model):
            group = f.require_group(_join(path, "vars"))
            group.attrs["name"] = name
            for i, var in enumerate(variables):
                group[str(i)] = np.ascontiguousarray(var.numpy()).reshape(var.shape)
        if optimizer_variables is not None:
            group = f.require_group("optimizer/vars")
            group.attrs["name"] = optimizer_name or "optimizer"
            for i, value in enumerate(optimizer_variables):
                group[str(i)] = value
    return buffer.getvalue()


# --- reading -------------------------------------------------------------------------------------
def _datasets(group):
    """The arrays of a ``vars`` group, in their numeric order, checked to be 0, 1, ... n-1."""
    h5 = h5py()
    keys = list(group.keys())
    if sorted(keys, key=lambda k: (len(k), k)) != [str(i) for i in range(len(keys))]:
        raise ValueError(f"the group {group.name!r} holds {sorted(keys)}, not variables "
                         "numbered 0, 1, ...")
    out = []
    for i in range(len(keys)):
        item = group[str(i)]
        if not isinstance(item, h5.Dataset) or item.dtype.kind not in "fiu":
            raise ValueError(f"{group.name}/{i} is not a numeric array")
        out.append(np.asarray(item[()]))
    return out


def _count_weights(h5file):
    """Every numeric dataset outside ``optimizer/`` (what a model's weights must account for)."""
    h5 = h5py()
    found = []

    def visit(name, item):
        if isinstance(item, h5.Dataset) and not name.startswith("optimizer/"):
            found.append(name)
    h5file.visititems(visit)
    return found


def read_weights(h5file, model) -> list:
    """``[(variable, array)]`` for every weight of ``model`` from an open Keras HDF5 file,
    checked (paths, counts, shapes) but not assigned.

    Raises
    ------
    ValueError
        A layer's weights missing or of other shapes, or weights the model has no place for;
        the message names the layer and the path.
    """
    pairs, used = [], 0
    for path, layer, variables, _ in layer_groups(model):
        if not variables:
            continue
        where = _join(path, "vars")
        if where not in h5file:
            raise ValueError(f"layer '{layer.name}' ({type(layer).__name__}) has "
                             f"{len(variables)} weights, and the file has none at {where!r} "
                             "(is it a file of another architecture?)")
        arrays = _datasets(h5file[where])
        if len(arrays) != len(variables):
            raise ValueError(f"layer '{layer.name}' has {len(variables)} weights; the file "
                             f"holds {len(arrays)} at {where!r}")
        for var, array in zip(variables, arrays):
            if tuple(array.shape) != tuple(var.shape):
                raise ValueError(f"weight '{var.path}' of layer '{layer.name}' has shape "
                                 f"{tuple(var.shape)}; the file's {where!r} holds "
                                 f"{tuple(array.shape)}")
            pairs.append((var, array))
        used += len(arrays)
    stored = _count_weights(h5file)
    if len(stored) != used:
        raise ValueError(f"it holds {len(stored)} weights and the model takes {used} of them "
                         "(is it a file of another architecture?)")
    return pairs


def read_optimizer_arrays(h5file) -> list:
    """The arrays of ``optimizer/vars`` (empty when the file has none)."""
    if "optimizer/vars" not in h5file:
        return []
    return _datasets(h5file["optimizer/vars"])


# --- optimizer state -----------------------------------------------------------------------------
def _nadam_u_product(optimizer, iterations):
    # Keras keeps Nadam's running product of the momentum factors u_t = beta_1 (1 - 0.96^t / 2)
    # (Dozat, 2016) as a variable; profond recomputes it from the step count.
    beta_1 = optimizer.beta_1
    return np.float32(math.prod(beta_1 * (1.0 - 0.5 * 0.96 ** t)
                                for t in range(1, iterations + 1)))


def _learning_rate_is_a_variable(optimizer) -> bool:
    """Keras stores the learning rate as a variable unless it is a schedule."""
    return optimizer.get_state()["learning_rate"] is not None


def optimizer_arrays(optimizer, trainable) -> list:
    """The optimizer's variables as Keras stores them: before its first update, the step count
    and learning rate alone (as Keras writes an optimizer it has not built)."""
    state = optimizer.get_state()
    index = {id(v): i for i, v in enumerate(optimizer.variables)}
    head = [np.asarray(state["iterations"], dtype=np.int64)]
    if _learning_rate_is_a_variable(optimizer):
        head.append(np.asarray(state["learning_rate"], dtype=np.float32))
    if not index:
        return head
    if any(id(v) not in index for v in trainable) or len(index) != len(trainable):
        raise ValueError("The optimizer holds state for variables that are not the model's "
                         "trainable weights; it cannot be saved with the model.")
    slots = [state["slots"][index[id(v)]] for v in trainable]
    tail = [np.asarray(slots[i][name]) for i, name in optimizer_slot_order(optimizer, slots)]
    if type(optimizer).__name__ == "Nadam":
        tail.append(_nadam_u_product(optimizer, int(state["iterations"])))
    return head + tail


def apply_optimizer_arrays(optimizer, trainable, arrays) -> None:
    """Restore a built-or-not optimizer's state from Keras's variables (see
    :func:`optimizer_arrays`); nothing changes when ``arrays`` do not fit."""
    has_lr = _learning_rate_is_a_variable(optimizer)
    if len(arrays) == 1 + has_lr and int(np.asarray(arrays[0])) == 0:
        return  # an optimizer saved before its first update: no state yet
    optimizer.build(trainable)
    state = optimizer.get_state()
    index = {id(v): i for i, v in enumerate(optimizer.variables)}
    slots = [state["slots"][index[id(v)]] for v in trainable]
    order = optimizer_slot_order(optimizer, slots)
    extra = 1 if type(optimizer).__name__ == "Nadam" else 0
    expected = 1 + has_lr + len(order) + extra
    if len(arrays) != expected:
        raise ValueError(f"the file holds {len(arrays)} optimizer variables; a "
                         f"{type(optimizer).__name__} of this model has {expected}")
    iterations = int(np.asarray(arrays[0]))
    learning_rate = state["learning_rate"]
    if has_lr and np.float32(learning_rate) != np.float32(np.asarray(arrays[1])):
        # Keras stores it in float32: the config's own number is kept when it is the same one
        # (0.01, not 0.009999999776), so a crossing changes no update
        learning_rate = float(np.asarray(arrays[1]))
    new = [dict(s) for s in slots]
    for (i, name), array in zip(order, arrays[1 + has_lr:]):
        if tuple(array.shape) != tuple(new[i][name].shape):
            raise ValueError(f"the optimizer's {name} of weight '{trainable[i].path}' has shape "
                             f"{tuple(array.shape)}; the weight has {tuple(new[i][name].shape)}")
        new[i][name] = array
    by_position = [None] * len(new)
    for var, slot in zip(trainable, new):
        by_position[index[id(var)]] = slot
    state = {"iterations": iterations, "learning_rate": learning_rate, "slots": by_position}
    optimizer.set_state(state, optimizer.variables)


# --- .weights.h5 files ---------------------------------------------------------------------------
def save_weights_h5(model, filepath) -> None:
    """Write ``model``'s weights as Keras 3's ``.weights.h5`` (atomically), which a Keras model
    of the same architecture loads with ``load_weights``. As Keras does, a compiled model's
    optimizer variables are written too."""
    from profond._files import atomic_write_bytes

    optimizer = getattr(model, "optimizer", None)
    arrays = None if optimizer is None else optimizer_arrays(optimizer, model.trainable_weights)
    atomic_write_bytes(filepath, write_h5_bytes(model, arrays, getattr(optimizer, "name", None)))


def load_weights_h5(model, filepath) -> None:
    """Load a Keras 3 ``.weights.h5`` file (or a ``.keras`` file's weights) into ``model``,
    all or nothing. As Keras does, a compiled model's optimizer takes the file's optimizer
    variables when they fit it."""
    h5 = h5py()
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No file at {filepath!r}.")
    if zipfile.is_zipfile(filepath):
        with zipfile.ZipFile(filepath) as archive:
            if "model.weights.h5" not in archive.namelist():
                raise ValueError(describe(filepath) or f"{filepath!r} is a zip archive without "
                                 "model.weights.h5, not a Keras .keras file.")
            source = io.BytesIO(archive.read("model.weights.h5"))
    else:
        source = filepath
    try:
        f = h5.File(source, "r")
    except OSError as err:
        raise ValueError(describe(filepath) or f"{filepath!r} is neither a Keras .weights.h5 "
                         f"file nor a .keras file (h5py: {err}).") from None
    with f:
        if not has_keras_weights(f):
            raise ValueError(describe(filepath) if source is filepath else
                             f"{filepath!r} holds an HDF5 file without Keras weights.")
        try:
            pairs = read_weights(f, model)
            arrays = read_optimizer_arrays(f)
        except ValueError as err:
            raise ValueError(f"{filepath!r} does not fit model '{model.name}': {err}.") from None
    for var, array in pairs:
        var.assign(array.astype(var.dtype, copy=False))
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and arrays:
        try:
            apply_optimizer_arrays(optimizer, model.trainable_weights, arrays)
        except ValueError as err:
            warnings.warn(f"{filepath!r}: the optimizer's variables were not loaded ({err}); "
                          "the weights were.", stacklevel=3)
