"""keras.io example "Simple MNIST convnet" (fchollet), run on profond.

Source: https://keras.io/examples/vision/mnist_convnet/
(keras-team/keras-io, examples/vision/mnist_convnet.py)

Changed: ``import keras`` -> ``import profond as keras`` (and ``from keras import layers`` ->
``from profond import layers``); MNIST (downloaded by ``keras.datasets.mnist.load_data()``) is
replaced by scikit-learn's bundled 8 x 8 digits, each pixel repeated 3 x 3 and padded to the
same 28 x 28 uint8 images; 600 training and 200 test images; 2 epochs instead of 15.
Everything from "Prepare the data" on is the example's code.
"""

import numpy as np
import profond as keras
from profond import layers
from profond.datasets import load_digits

# Offline stand-in for keras.datasets.mnist.load_data(): same shapes and dtype.
_images, _labels = load_digits(images=True)
_images = _images.reshape(-1, 8, 8)
_images = np.pad(np.kron(_images, np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))
_images = (_images * (255 / 16)).astype("uint8")
(x_train, y_train), (x_test, y_test) = ((_images[:600], _labels[:600]),
                                        (_images[600:800], _labels[600:800]))

"""
## Prepare the data
"""

# Model / data parameters
num_classes = 10
input_shape = (28, 28, 1)

# Scale images to the [0, 1] range
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
# Make sure images have shape (28, 28, 1)
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")


# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

"""
## Build the model
"""

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)

model.summary()

"""
## Train the model
"""

batch_size = 128
epochs = 2

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)

"""
## Evaluate the trained model
"""

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
