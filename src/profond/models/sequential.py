"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from profond.autograd.tensor import Tensor
from profond.layers.base import InputLayer, KerasTensor, Layer
from profond.layers.masks import get_mask
from profond.layers.pooling import call_relu_pool, relu_pool_fusable
from profond.models.model import Model

__all__ = ["Sequential"]


def _input_layer_of(item):
    """``Input(shape)`` returns a symbolic tensor: in a stack, it stands for its InputLayer."""
    if isinstance(item, KerasTensor) and item._keras_history is not None and \
            isinstance(item._keras_history[0], InputLayer):
        return item._keras_history[0]
    return item


class Sequential(Model):
    """A linear stack of layers.

    Parameters
    ----------
    layers : list of Layer, optional
        The first may be an ``Input(shape)``, or carry ``input_shape=``, so that the model is
        built at once (and ``summary()`` works before training).
    name : str, optional

    Examples
    --------
    >>> from profond import Sequential, layers
    >>> model = Sequential([layers.Input((64,)), layers.Dense(32, activation="relu"),
    ...                     layers.Dense(10, activation="softmax")])
    >>> model.count_params()
    2410
    """

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._stack: list[Layer] = []
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    def add(self, layer, rebuild=True) -> None:
        """Append a layer to the stack (an ``Input(shape)`` as the first one)."""
        layer = _input_layer_of(layer)
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer. Got {type(layer).__name__}: "
                            f"{layer!r}.")
        if any(layer is other for other in self._stack):
            raise ValueError(f"Layer '{layer.name}' is already in this model.")
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError("An Input can only be the first layer of a Sequential model.")
        self._stack.append(layer)
        self._track(layer)
        if rebuild:
            self._maybe_build()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise ValueError("There are no layers in this model to pop.")
        layer = self._stack.pop()
        self._sublayers.remove(layer)
        self.built = False
        self._maybe_build()
        return layer

    @property
    def layers(self) -> list:
        """The layers of the stack (without a leading ``Input``)."""
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def replace_layers(self, layers) -> None:
        """Put ``layers`` in place of the model's layers, in place: the model object stays.

        What refers to the model (a ``fit`` under way and its callbacks, the compile settings)
        goes on with the new layers; structured pruning swaps smaller layers into a model
        this way while it trains (:class:`~profond.pruning.NeuronPruning`). A leading
        ``Input`` stays. Layers not built yet are built for the model's input shape; if that
        fails, the model keeps its old layers. The optimizer gives the new weights fresh
        state (momentum, moments) at their first update, while kept layers keep theirs; to
        carry state over to smaller weights, slice it as :func:`~profond.pruning.adopt_layers`
        does.

        Parameters
        ----------
        layers : list of Layer
            The new stack, without an ``Input`` (as :attr:`layers` lists it). Layers of the
            current stack may be kept by passing them again.

        Raises
        ------
        TypeError
            When an element is not a ``Layer``.
        ValueError
            When an element is an ``Input`` or appears twice, or when a new layer cannot be
            built for its input shape.

        Examples
        --------
        >>> from profond import Sequential, layers
        >>> model = Sequential([layers.Input((4,)), layers.Dense(8, name="hidden"),
        ...                     layers.Dense(1)])
        >>> model.replace_layers([layers.Dense(2, name="hidden"), layers.Dense(1)])
        >>> [layer.units for layer in model.layers], model.count_params()
        ([2, 1], 13)
        """
        layers = [_input_layer_of(layer) for layer in layers]
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"The 'layers' parameter of Sequential.replace_layers must be "
                                f"a list of Layer. Got {type(layer).__name__} at position {i}: "
                                f"{layer!r}.")
            if isinstance(layer, InputLayer):
                raise ValueError("The 'layers' parameter of Sequential.replace_layers must not "
                                 "hold an Input: the model keeps its own. Got one at position "
                                 f"{i}.")
            if any(layer is other for other in layers[:i]):
                raise ValueError(f"The 'layers' parameter of Sequential.replace_layers holds "
                                 f"layer '{layer.name}' twice.")
        head = [layer for layer in self._stack[:1] if isinstance(layer, InputLayer)]
        old_stack, old_sublayers, old_built = list(self._stack), list(self._sublayers), self.built
        shape = self._build_input_shape
        self._sublayers[:] = [s for s in self._sublayers
                              if not any(s is old for old in old_stack[len(head):])]
        self._stack[:] = head + layers
        for layer in layers:
            self._track(layer)
        self.built = False
        try:
            if shape is not None:
                self.build(shape)
            else:
                self._maybe_build()
        except Exception:
            self._stack[:], self._sublayers[:], self.built = old_stack, old_sublayers, old_built
            raise
        self._cache_step_state()  # the training step's cached weight lists

    @property
    def input_shape(self):
        """Shape of the model's inputs, batch axis first (``None`` where unknown): the shape it
        was built for, else the one its ``Input`` declares; None when neither is known.

        Examples
        --------
        >>> from profond import Sequential, layers
        >>> Sequential([layers.Input((28, 28, 1)), layers.Flatten()]).input_shape
        (None, 28, 28, 1)
        """
        if self._build_input_shape is not None:
            return tuple(self._build_input_shape)
        return self._input_shape()

    @property
    def output_shape(self):
        """Shape of the model's outputs (batch axis ``None``), from its input shape; None when
        that is not known yet.

        Examples
        --------
        >>> from profond import Sequential, layers
        >>> Sequential([layers.Input((28, 28, 1)), layers.Flatten()]).output_shape
        (None, 784)
        """
        shape = self.input_shape
        return None if shape is None else self.compute_output_shape(shape)

    def _input_shape(self):
        if not self._stack:
            return None
        first = self._stack[0]
        if isinstance(first, InputLayer):
            return (first.batch_size,) + tuple(first.shape)
        if first._input_shape_arg is not None:
            return (None,) + tuple(first._input_shape_arg)
        return None

    def _maybe_build(self):
        shape = self._input_shape()
        if shape is not None and len(self._stack) > (1 if isinstance(self._stack[0],
                                                                      InputLayer) else 0):
            self.build(shape)

    def build(self, input_shape=None):
        """Build each layer in turn, recording its output shape."""
        shape = tuple(input_shape) if input_shape is not None else self._input_shape()
        if shape is None:
            raise ValueError("Sequential.build needs an input shape: call build((None, ...)), "
                             "start the model with Input(shape), or call it on data.")
        for layer in self._stack:
            if not layer.built:
                layer._build_input_shape = shape
                layer.build(shape)
                layer.built = True
            shape = tuple(layer.compute_output_shape(shape))
            layer._output_shape = shape
        self._build_input_shape = tuple(input_shape) if input_shape is not None else \
            self._input_shape()
        self.built = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        stack = self._stack
        i = 0
        while i < len(stack):
            layer = stack[i]
            if i + 1 < len(stack) and isinstance(x, Tensor) and \
                    relu_pool_fusable(layer, stack[i + 1]):
                # Conv(relu) then MaxPooling: the ReLU runs on the pooled output (nothing else
                # reads the convolution's output in a stack; see call_relu_pool)
                x = call_relu_pool(layer, stack[i + 1], x, training, mask)
                i += 1
            else:
                x = layer(x, training=training, mask=mask)
            mask = get_mask(x)
            i += 1
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._stack:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def get_config(self):
        from profond.layers import serialize

        config = {"name": self.name, "trainable": self._trainable,
                  "layers": [serialize(layer) for layer in self._stack]}
        if self._build_input_shape is not None:
            config["build_input_shape"] = [None if d is None else int(d)
                                           for d in self._build_input_shape]
        return config

    @classmethod
    def from_config(cls, config):
        from profond.layers import deserialize

        config = dict(config)
        layers = [deserialize(c) for c in config.pop("layers", [])]
        shape = config.pop("build_input_shape", None)
        model = cls(layers, **config)
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model
