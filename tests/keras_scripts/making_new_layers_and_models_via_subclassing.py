"""keras.io guide "Making new layers and models via subclassing" (fchollet), on profond.

Source: https://keras.io/guides/making_new_layers_and_models_via_subclassing/
(keras-team/keras-io, guides/making_new_layers_and_models_via_subclassing.py)

Changed: ``import keras`` -> ``import profond as keras`` (and ``from keras import layers,
ops``). Kept: weights made in ``__init__`` and in ``build``, a non-trainable weight updated with
``assign_add``, nested layers, ``get_config``/``from_config``, a layer with a ``training``
argument. Left out: the sections built on ``Layer.add_loss`` (ActivityRegularizationLayer,
OuterLayer, the end-to-end variational autoencoder), which profond's layers do not have, and
``keras.random.SeedGenerator``: the ``CustomDropout`` layer calls profond's
``ops.dropout(inputs, rate=...)`` where the guide calls ``keras.random.dropout(inputs,
rate=..., seed=self.seed_generator)`` (profond has no dropout in its random module, which sits
below the ops). At the end, the
layers train in a functional model on 64 constant samples for 3 epochs.
"""

import numpy as np
import profond as keras
from profond import ops

"""
## The `Layer` class: the combination of state (weights) and some computation
"""


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


x = ops.ones((2, 2))
linear_layer = Linear(4, 2)
y = linear_layer(x)
print(y)

assert linear_layer.weights == [linear_layer.w, linear_layer.b]

"""
## Layers can have non-trainable weights
"""


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(
            initializer="zeros", shape=(input_dim,), trainable=False
        )

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


x = ops.ones((2, 2))
my_sum = ComputeSum(2)
y = my_sum(x)
print(y.numpy())
y = my_sum(x)
print(y.numpy())
sum_after_two_calls = y.numpy().copy()

print("weights:", len(my_sum.weights))
print("non-trainable weights:", len(my_sum.non_trainable_weights))

# It's not included in the trainable weights:
print("trainable_weights:", my_sum.trainable_weights)

"""
## Best practice: deferring weight creation until the shape of the inputs is known
"""


class Linear(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


# At instantiation, we don't know on what inputs this is going to get called
linear_layer = Linear(32)

# The layer's weights are created dynamically the first time the layer is called
y = linear_layer(x)

"""
## Layers are recursively composable
"""


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


mlp = MLPBlock()
y = mlp(ops.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
print("weights:", len(mlp.weights))
print("trainable weights:", len(mlp.trainable_weights))

"""
## You can optionally enable serialization on your layers
"""


class Linear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


layer = Linear(64)
config = layer.get_config()
print(config)
new_layer = Linear.from_config(config)

"""
## Privileged `training` argument in the `call()` method
"""


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return ops.dropout(inputs, rate=self.rate)
        return inputs


"""
## The `Model` class
"""

inputs = keras.Input(shape=(64,))
x = Linear(32, name="hidden")(inputs)
x = CustomDropout(0.5)(x)
outputs = MLPBlock()(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="mse")
history = model.fit(np.ones((64, 64)), np.zeros((64, 1)), epochs=3, verbose=0)
