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
    visited = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent._backward is not None and id(parent) not in visited:
                stack.append((parent, False))
    return order


def run_backward(root, grad, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (d loss / d root) to every leaf that requires a gradient."""
    grads = {id(root): grad}
    owned = set()  # ids of buffers the engine allocated itself: safe to update in place
    given_to_leaves = set()
    # Leaves whose .grad is an array handed over by a backward closure during this pass: it may
    # still be pending for another node (``a + b`` returns ``g`` to both parents), so the next
    # contribution to such a leaf is added out of place, never with ``+=``.
    borrowed = set()
    for node in reversed(_topological_order(root)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        owned.discard(id(g))
        parent_grads = node._backward(g)
        for parent, pg in zip(node._parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            if parent._backward is None:  # a leaf: accumulate into .grad
                if parent.grad is None:
                    if id(pg) in given_to_leaves or pg.base is not None or pg is grad:
                        pg = pg.copy()
                    else:
                        borrowed.add(id(parent))
                    given_to_leaves.add(id(pg))
                    parent.grad = pg
                elif id(parent) in borrowed:
                    parent.grad = parent.grad + pg
                    borrowed.discard(id(parent))
                else:
                    parent.grad += pg
                continue
            key = id(parent)
            current = grads.get(key)
            if current is None:
                grads[key] = pg
            elif id(current) in owned:
                current += pg
            else:
                total = current + pg
                owned.add(id(total))
                grads[key] = total
        if not retain_graph:
            node._backward = None
            node._parents = ()
