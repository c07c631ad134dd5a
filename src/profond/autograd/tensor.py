"""The ``Tensor``: an array, its gradient, and the node that made it.

Operators and methods (``+``, ``@``, ``.sum()``, ``.reshape()`` ...) are the differentiable
functions of this package, bound onto the class by the table in :mod:`profond.autograd.operators`
(which ``profond.autograd`` imports).
"""

from __future__ import annotations

from profond import backend
from profond.autograd import engine

__all__ = ["Tensor", "tensor", "Variable"]


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    Create tensors with :func:`profond.tensor`. A tensor made by an operation on tensors that
    require gradients keeps a reference to its parents and a closure computing their gradients;
    ``backward()`` runs those closures in reverse order.

    Attributes
    ----------
    data : ndarray
        The values (NumPy array on the CPU, CuPy array on a GPU).
    grad : ndarray or None
        d(output)/d(self) accumulated by ``backward`` (leaves only).
    requires_grad : bool
        Whether operations on this tensor are recorded.
    """

    # _activation_input: None, or an ``ActivationInput(kind, logits, axis)`` that softmax and
    # sigmoid leave on their output so that a cross-entropy can run on the logits instead.
    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_activation_input",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        arr = backend.asarray(data, dtype=dtype)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"The 'data' argument of tensor must hold numbers (bool, int or "
                            f"float). Got dtype {arr.dtype}.")
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                "Only floating-point tensors can require gradients. Got dtype "
                f"{arr.dtype} (pass dtype='float32' or float data)."
            )
        self.data = arr
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = ()
        self._backward = None
        self._activation_input = None

    @classmethod
    def _make(cls, data, parents=(), backward=None):
        """Fast constructor used by ops: records the node only when a gradient is needed."""
        out = object.__new__(Tensor)
        out.data = data
        out.grad = None
        out._activation_input = None
        if backward is not None and engine.grad_mode.enabled:
            for p in parents:
                if p.requires_grad:
                    out.requires_grad = True
                    out._parents = parents
                    out._backward = backward
                    return out
        out.requires_grad = False
        out._parents = ()
        out._backward = None
        return out

    # --- array-like properties -------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    @property
    def xp(self):
        """The array module holding this tensor's data."""
        return backend.get_array_module(self.data)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def numpy(self):
        """The values as a NumPy array (a copy from the GPU, a view on the CPU)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape "
                             f"{self.data.shape}.")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._make(self.data)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self) -> str:
        body = repr(self.numpy()).replace("array(", "tensor(", 1)
        if self.requires_grad:
            body = body[:-1] + ", requires_grad=True)"
        return body

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__

    # --- autograd ----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires a gradient.

        Parameters
        ----------
        grad : array-like, optional
            Gradient of a final scalar with respect to this tensor. May be omitted only when
            this tensor has a single element (it is then 1).
        retain_graph : bool, default False
            Keep the graph so that ``backward`` can run through it again; by default the
            graph is freed as it is traversed.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under profond.no_grad())."
            )
        xp = self.xp
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a 'grad' argument needs a one-element tensor; this one "
                    f"has shape {self.data.shape}. Reduce it (e.g. .sum()) or pass grad."
                )
            grad = xp.ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else grad
            grad = xp.asarray(grad, dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(f"The 'grad' argument of backward must have shape "
                                 f"{self.data.shape}. Got {grad.shape} instead.")
        if self._backward is None:  # a leaf: its gradient is the seed itself
            self.grad = grad.copy() if self.grad is None else self.grad + grad
            return
        engine.run_backward(self, grad, retain_graph=retain_graph)

    def zero_grad(self) -> None:
        self.grad = None


class Variable(Tensor):
    """A trainable tensor owned by a layer (Keras's ``Variable``).

    Attributes
    ----------
    name : str
        Name given by the layer (``"kernel"``, ``"bias"`` ...); ``path`` adds the layer's name.
    trainable : bool
        Whether optimizers update it (``requires_grad`` follows it).
    regularizer : callable or None
        Penalty added to the training loss.
    """

    __slots__ = ("name", "path", "trainable", "regularizer", "constraint")

    def __init__(self, data, name: str = "variable", trainable: bool = True,
                 regularizer=None, constraint=None, dtype=None):
        super().__init__(data, requires_grad=trainable, dtype=dtype)
        self.name = name
        self.path = name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    def assign(self, value) -> None:
        """Copy ``value`` into this variable in place (shape must match)."""
        value = value.data if isinstance(value, Tensor) else value
        xp = self.xp
        value = xp.asarray(value, dtype=self.data.dtype) if backend.get_array_module(value) is xp \
            else backend.asarray(value, dtype=self.data.dtype)
        if value.shape != self.data.shape:
            raise ValueError(f"Cannot assign a value of shape {value.shape} to variable "
                             f"'{self.path}' of shape {self.data.shape}.")
        self.data[...] = value

    def assign_add(self, value) -> None:
        """Add ``value`` to this variable in place (Keras's ``Variable.assign_add``)."""
        value = value.data if isinstance(value, Tensor) else value
        self.assign(self.data + self.xp.asarray(value, dtype=self.data.dtype))

    def assign_sub(self, value) -> None:
        """Subtract ``value`` from this variable in place (Keras's ``Variable.assign_sub``)."""
        value = value.data if isinstance(value, Tensor) else value
        self.assign(self.data - self.xp.asarray(value, dtype=self.data.dtype))

    def __repr__(self) -> str:
        return f"<Variable {self.path} shape={self.data.shape} dtype={self.data.dtype}>"


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Create a :class:`Tensor` on the current backend.

    Parameters
    ----------
    data : array-like
        Values; Python floats and float arrays become the default float dtype (float32)
        unless ``dtype`` says otherwise; integer and boolean data keep their dtype.
    requires_grad : bool, default False
        Record operations on it so that ``backward`` computes its gradient.
    dtype : str or dtype, optional

    Examples
    --------
    >>> import profond
    >>> x = profond.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([[2., 4.],
           [6., 8.]], dtype=float32)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
