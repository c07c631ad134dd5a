"""``einsum``: Einstein summation over any number of tensors, one node.

The gradient of an operand is itself an einsum: the output's gradient contracted with the
other operands, written back to that operand's subscripts. A subscript that only the operand
carries (summed over, in no other operand nor the output) gets the gradient broadcast along
it, since every entry of that axis contributed alike.

Supported: explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``) outputs, ``...`` for leading
or trailing axes (right-aligned across operands, as NumPy broadcasts them). Not supported,
with a clear error: a subscript repeated within one operand (diagonals and traces) and axes of
size 1 broadcast against larger ones under one subscript.
"""

from __future__ import annotations

import string

from profond.autograd.function import as_tensor, make
from profond.autograd.tensor import Tensor

__all__ = ["einsum"]


def _bad(subscripts, why):
    return ValueError(f"The 'subscripts' parameter of einsum must be a valid equation for the "
                      f"operands ({why}). Got {subscripts!r} instead.")


def parse(subscripts: str, shapes) -> tuple[list[str], str]:
    """The terms of ``subscripts`` with every ``...`` spelled out in letters, and the output.

    Examples
    --------
    >>> parse("...i,ij->...j", [(2, 3, 4), (4, 5)])
    (['ABi', 'ij'], 'ABj')
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"The 'subscripts' parameter of einsum must be a str. Got "
                        f"{subscripts!r} instead.")
    eq = subscripts.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise _bad(subscripts, f"{len(terms)} input terms for {len(shapes)} operands")
    used = set(eq) - set(".,->")
    if not used <= set(string.ascii_letters):
        raise _bad(subscripts, "subscripts are letters a-z, A-Z and '...'")
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    ranks = []
    for term, shape in zip(terms, shapes):
        if term.count("...") > 1 or term.replace("...", "").count(".") > 0:
            raise _bad(subscripts, f"term {term!r} has a malformed ellipsis")
        letters = len(term.replace("...", ""))
        extra = len(shape) - letters
        if extra < 0 or ("..." not in term and extra != 0):
            raise _bad(subscripts, f"term {term!r} for an operand of shape {tuple(shape)}")
        ranks.append(extra if "..." in term else 0)
    ellipsis = "".join(spare[:max(ranks, default=0)])
    expanded = [t.replace("...", ellipsis[len(ellipsis) - r:] if r else "")
                for t, r in zip(terms, ranks)]
    for term in expanded:
        if len(set(term)) != len(term):
            raise _bad(subscripts, f"subscript repeated in term {term!r}: diagonals and traces "
                                   "are not supported")
    if arrow:
        if rhs.count("...") > 1:
            raise _bad(subscripts, "the output has a malformed ellipsis")
        output = rhs.replace("...", ellipsis)
    else:
        counts = {c: "".join(expanded).count(c) for c in set("".join(expanded))}
        output = ellipsis + "".join(sorted(c for c, n in counts.items()
                                           if n == 1 and c not in ellipsis))
    if len(set(output)) != len(output) or not set(output) <= set("".join(expanded)):
        raise _bad(subscripts, f"output {rhs!r} must name each input subscript at most once")
    sizes = {}
    for term, shape in zip(expanded, shapes):
        for c, n in zip(term, shape):
            if sizes.setdefault(c, n) != n:
                raise _bad(subscripts, f"subscript {c!r} has sizes {sizes[c]} and {n} in "
                                       f"operands of shapes {[tuple(s) for s in shapes]}; "
                                       "broadcasting size-1 axes is not supported")
    return expanded, output


def einsum(subscripts, *operands) -> Tensor:
    """Sum of products of ``operands`` over the subscripts that the output leaves out, as
    :func:`numpy.einsum` and Keras's ``keras.ops.einsum``.

    Parameters
    ----------
    subscripts : str
        E.g. ``"ij,jk->ik"`` (a matrix product), ``"bqhd,bkhd->bhqk"`` (attention scores),
        ``"...i,ij->...j"`` (a dense layer on any leading axes).
    *operands : Tensor or array-like

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> a = profond.tensor(np.ones((2, 3)), requires_grad=True)
    >>> y = ops.einsum("ij,jk->ik", a, np.full((3, 4), 2.0))
    >>> y.shape, float(y.numpy()[0, 0])
    ((2, 4), 6.0)
    >>> y.sum().backward()
    >>> a.grad[0].tolist()
    [8.0, 8.0, 8.0]
    """
    if not operands:
        raise ValueError("The 'operands' parameter of einsum must hold at least one tensor. "
                         "Got none instead.")
    like = next((o for o in operands if isinstance(o, Tensor)), None)
    tensors = [as_tensor(o, like) for o in operands]
    kinds = {t.data.dtype.kind for t in tensors}
    if "f" in kinds and kinds != {"f"}:  # integer operands join the float ones' dtype
        dtype = next(t.data.dtype for t in tensors if t.data.dtype.kind == "f")
        tensors = [t if t.data.dtype.kind == "f" else make(t.data.astype(dtype))
                   for t in tensors]
    terms, output = parse(subscripts, [t.shape for t in tensors])
    xp = tensors[0].xp
    arrays = [t.data for t in tensors]
    out = xp.einsum(f"{','.join(terms)}->{output}", *arrays, optimize=True)

    def backward(g):
        grads = []
        for i, (t, term) in enumerate(zip(tensors, terms)):
            if not t.requires_grad:
                grads.append(None)
                continue
            others = [(terms[j], arrays[j]) for j in range(len(terms)) if j != i]
            reachable = set(output).union(*(set(s) for s, _ in others))
            target = "".join(c for c in term if c in reachable)
            expr = ",".join([output] + [s for s, _ in others]) + "->" + target
            gi = xp.einsum(expr, g, *(a for _, a in others), optimize=True)
            if target != term:  # subscripts only this operand has: broadcast along them
                view = [t.shape[k] if c in reachable else 1 for k, c in enumerate(term)]
                gi = xp.ascontiguousarray(xp.broadcast_to(gi.reshape(view), t.shape))
            grads.append(gi)
        return tuple(grads)

    return make(out, tuple(tensors), backward)
