"""keras.io example "Imbalanced classification: credit card fraud detection" (fchollet).

Source: https://keras.io/examples/structured_data/imbalanced_classification/
(keras-team/keras-io, examples/structured_data/imbalanced_classification.py)

Changed: ``import keras`` -> ``import profond as keras``; the Kaggle credit-card CSV (30
features, 0.17 % frauds) is replaced by scikit-learn's bundled breast-cancer table, which also
has 30 float features and a 0/1 target, made imbalanced by keeping 1 malignant case in 10
(about 6 % positives); targets of shape ``(n, 1)`` uint8 as the CSV loop builds them. Batch
size 64 instead of 2048 (the table is small), 3 epochs instead of 30, the per-epoch
``.keras`` checkpoints written in a temporary folder.
"""

import os
import tempfile

import numpy as np
from profond.datasets import load_breast_cancer

# Offline stand-in for the CSV loop: features (n, 30) float32, targets (n, 1) uint8.
_x, _y = load_breast_cancer()
_y = 1 - _y  # 1 = malignant, the rare class
_keep = (_y == 0) | (np.arange(len(_y)) % 10 == 0)
_order = np.random.default_rng(3).permutation(int(_keep.sum()))
features = _x[_keep][_order].astype("float32")
targets = _y[_keep][_order].reshape(-1, 1).astype("uint8")
print("features.shape:", features.shape)
print("targets.shape:", targets.shape)

"""
## Prepare a validation set
"""

num_val_samples = int(len(features) * 0.2)
train_features = features[:-num_val_samples]
train_targets = targets[:-num_val_samples]
val_features = features[-num_val_samples:]
val_targets = targets[-num_val_samples:]

print("Number of training samples:", len(train_features))
print("Number of validation samples:", len(val_features))

"""
## Analyze class imbalance in the targets
"""

counts = np.bincount(train_targets[:, 0])
print(
    "Number of positive samples in training data: {} ({:.2f}% of total)".format(
        counts[1], 100 * float(counts[1]) / len(train_targets)
    )
)

weight_for_0 = 1.0 / counts[0]
weight_for_1 = 1.0 / counts[1]

"""
## Normalize the data using training set statistics
"""

mean = np.mean(train_features, axis=0)
train_features -= mean
val_features -= mean
std = np.std(train_features, axis=0)
train_features /= std
val_features /= std

"""
## Build a binary classification model
"""

import profond as keras  # noqa: E402 (where the example imports it)

model = keras.Sequential(
    [
        keras.Input(shape=train_features.shape[1:]),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.summary()

"""
## Train the model with `class_weight` argument
"""

metrics = [
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
]

model.compile(
    optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics
)

checkpoint_dir = tempfile.mkdtemp()
callbacks = [keras.callbacks.ModelCheckpoint(
    os.path.join(checkpoint_dir, "fraud_model_at_epoch_{epoch}.keras"))]
class_weight = {0: weight_for_0, 1: weight_for_1}

history = model.fit(
    train_features,
    train_targets,
    batch_size=64,
    epochs=3,
    verbose=2,
    callbacks=callbacks,
    validation_data=(val_features, val_targets),
    class_weight=class_weight,
)
