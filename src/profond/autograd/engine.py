"""Reverse-mode differentiation: the backward pass and the grad-mode switches.

The backward pass visits the graph in reverse topological order computed iteratively (deep
graphs such as long recurrences never hit Python's recursion limit). Each node's ``_backward``
closure returns one gradient per parent; gradients meeting at a node are summed with ``+=``
into a buffer that the engine owns, so an array shared between two parents (``a + a``) is never
modified in place behind another parent's back.
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled", "run_backward"]

class _GradMode(threading.local):
    """Per-thread switch (as in PyTorch); the class attribute is each thread's default."""

    enabled = True


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new operations record the graph needed for ``backward``."""
    return grad_mode.enabled


def set_grad_enabled(mode: bool) -> None:
    grad_mode.enabled = bool(mode)


@contextlib.contextmanager
def no_grad():
    """Context manager that disables graph recording (inference, optimizer updates).

    Examples
    --------
    >>> import profond
    >>> x = profond.tensor([1.0, 2.0], requires_grad=True)
    >>> with profond.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    previous = grad_mode.enabled
    grad_mode.enabled = False
    try:
        yield
    finally:
        grad_mode.enabled = previous


@contextlib.contextmanager
def enable_grad():
    """Context manager that re-enables graph recording inside a ``no_grad`` block."""
    previous = grad_mode.enabled
    grad_mode.enabled = True
    try:
        yield
    finally:
        grad_mode.enabled = previous


def _topological_order(root):
    """Nodes reachable from ``root`` that have a backward, parents before children."""
    order = []
    visited = {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._backward is not None and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent._parents)))
                break
        else:  # every parent placed: the node follows them
            stack.pop()
            order.append(node)
    return order


def run_backward(root, grad, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (d loss / d root) to every leaf that requires a gradient."""
    grads = {id(root): grad}
    # Buffers the engine allocated itself (sums of several contributions): safe to update in
    # place. Any other array may be referenced elsewhere (``a + b`` returns ``g`` to both
    # parents), so a second contribution to it is added out of place.
    owned = set()
    # Leaves whose .grad was set during this pass to an array a closure returned: the same
    # array may still be pending for another node, so the leaf's next contribution is added
    # out of place too (then the leaf owns its buffer).
    borrowed = set()
    given = set()  # ids of the arrays handed to leaves in this pass
    pop = grads.pop
    for node in reversed(_topological_order(root)):
        g = pop(id(node), None)
        if g is None:
            continue
        if owned:  # g may now be handed on (even to two parents): no longer ours to mutate
            owned.discard(id(g))
        parent_grads = node._backward(g)
        parents = node._parents
        if not retain_graph:
            node._backward = None
            node._parents = ()
        for parent, pg in zip(parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            if parent._backward is None:  # a leaf: accumulate into .grad
                current = parent.grad
                if current is None:
                    if pg is grad or pg.base is not None or id(pg) in given:
                        pg = pg.copy()
                    else:
                        borrowed.add(id(parent))
                    given.add(id(pg))
                    parent.grad = pg
                elif id(parent) in borrowed:
                    parent.grad = current + pg
                    borrowed.discard(id(parent))
                else:
                    parent.grad += pg  # through the attribute: numpy scalars are immutable
                continue
            key = id(parent)
            current = grads.get(key)
            if current is None:
                grads[key] = pg
            elif id(current) in owned:
                total = current
                total += pg
                if total is not current:  # a numpy scalar (0-d result) is immutable
                    owned.discard(id(current))
                    grads[key] = total
                    owned.add(id(total))
            else:
                total = current + pg
                owned.add(id(total))
                grads[key] = total
