"""The ``Layer`` base class: Keras's contract on profond's tensors.

``__init__`` validates and stores the configuration; ``build(input_shape)`` creates the weights
with ``add_weight`` the first time the layer sees data; ``call(inputs, training=None)``
computes; ``get_config()``/``from_config()`` round-trip the configuration. Layers assigned as
attributes of a layer (or model) are tracked, so their weights belong to it.
"""

from __future__ import annotations

import inspect
import re

import numpy as np

from profond import backend, dtype_policies, initializers, regularizers
from profond._structure import map_structure
from profond.autograd.tensor import Tensor, Variable
from profond.layers._dtypes import DTypeAttributes
from profond.layers.masks import get_mask, set_mask
from profond.layers.symbolic import KerasTensor, Node, is_symbolic, symbolic_call

__all__ = ["Layer", "InputLayer", "Input", "KerasTensor", "to_tensor", "shape_of"]

_NAME_COUNTS: dict[str, int] = {}
# Set once any layer calls add_loss: models then gather added losses at every step.
_LOSSES_ADDED = [False]


def losses_were_added() -> bool:
    """Whether any layer has called :meth:`Layer.add_loss` in this process."""
    return _LOSSES_ADDED[0]


def _snake(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(base: str) -> str:
    """``dense``, ``dense_1``, ``dense_2`` ... as Keras numbers its layers."""
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def to_tensor(x):
    """Data given to a layer as a Tensor (arrays converted; float data to the default dtype)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple, dict)):
        raise TypeError(f"The 'x' parameter of to_tensor must be a single array. Got a "
                        f"{type(x).__name__} instead.")
    return Tensor(x)


def shape_of(x):
    """Shape of a tensor, or a nested structure of shapes."""
    if isinstance(x, (list, tuple)):
        return type(x)(shape_of(i) for i in x)
    if isinstance(x, dict):
        return {k: shape_of(v) for k, v in x.items()}
    return tuple(x.shape)


class Layer(DTypeAttributes):
    """Base class of all layers.

    Parameters
    ----------
    trainable : bool, default True
        Whether the layer's weights are updated by training.
    name : str, optional
        Unique name; by default the class name in snake case, numbered.
    dtype : str, numpy dtype, DTypePolicy or dict, optional
        The layer's dtype policy (Keras's): ``"float32"`` or ``"float64"``, a
        :class:`~profond.dtype_policies.DTypePolicy` or the dict Keras writes for one. The
        weights are created in it and floating inputs are cast to it, so the layer computes and
        returns that dtype; integer inputs stay integers. None follows the default float dtype
        (:func:`profond.config.floatx`): weights in it when built, inputs not cast (as
        before dtype policies, so NumPy's promotion decides). Mixed precision is refused.
    input_shape : tuple, optional
        Shape of one sample, for the first layer of a ``Sequential`` (Keras's convention).

    Examples
    --------
    A layer that scales its input by a learned vector:

    >>> import profond
    >>> from profond.layers import Layer
    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
    ...     def call(self, inputs):
    ...         return inputs * self.w
    >>> Scale()(profond.tensor([[1.0, 2.0]])).shape
    (1, 2)
    """

    _call_signature_cache: dict = {}

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None,
                 input_shape=None, input_dim=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{sorted(kwargs)}.")
        object.__setattr__(self, "_sublayers", [])
        self.name = name or unique_name(_snake(type(self).__name__))
        self._trainable = bool(trainable)
        self._init_dtype(dtype)
        self.built = False
        self._own_weights: list[Variable] = []
        self.supports_masking = False
        self.activity_regularizer = None
        self._activity_losses: list = []
        self._build_input_shape = None
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None

    # --- tracking --------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, Layer) and name != "_parent":
            self._track(value)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer)
                                                                 for v in value):
            for v in value:
                self._track(v)
        object.__setattr__(self, name, value)

    def _track(self, layer):
        subs = self.__dict__.get("_sublayers")
        if subs is None:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               "before assigning layers.")
        if all(layer is not s for s in subs):
            subs.append(layer)

    @property
    def layers(self) -> list:
        """Directly tracked sub-layers, in assignment order."""
        return list(self._sublayers)

    def flatten_layers(self, include_self: bool = True, recursive: bool = True) -> list:
        """This layer and every layer nested in it, each once, breadth first.

        Parameters
        ----------
        include_self : bool, default True
            Start the list with this layer.
        recursive : bool, default True
            Go down every level (False: the direct sub-layers only).

        Examples
        --------
        >>> from profond import layers
        >>> outer = layers.Layer(name="outer")
        >>> outer.inner = layers.Layer(name="inner")
        >>> outer.inner.leaf = layers.Layer(name="leaf")
        >>> [layer.name for layer in outer.flatten_layers()]
        ['outer', 'inner', 'leaf']
        >>> [layer.name for layer in outer.flatten_layers(include_self=False, recursive=False)]
        ['inner']
        """
        found, seen, queue = [], {id(self)}, list(self._sublayers)
        if include_self:
            found.append(self)
        for layer in queue:  # the queue grows while it is read: breadth first
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            found.append(layer)
            if recursive:
                queue.extend(layer._sublayers)
        return found

    # --- weights ---------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None) -> Variable:
        """Create a weight, initialise it and register it with the layer.

        ``constraint`` is anything :func:`profond.constraints.get` takes (``"non_neg"``, a
        config dict, a ``Constraint``, a callable ``fn(w) -> w``); the optimizer applies it
        after every update.
        """
        # The same resolution, and error message, as the layers' ``*_constraint`` arguments.
        from profond.layers._weight_arguments import resolve_constraint

        shape = () if shape is None else tuple(int(s) for s in shape)
        constraint = resolve_constraint(constraint, "constraint",
                                        f"add_weight (layer '{self.name}')")
        init = initializers.get(initializer)
        dtype = np.dtype(dtype or self.variable_dtype).name
        value = init(shape, dtype=dtype)
        if tuple(value.shape) != shape:
            raise ValueError(f"The 'initializer' parameter of add_weight (layer '{self.name}') "
                             f"must give an array of the weight's shape {shape}. Got {init!r}, "
                             f"which gave shape {value.shape} for weight '{name}' instead.")
        # In the asked dtype even when a user's initializer returns another (NumPy's float64)
        var = Variable(value, dtype=dtype, name=name or f"variable_{len(self._own_weights)}",
                       trainable=trainable and self._trainable,
                       regularizer=regularizers.get(regularizer), constraint=constraint)
        var.trainable = trainable
        var.path = f"{self.name}/{var.name}"
        self._own_weights.append(var)
        return var

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool):
        self._trainable = bool(value)
        for layer in self._sublayers:
            layer.trainable = value
        for v in self._own_weights:
            v.requires_grad = bool(value) and v.trainable

    def _all_weights(self, seen):
        out = []
        own = [v for v in self._own_weights if v.trainable] + \
              [v for v in self._own_weights if not v.trainable]
        for v in own:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for layer in self._sublayers:
            out.extend(layer._all_weights(seen))
        return out

    @property
    def weights(self) -> list:
        """All weights: this layer's (trainable first, as Keras), then its sub-layers'."""
        return self._all_weights(set())

    @property
    def trainable_weights(self) -> list:
        if not self._trainable:
            return []
        return [v for v in self.weights if v.trainable and v.requires_grad]

    @property
    def non_trainable_weights(self) -> list:
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    trainable_variables = trainable_weights
    variables = weights

    def get_weights(self) -> list:
        """The weights as NumPy arrays, in Keras order."""
        return [v.numpy().copy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Set the weights from NumPy arrays in Keras order (shapes must match)."""
        current = self.weights
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError(f"The 'weights' parameter of set_weights (layer '{self.name}') "
                             f"must hold {len(current)} weight arrays "
                             f"({[tuple(v.shape) for v in current]}). Got {len(weights)} "
                             "instead.")
        for var, value in zip(current, weights):
            value = backend.to_numpy(value.data if isinstance(value, Tensor) else value)
            if value.dtype.kind not in "biuf":  # bool, integers, floats cast to the weight's
                raise ValueError(f"The 'weights' parameter of set_weights (layer '{self.name}') "
                                 f"must give weight '{var.path}' a numeric array. Got an array "
                                 f"of dtype {value.dtype} instead.")
            if tuple(value.shape) != tuple(var.shape):
                raise ValueError(f"The 'weights' parameter of set_weights (layer '{self.name}') "
                                 f"must give weight '{var.path}' an array of its shape "
                                 f"{tuple(var.shape)}. Got shape {value.shape} instead.")
            var.assign(value)

    def count_params(self) -> int:
        """Total number of scalar weights (the layer must be built)."""
        if not self.built:
            raise ValueError(f"Layer '{self.name}' is not built yet: call it on data or build "
                             "it (e.g. model.build(input_shape)) before counting parameters.")
        return int(sum(v.size for v in self.weights))

    # --- calling ---------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis included)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement call().")

    def compute_mask(self, inputs, mask=None):
        """Output mask: passed through when the layer supports masking, else dropped."""
        return mask if self.supports_masking else None

    @classmethod
    def _call_accepts(cls):
        flags = Layer._call_signature_cache.get(cls)
        if flags is None:
            params = inspect.signature(cls.call).parameters
            var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
            flags = ("training" in params or var_kw, "mask" in params or var_kw)
            Layer._call_signature_cache[cls] = flags
        return flags

    def __call__(self, inputs, *args, training=None, mask=None, **kwargs):
        # Runs for every layer at every step: the common case (one tensor in, no mask) takes
        # the shortest path; structures and masks the general one.
        if isinstance(inputs, Tensor):
            if mask is None:
                mask = get_mask(inputs)
        elif isinstance(inputs, KerasTensor) or is_symbolic(inputs):
            return self._symbolic_call(inputs, args, training, mask, kwargs)
        else:
            inputs = map_structure(self._as_tensor, inputs)  # to_tensor, in the layer's dtype
        if self._dtype_policy is not None and self._autocast:
            inputs, args, kwargs = self._cast_inputs(inputs, args, kwargs)
        if not self.built:
            self._build_input_shape = shape_of(inputs)
            self.build(self._build_input_shape)
            self.built = True
        accepts_training, accepts_mask = Layer._call_signature_cache.get(type(self)) or \
            self._call_accepts()
        if accepts_training:
            kwargs["training"] = training
        if accepts_mask and mask is not None:
            kwargs["mask"] = mask
        outputs = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            self._activity_losses.append(map_structure(self._activity_penalty, outputs))
        if mask is not None or type(self).compute_mask is not Layer.compute_mask:
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None and isinstance(outputs, Tensor):
                set_mask(outputs, out_mask)
        return outputs

    def _activity_penalty(self, output):
        # Keras 3 divides the penalty by the batch size, so its strength does not depend on it.
        loss = self.activity_regularizer(output)
        return loss / output.shape[0] if output.ndim > 0 and output.shape[0] else loss

    def _symbolic_call(self, inputs, args, training, mask, kwargs):
        """A call on symbolic tensors records the graph (see :mod:`profond.layers.symbolic`)."""
        given = dict(kwargs)
        if training is not None:
            given["training"] = training
        if mask is not None:
            given["mask"] = mask
        custom = type(self).compute_output_shape is not Layer.compute_output_shape
        return symbolic_call(self, (inputs, *args), given, custom_shape=custom)

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape``, found by running the layer on a batch of zeros."""
        from profond.autograd.engine import no_grad

        def zeros(shape):
            return Tensor(backend.xp().zeros(tuple(1 if d is None else d for d in shape),
                                             dtype=backend.floatx()))

        probe = map_structure(zeros, input_shape) if not isinstance(input_shape, tuple) or \
            any(isinstance(s, tuple) for s in input_shape) else zeros(input_shape)
        with no_grad():
            out = self(probe, training=False)
        shapes = shape_of(out)

        def restore(s):
            return (input_shape[0] if isinstance(input_shape, tuple) and input_shape
                    and not isinstance(input_shape[0], tuple) else None,) + tuple(s[1:])

        return map_structure(restore, shapes) if not isinstance(shapes, tuple) or \
            any(isinstance(s, tuple) for s in shapes) else restore(shapes)

    @property
    def losses(self) -> list:
        """Penalties of this layer and its sub-layers: weight regularizers and activity terms."""
        out = []
        for v in self.weights:
            if v.regularizer is not None and v.trainable:
                out.append(v.regularizer(v))
        out.extend(self._collect_activity_losses())
        return out

    def add_loss(self, loss):
        """Add ``loss`` (a scalar tensor computed in ``call`` from the layer's inputs or
        weights) to the loss that training minimises, as Keras's ``add_loss``: a VAE's KL
        term, an auxiliary penalty. The terms of a step are summed with the compiled loss and
        cleared before the next step; :attr:`losses` lists them.

        Examples
        --------
        >>> import numpy as np, profond
        >>> from profond import layers, ops
        >>> class Sparse(layers.Layer):
        ...     def call(self, inputs):
        ...         self.add_loss(0.1 * ops.mean(ops.abs(inputs)))
        ...         return inputs
        >>> model = profond.Sequential([layers.Input((2,)), Sparse()])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> round(float(model.evaluate(np.ones((4, 2)), np.ones((4, 2)), verbose=0)), 6)
        0.1
        """
        _LOSSES_ADDED[0] = True
        self._activity_losses.append(loss)

    def _collect_activity_losses(self):
        out = list(self._activity_losses)
        for layer in self._sublayers:
            out.extend(layer._collect_activity_losses())
        return out

    def _clear_activity_losses(self):
        self._activity_losses = []
        for layer in self._sublayers:
            layer._clear_activity_losses()

    # --- configuration ---------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments, as plain JSON-friendly values."""
        config = {"name": self.name, "trainable": self._trainable}
        if self._dtype_policy is not None:  # as Keras writes it: the policy's dict
            config["dtype"] = dtype_policies.serialize(self._dtype_policy)
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict):
        """Re-create a layer from ``get_config()``'s output."""
        return cls(**config)

    def get_build_config(self) -> dict | None:
        """The input shape the layer was built for, as ``{"input_shape": shape}`` (Keras's
        ``build_config``; None when it was not built by a call); :meth:`build_from_config`
        builds a twin from it."""
        if not self.built or self._build_input_shape is None:
            return None
        return {"input_shape": _shape_config(self._build_input_shape)}

    def build_from_config(self, config: dict) -> None:
        """Create the weights as :meth:`get_build_config`'s layer had them.

        Examples
        --------
        >>> import profond
        >>> from profond import layers
        >>> dense = layers.Dense(3)
        >>> _ = dense(profond.tensor([[1.0, 2.0]]))
        >>> twin = layers.Dense.from_config(dense.get_config())
        >>> twin.build_from_config(dense.get_build_config())
        >>> [w.shape for w in twin.get_weights()]
        [(2, 3), (3,)]
        """
        if config and config.get("input_shape") is not None:
            shape = _shape_from_config(config["input_shape"])
            self._build_input_shape = shape
            self.build(shape)
            self.built = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def _shape_config(shape):
    """A shape (or nested shapes) as JSON lists, the batch size left open (None), as Keras."""
    if isinstance(shape, (tuple, list)) and shape and \
            all(isinstance(s, (tuple, list)) for s in shape):
        return [_shape_config(s) for s in shape]
    return [None] + [None if d is None else int(d) for d in list(shape)[1:]]


def _shape_from_config(shape):
    """Lists back to tuples: a list of ints (or None) is one shape, a list of lists several."""
    if isinstance(shape, list) and any(isinstance(s, list) for s in shape):
        return [_shape_from_config(s) for s in shape]
    return tuple(shape)


class InputLayer(Layer):
    """The entry of a model: the shape of one sample (no weights).

    ``Input(shape)`` makes one and returns its symbolic output, which starts a functional
    model (``Model(inputs, outputs)``) or a ``Sequential``. The arguments are Keras's.

    Parameters
    ----------
    shape : tuple of int or None
        Shape of one sample, without the batch axis.
    batch_size : int, optional
    dtype : str, optional
        The inputs' dtype (the backend's float dtype by default).
    batch_shape : tuple, optional
        The whole shape, batch axis first, in place of ``shape`` and ``batch_size``.
    name : str, optional
    sparse, ragged, optional : bool
        Keras's; profond's inputs are dense, regular and required, so they must be False.
    """

    _autocast = False  # its dtype is the data's, not a policy: the next layer casts

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, name=None, optional=False, **kwargs):
        kwargs.pop("input_tensor", None)
        if "batch_input_shape" in kwargs:  # Keras 2's name
            batch_shape = kwargs.pop("batch_input_shape")
        for flag, value in (("sparse", sparse), ("ragged", ragged), ("optional", optional)):
            if value:
                raise ValueError(f"The '{flag}' parameter of InputLayer must be False: profond's "
                                 f"inputs are dense, regular and required. Got {value!r} "
                                 "instead.")
        if shape is not None and batch_shape is not None:
            raise ValueError("The 'shape' parameter of InputLayer must be left out when "
                             f"batch_shape is given. Got shape={shape!r} and "
                             f"batch_shape={batch_shape!r} instead.")
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("The 'shape' parameter of InputLayer must be given (shape of one "
                             "sample, without the batch axis). Got None instead.")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if not all(d is None or (isinstance(d, (int, np.integer)) and d > 0) for d in shape):
            raise ValueError("The 'shape' parameter of InputLayer must be a tuple of positive "
                             f"ints or None. Got {shape!r} instead.")
        shape = tuple(None if d is None else int(d) for d in shape)
        super().__init__(name=name, dtype=None, input_shape=shape, **kwargs)
        self.shape = shape
        self.batch_size = batch_size
        self._input_dtype = np.dtype(dtype or backend.floatx()).name
        self.built = True
        self._build_input_shape = (batch_size,) + shape
        self.output = KerasTensor((batch_size,) + shape, self._input_dtype, name=self.name)
        Node(self, (), {}, self.output)

    @property
    def dtype(self) -> str:
        """The inputs' dtype (Keras's ``InputLayer.dtype``)."""
        return self._input_dtype

    input_dtype = compute_dtype = dtype

    @property
    def batch_shape(self) -> tuple:
        return (self.batch_size,) + self.shape

    def call(self, inputs):
        expected = self.shape
        got = tuple(inputs.shape[1:])
        if len(got) != len(expected) or any(e is not None and e != g
                                            for e, g in zip(expected, got)):
            raise ValueError(f"Input of layer '{self.name}' must have samples of shape "
                             f"{expected}. Got data of shape {tuple(inputs.shape)} instead.")
        return inputs

    def get_build_config(self):
        return None

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self._input_dtype,
                "sparse": False, "ragged": False, "name": self.name, "optional": False}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None,  # noqa: N802
          sparse=None, ragged=None, optional=False):
    """A symbolic tensor that starts a model: ``Model(inputs, outputs)`` or ``Sequential``.

    Parameters
    ----------
    shape : tuple of int or None
        Shape of one sample, without the batch axis (``None`` for an axis of any size).
    batch_size : int, optional
    dtype : str, optional
        The inputs' dtype (the backend's float dtype by default; ``"int32"`` for indices).
    name : str, optional
        Also the key of this input in a dict of inputs.
    batch_shape : tuple, optional
        The whole shape, batch axis first, in place of ``shape`` and ``batch_size``.
    sparse, ragged, optional : bool
        Keras's; must be False.

    Returns
    -------
    KerasTensor
        Shape ``(batch_size, *shape)``, made by an :class:`InputLayer`.

    Examples
    --------
    >>> import profond
    >>> from profond import layers
    >>> inputs = layers.Input((4,), name="x")
    >>> inputs.shape
    (None, 4)
    >>> model = profond.Model(inputs, layers.Dense(2)(inputs))
    >>> model.output_shape
    (None, 2)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                       batch_shape=batch_shape, sparse=sparse, ragged=ragged,
                       optional=optional)
    return layer.output
