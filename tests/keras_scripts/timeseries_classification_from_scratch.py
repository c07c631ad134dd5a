"""keras.io example "Timeseries classification from scratch" (hfawaz), run on profond.

Source: https://keras.io/examples/timeseries/timeseries_classification_from_scratch/
(keras-team/keras-io, examples/timeseries/timeseries_classification_from_scratch.py)

Changed: ``import keras`` -> ``import profond as keras``; the FordA engine-noise series
(downloaded as TSV files) are replaced by generated z-normalised series of the same length
(500) and labels (-1 and 1): class 1 hides a burst of a higher frequency in the noise. 160
training and 40 test series, 3 epochs instead of 500, filters 16 instead of 64, the plots
(matplotlib) left out, and the checkpoint written to a temporary folder instead of the working
directory.
"""

import os
import tempfile

import numpy as np
import profond as keras

# Offline stand-in for readucr(root_url + "FordA_TRAIN.tsv") and readucr(... "FordA_TEST.tsv").
_rng = np.random.default_rng(2)


def readucr(n):
    y = _rng.choice([-1, 1], n)
    t = np.arange(500)
    x = _rng.normal(size=(n, 500)) * 0.5 + np.sin(t / 20 + _rng.uniform(0, 6, (n, 1)))
    for row, label in zip(x, y):
        if label == 1:
            start = _rng.integers(0, 400)
            row[start:start + 100] += np.sin(np.arange(100) * 1.3)
    x = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    return x, y.astype(int)


x_train, y_train = readucr(160)
x_test, y_test = readucr(40)

classes = np.unique(np.concatenate((y_train, y_test), axis=0))

"""
## Standardizing the data
"""

x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

num_classes = len(np.unique(y_train))

idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]

y_train[y_train == -1] = 0
y_test[y_test == -1] = 0

"""
## Build a model
"""


def make_model(input_shape):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)

    conv2 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)

    conv3 = keras.layers.Conv1D(filters=16, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)

    gap = keras.layers.GlobalAveragePooling1D()(conv3)

    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

    return keras.models.Model(inputs=input_layer, outputs=output_layer)


model = make_model(input_shape=x_train.shape[1:])

"""
## Train the model
"""

epochs = 3
batch_size = 32
checkpoint_path = os.path.join(tempfile.mkdtemp(), "best_model.keras")

callbacks = [
    keras.callbacks.ModelCheckpoint(
        checkpoint_path, save_best_only=True, monitor="val_loss"
    ),
    keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001
    ),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
]
model.compile(
    optimizer="adam",
    loss="sparse_categorical_crossentropy",
    metrics=["sparse_categorical_accuracy"],
)
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=callbacks,
    validation_split=0.2,
    verbose=1,
)

"""
## Evaluate model on test data
"""

model = keras.models.load_model(checkpoint_path)

test_loss, test_acc = model.evaluate(x_test, y_test)

print("Test accuracy", test_acc)
print("Test loss", test_loss)

metric = "sparse_categorical_accuracy"
train_curve, val_curve = history.history[metric], history.history["val_" + metric]
