"""keras.io example "Text classification from scratch" (Mark Omernick, fchollet), on profond.

Source: https://keras.io/examples/nlp/text_classification_from_scratch/
(keras-team/keras-io, examples/nlp/text_classification_from_scratch.py)

Changed: ``import keras`` -> ``import profond as keras``. The example reads the IMDB text
files with ``keras.utils.text_dataset_from_directory`` and turns them into word indices with a
``TextVectorization`` layer inside ``tf.data`` pipelines. Here generated reviews of a small
vocabulary stand for the files, the example's ``TextVectorization(max_tokens=max_features,
output_mode="int", output_sequence_length=sequence_length)`` is adapted on them (with its
default standardization where the example strips ``<br />`` tags through ``tf.strings``), and
the ids go to ``fit`` as arrays with ``batch_size=32`` (the example's batch size) instead of
``tf.data`` datasets. ``sequence_length`` 100 instead of 500; 192 training, 64 validation and
64 test reviews, 2 epochs instead of 3. The model and its training are the example's code; the
end-to-end string model at its end is left out (``fit`` takes numbers, not strings).
"""

import numpy as np
import profond as keras
from profond import layers

# Offline stand-in for the IMDB text files.
_rng = np.random.default_rng(1)
_neutral = [f"word{i}" for i in range(300)]
_positive, _negative = ["great", "superb", "loved", "moving"], ["awful", "boring", "hated", "dull"]


def _texts(n):
    labels = _rng.integers(0, 2, n)
    texts = []
    for label in labels:
        words = list(_rng.choice(_neutral, _rng.integers(40, 120)))
        for position in _rng.integers(0, len(words), 4):
            words[position] = _rng.choice(_positive if label else _negative)
        texts.append(" ".join(words))
    return texts, labels


# Model constants.
max_features = 20000
embedding_dim = 128
sequence_length = 100
batch_size = 32

(_train, y_train), (_val, y_val), (_test, y_test) = _texts(192), _texts(64), _texts(64)

vectorize_layer = keras.layers.TextVectorization(
    max_tokens=max_features,
    output_mode="int",
    output_sequence_length=sequence_length,
)
vectorize_layer.adapt(np.array(_train))
x_train, x_val, x_test = (vectorize_layer(np.array(t)).numpy() for t in (_train, _val, _test))

"""
## Build a model

We choose a simple 1D convnet starting with an `Embedding` layer.
"""

# A integer input for vocab indices.
inputs = keras.Input(shape=(None,), dtype="int64")

# Next, we add a layer to map those vocab indices into a space of dimensionality
# 'embedding_dim'.
x = layers.Embedding(max_features, embedding_dim)(inputs)
x = layers.Dropout(0.5)(x)

# Conv1D + global max pooling
x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
x = layers.GlobalMaxPooling1D()(x)

# We add a vanilla hidden layer:
x = layers.Dense(128, activation="relu")(x)
x = layers.Dropout(0.5)(x)

# We project onto a single unit output layer, and squash it with a sigmoid:
predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)

model = keras.Model(inputs, predictions)

# Compile the model with binary crossentropy loss and an adam optimizer.
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

"""
## Train the model
"""

epochs = 2

# Fit the model using the train and test datasets.
history = model.fit(x_train, y_train, batch_size=batch_size, validation_data=(x_val, y_val),
                    epochs=epochs)

"""
## Evaluate the model on the test set
"""

results = model.evaluate(x_test, y_test, batch_size=batch_size)
