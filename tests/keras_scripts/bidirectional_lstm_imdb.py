"""keras.io example "Bidirectional LSTM on IMDB" (fchollet), run on profond.

Source: https://keras.io/examples/nlp/bidirectional_lstm_imdb/
(keras-team/keras-io, examples/nlp/bidirectional_lstm_imdb.py)

Changed: ``import keras`` -> ``import profond as keras``; the IMDB reviews (downloaded by
``keras.datasets.imdb.load_data``) are replaced by generated reviews of the same form: lists of
word indices below ``max_features``, of varied lengths, where the label decides which half of
the vocabulary a few "sentiment" words come from; 256 training and 64 validation reviews,
``maxlen`` 40 instead of 200, LSTMs of 16 units instead of 64 and 1 epoch instead of 2.
"""

import numpy as np
import profond as keras
from profond import layers

max_features = 20000  # Only consider the top 20k words
maxlen = 40  # Only consider the first 40 words of each movie review

"""
## Build the model
"""

# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a 128-dimensional vector
x = layers.Embedding(max_features, 128)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(16, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(16))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()


# Offline stand-in for keras.datasets.imdb.load_data(num_words=max_features).
def _reviews(n, rng):
    labels = rng.integers(0, 2, n)
    reviews = []
    for label in labels:
        words = list(rng.integers(1, max_features, rng.integers(10, 60)))
        low, high = (1, 100) if label else (100, 200)  # the words that carry the sentiment
        for position in rng.integers(0, len(words), 5):
            words[position] = int(rng.integers(low, high))
        reviews.append(words)
    return reviews, labels


_rng = np.random.default_rng(0)
(x_train, y_train), (x_val, y_val) = _reviews(256, _rng), _reviews(64, _rng)

print(len(x_train), "Training sequences")
print(len(x_val), "Validation sequences")
# Use pad_sequence to standardize sequence length:
# this will truncate sequences longer than 40 words and zero-pad sequences shorter than 40 words.
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

"""
## Train and evaluate the model
"""

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=1, validation_data=(x_val, y_val))
