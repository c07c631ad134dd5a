"""The Keras blog's "Building Autoencoders in Keras" (fchollet): its simple fully-connected
autoencoder (with its separate encoder and decoder models) and its deep convolutional
autoencoder, run on profond.

Source: https://blog.keras.io/building-autoencoders-in-keras.html (keras.io's blog; the
keras.io examples' autoencoders, examples/vision/autoencoder.py and
examples/timeseries/timeseries_anomaly_detection.py, need ``Conv2DTranspose`` and
``Conv1DTranspose``, which profond lacks).

Changed: ``import keras`` -> ``import profond as keras`` (and ``from keras import layers``);
MNIST is replaced by scikit-learn's bundled 8 x 8 digits, each pixel repeated 3 x 3 and padded
to 28 x 28, 300 training and 100 test images; 3 epochs instead of 50 (dense) and 1 instead of
50 (convolutional); ``batch_size`` 128 instead of 256 for the dense one.
"""

import numpy as np
import profond as keras
from profond import layers
from profond.datasets import load_digits

# Offline stand-in for keras.datasets.mnist.load_data(): same shapes and dtype.
_images, _ = load_digits(images=True)
_images = np.pad(np.kron(_images.reshape(-1, 8, 8), np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))
_images = (_images * (255 / 16)).astype("uint8")
x_train, x_test = _images[:300], _images[300:400]

"""
## Let's build the simplest possible autoencoder
"""

# This is the size of our encoded representations
encoding_dim = 32  # 32 floats -> compression of factor 24.5, assuming the input is 784 floats

# This is our input image
input_img = keras.Input(shape=(784,))
# "encoded" is the encoded representation of the input
encoded = layers.Dense(encoding_dim, activation="relu")(input_img)
# "decoded" is the lossy reconstruction of the input
decoded = layers.Dense(784, activation="sigmoid")(encoded)

# This model maps an input to its reconstruction
autoencoder = keras.Model(input_img, decoded)

# This model maps an input to its encoded representation
encoder = keras.Model(input_img, encoded)

# This is our encoded (32-dimensional) input
encoded_input = keras.Input(shape=(encoding_dim,))
# Retrieve the last layer of the autoencoder model
decoder_layer = autoencoder.layers[-1]
# Create the decoder model
decoder = keras.Model(encoded_input, decoder_layer(encoded_input))

autoencoder.compile(optimizer="adam", loss="binary_crossentropy")

x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
x_train = x_train.reshape((len(x_train), np.prod(x_train.shape[1:])))
x_test = x_test.reshape((len(x_test), np.prod(x_test.shape[1:])))
print(x_train.shape)
print(x_test.shape)

dense_history = autoencoder.fit(
    x_train,
    x_train,
    epochs=3,
    batch_size=128,
    shuffle=True,
    validation_data=(x_test, x_test),
)

# Encode and decode some digits
# Note that we take them from the *test* set
encoded_imgs = encoder.predict(x_test)
decoded_imgs = decoder.predict(encoded_imgs)
dense_autoencoder = autoencoder

"""
## Convolutional autoencoder
"""

input_img = keras.Input(shape=(28, 28, 1))

x = layers.Conv2D(16, (3, 3), activation="relu", padding="same")(input_img)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
encoded = layers.MaxPooling2D((2, 2), padding="same")(x)

# at this point the representation is (4, 4, 8) i.e. 128-dimensional

x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(encoded)
x = layers.UpSampling2D((2, 2))(x)
x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
x = layers.UpSampling2D((2, 2))(x)
x = layers.Conv2D(16, (3, 3), activation="relu")(x)
x = layers.UpSampling2D((2, 2))(x)
decoded = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

autoencoder = keras.Model(input_img, decoded)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")

x_train = np.reshape(x_train, (len(x_train), 28, 28, 1))
x_test = np.reshape(x_test, (len(x_test), 28, 28, 1))

conv_history = autoencoder.fit(
    x_train,
    x_train,
    epochs=1,
    batch_size=128,
    shuffle=True,
    validation_data=(x_test, x_test),
)
decoded_imgs = autoencoder.predict(x_test)
conv_autoencoder = autoencoder
