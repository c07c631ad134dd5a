"""keras.io example "Simple custom layer example: Antirectifier" (fchollet), run on profond.

Source: https://keras.io/examples/keras_recipes/antirectifier/
(keras-team/keras-io, examples/keras_recipes/antirectifier.py)

Changed: ``import keras`` -> ``import profond as keras`` (and ``from keras import layers,
ops``); MNIST is replaced by scikit-learn's bundled 8 x 8 digits, each pixel repeated 3 x 3
and padded to 28 x 28 uint8 images, flattened to 784 as in the example; 600 training and 200
test images; 2 epochs instead of 20.
"""

import numpy as np
import profond as keras
from profond import layers, ops
from profond.datasets import load_digits

"""
## The Antirectifier layer
"""


class Antirectifier(layers.Layer):
    def __init__(self, initializer="he_normal", **kwargs):
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        output_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(output_dim * 2, output_dim),
            initializer=self.initializer,
            name="kernel",
            trainable=True,
        )

    def call(self, inputs):
        inputs -= ops.mean(inputs, axis=-1, keepdims=True)
        pos = ops.relu(inputs)
        neg = ops.relu(-inputs)
        concatenated = ops.concatenate([pos, neg], axis=-1)
        mixed = ops.matmul(concatenated, self.kernel)
        return mixed

    def get_config(self):
        # Implement get_config to enable serialization. This is optional.
        base_config = super().get_config()
        config = {"initializer": keras.initializers.serialize(self.initializer)}
        return dict(list(base_config.items()) + list(config.items()))


"""
## Let's test-drive it on MNIST
"""

# Training parameters
batch_size = 128
num_classes = 10
epochs = 2

# Offline stand-in for keras.datasets.mnist.load_data(): same shapes and dtype.
_images, _labels = load_digits(images=True)
_images = np.pad(np.kron(_images.reshape(-1, 8, 8), np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))
_images = (_images * (255 / 16)).astype("uint8")
(x_train, y_train), (x_test, y_test) = ((_images[:600], _labels[:600]),
                                        (_images[600:800], _labels[600:800]))

x_train = x_train.reshape(-1, 784)
x_test = x_test.reshape(-1, 784)
x_train = x_train.astype("float32")
x_test = x_test.astype("float32")
x_train /= 255
x_test /= 255
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

# Build the model
model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(256),
        Antirectifier(),
        layers.Dense(256),
        Antirectifier(),
        layers.Dropout(0.5),
        layers.Dense(10),
    ]
)

# Compile the model
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)

# Train the model
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                    validation_split=0.15)

# Test the model
results = model.evaluate(x_test, y_test)
