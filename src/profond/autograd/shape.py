"""Shape ops: reshape, transpose, indexing, concatenate, stack, pad and friends."""

from __future__ import annotations

from profond import backend
from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor, make, unbroadcast

__all__ = ["reshape", "transpose", "permute", "swapaxes", "getitem", "concatenate", "stack",
           "pad", "expand_dims", "squeeze", "flatten", "broadcast_to", "split"]


def reshape(a, *shape) -> Tensor:
    """Same data, new shape (one dimension may be -1)."""
    a = as_tensor(a)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    src = a.data.shape
    try:
        out = a.data.reshape(shape)
    except ValueError as err:
        raise ValueError(f"Cannot reshape a tensor of shape {src} to {shape}: {err}") from None
    return make(out, (a,), lambda g: (g.reshape(src),))


def permute(a, *axes) -> Tensor:
    """Reorder the axes: ``permute(x, 0, 2, 1)``."""
    a = as_tensor(a)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    xp = a.xp
    if sorted(int(x) % a.ndim for x in axes) != list(range(a.ndim)):
        raise ValueError(f"The 'axes' parameter of permute must be a permutation of {a.ndim} "
                         f"axes. Got {axes} for a tensor of shape {a.shape} instead.")
    inverse = tuple(int(i) for i in xp.argsort(xp.asarray([int(x) % a.ndim for x in axes])))
    return make(a.data.transpose(axes), (a,), lambda g: (g.transpose(inverse),))


def transpose(a, *axes) -> Tensor:
    """Transpose: no axes reverses them; two axes swap them (PyTorch); ``ndim`` axes permute."""
    a = as_tensor(a)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(reversed(range(a.ndim)))
    elif len(axes) == 2 and a.ndim != 2:
        return swapaxes(a, axes[0], axes[1])
    return permute(a, axes)


def swapaxes(a, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    a = as_tensor(a)
    return make(a.data.swapaxes(axis1, axis2), (a,), lambda g: (g.swapaxes(axis1, axis2),))


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, (list, Tensor)) or (hasattr(item, "shape") and hasattr(item, "dtype")
                                                and getattr(item, "ndim", 0) > 0):
            return True
        if hasattr(item, "dtype") and item.dtype.kind == "b":
            return True
    return False


def _raw_index(index, xp):
    if isinstance(index, tuple):
        return tuple(_raw_index(i, xp) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def getitem(a, index) -> Tensor:
    """``a[index]``: basic slicing and integer/boolean array indexing."""
    a = as_tensor(a)
    xp = a.xp
    index = _raw_index(index, xp)
    out = a.data[index]
    advanced = _is_advanced(index)

    def backward(g):
        full = xp.zeros_like(a.data)
        if advanced:
            backend.scatter_add(full, index, g)  # repeated indices accumulate
        else:
            full[index] = g
        return (full,)

    return make(out, (a,), backward)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("The 'tensors' parameter of concatenate must hold at least one tensor. "
                         "Got none instead.")
    xp = tensors[0].xp
    out = xp.concatenate([t.data for t in tensors], axis=axis)
    ax = axis % out.ndim
    bounds = []
    start = 0
    for t in tensors:
        bounds.append((start, start + t.data.shape[ax]))
        start += t.data.shape[ax]

    def backward(g):
        sl = [slice(None)] * g.ndim
        grads = []
        for lo, hi in bounds:
            sl[ax] = slice(lo, hi)
            grads.append(g[tuple(sl)])
        return tuple(grads)

    return make(out, tuple(tensors), backward)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("The 'tensors' parameter of stack must hold at least one tensor. Got "
                         "none instead.")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"The 'tensors' parameter of stack must hold tensors of one shape. Got "
                         f"shapes {sorted(shapes)} instead.")
    xp = tensors[0].xp
    out = xp.stack([t.data for t in tensors], axis=axis)
    ax = axis % out.ndim

    def backward(g):
        return tuple(xp.take(g, i, axis=ax) for i in range(len(tensors)))

    return make(out, tuple(tensors), backward)


def split(a, indices_or_sections, axis: int = 0) -> list:
    """Split into pieces along ``axis`` (NumPy's convention); each piece is differentiable."""
    a = as_tensor(a)
    n = a.data.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"The 'indices_or_sections' parameter of split must divide the "
                             f"axis of size {n} into equal sections. Got {indices_or_sections} "
                             "instead.")
        step = n // indices_or_sections
        cuts = list(range(step, n, step))
    else:
        cuts = list(indices_or_sections)
    edges = [0] + cuts + [n]
    sl = [slice(None)] * a.ndim
    pieces = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sl[axis] = slice(lo, hi)
        pieces.append(getitem(a, tuple(sl)))
    return pieces


def pad(a, pad_width, mode: str = "constant", constant_values=0) -> Tensor:
    """Pad with a constant (NumPy's ``pad_width`` convention)."""
    a = as_tensor(a)
    if mode != "constant":
        raise ValueError(f"The 'mode' parameter of pad must be 'constant'. Got {mode!r} instead.")
    xp = a.xp
    if isinstance(pad_width, int):
        pad_width = [(pad_width, pad_width)] * a.ndim
    pad_width = [(int(p[0]), int(p[1])) if isinstance(p, (tuple, list)) else (int(p), int(p))
                 for p in pad_width]
    if len(pad_width) != a.ndim:
        raise ValueError(f"The 'pad_width' parameter of pad needs one (before, after) pair per "
                         f"axis ({a.ndim}). Got {len(pad_width)} pairs.")
    out = xp.pad(a.data, pad_width, mode="constant", constant_values=constant_values)
    inner = tuple(slice(lo, out.shape[i] - hi) for i, (lo, hi) in enumerate(pad_width))
    return make(out, (a,), lambda g: (g[inner],))


def expand_dims(a, axis: int) -> Tensor:
    """Insert an axis of length one."""
    a = as_tensor(a)
    src = a.data.shape
    return make(a.xp.expand_dims(a.data, axis), (a,),
                lambda g: (g.reshape(src),))


def squeeze(a, axis=None) -> Tensor:
    """Remove axes of length one."""
    a = as_tensor(a)
    src = a.data.shape
    return make(a.data.squeeze(axis=axis), (a,), lambda g: (g.reshape(src),))


def flatten(a, start_axis: int = 1) -> Tensor:
    """Collapse the axes from ``start_axis`` on into one."""
    a = as_tensor(a)
    shape = a.data.shape[:start_axis] + (-1,)
    return reshape(a, shape)


def broadcast_to(a, shape) -> Tensor:
    """Broadcast to ``shape``; the gradient is summed back."""
    a = as_tensor(a)
    src = a.data.shape
    return make(a.xp.broadcast_to(a.data, shape), (a,), lambda g: (unbroadcast(g, src),))
