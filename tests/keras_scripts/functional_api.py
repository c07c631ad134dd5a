"""keras.io guide "The Functional API" (fchollet): its multi-input, multi-output model and its
toy ResNet, run on profond.

Source: https://keras.io/guides/functional_api/
(keras-team/keras-io, guides/functional_api.py), sections "Models with multiple inputs and
outputs" and "A toy ResNet model".

Changed: ``import keras`` -> ``import profond as keras`` (and ``from keras import layers``).
The ticket model trains on the guide's own dummy data (random integers), 160 samples
instead of 1,280, 1 epoch instead of 2, bodies of 30 words instead of 100. The toy ResNet
trains on random 32 x 32 x 3 images in place of CIFAR-10 (downloaded), 64 of them, 1 epoch,
``batch_size`` 32 instead of 64, ``validation_split`` 0.25 instead of 0.2; the guide's
``keras.utils.plot_model`` calls (graphviz) are left out.
"""

import numpy as np
import profond as keras
from profond import layers

"""
## Models with multiple inputs and outputs
"""

num_tags = 12  # Number of unique issue tags
num_words = 10000  # Size of vocabulary obtained when preprocessing text data
num_departments = 4  # Number of departments for predictions

title_input = keras.Input(
    shape=(None,), name="title"
)  # Variable-length sequence of ints
body_input = keras.Input(shape=(None,), name="body")  # Variable-length sequence of ints
tags_input = keras.Input(
    shape=(num_tags,), name="tags"
)  # Binary vectors of size `num_tags`

# Embed each word in the title into a 64-dimensional vector
title_features = layers.Embedding(num_words, 64)(title_input)
# Embed each word in the text into a 64-dimensional vector
body_features = layers.Embedding(num_words, 64)(body_input)

# Reduce sequence of embedded words in the title into a single 128-dimensional vector
title_features = layers.LSTM(128)(title_features)
# Reduce sequence of embedded words in the body into a single 32-dimensional vector
body_features = layers.LSTM(32)(body_features)

# Merge all available features into a single large vector via concatenation
x = layers.concatenate([title_features, body_features, tags_input])

# Stick a logistic regression for priority prediction on top of the features
priority_pred = layers.Dense(1, name="priority")(x)
# Stick a department classifier on top of the features
department_pred = layers.Dense(num_departments, name="department")(x)

# Instantiate an end-to-end model predicting both priority and department
model = keras.Model(
    inputs=[title_input, body_input, tags_input],
    outputs={"priority": priority_pred, "department": department_pred},
)

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={
        "priority": keras.losses.BinaryCrossentropy(from_logits=True),
        "department": keras.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights={"priority": 1.0, "department": 0.2},
)

# Dummy input data
title_data = np.random.randint(num_words, size=(160, 10))
body_data = np.random.randint(num_words, size=(160, 30))
tags_data = np.random.randint(2, size=(160, num_tags)).astype("float32")

# Dummy target data
priority_targets = np.random.random(size=(160, 1))
dept_targets = np.random.randint(2, size=(160, num_departments))

ticket_history = model.fit(
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": dept_targets},
    epochs=1,
    batch_size=32,
)
ticket_model = model

"""
## A toy ResNet model
"""

inputs = keras.Input(shape=(32, 32, 3), name="img")
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.Conv2D(64, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(3)(x)

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_3_output = layers.add([x, block_2_output])

x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(256, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs, outputs, name="toy_resnet")
model.summary()

# Offline stand-in for keras.datasets.cifar10.load_data(): same shapes and dtypes.
_rng = np.random.default_rng(5)
(x_train, y_train) = (_rng.integers(0, 256, (64, 32, 32, 3), dtype="uint8"),
                      _rng.integers(0, 10, (64, 1), dtype="uint8"))

x_train = x_train.astype("float32") / 255.0
y_train = keras.utils.to_categorical(y_train, 10)

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
resnet_history = model.fit(
    x_train,
    y_train,
    batch_size=32,
    epochs=1,
    validation_split=0.25,
)
resnet_model = model
