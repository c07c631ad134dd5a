"""keras.io example "Timeseries forecasting for weather prediction" (Prabhanshu Attri, Yashika
Sharma, Kristi Takach, Falak Shah): a regression of the temperature 12 hours ahead with an
LSTM, run on profond.

Source: https://keras.io/examples/timeseries/timeseries_weather_forecasting/
(keras-team/keras-io, examples/timeseries/timeseries_weather_forecasting.py)

Changed: ``import keras`` -> ``import profond as keras``. The Jena climate CSV (downloaded,
read with pandas) is replaced by a generated hourly-looking record of 7 features, 6 rows an
hour, where the temperature follows a daily cycle and the other features follow it with noise;
1,500 rows instead of 420,551; the pandas column selections are written on the NumPy array
they hold (``features[:, [1]]`` for ``features.iloc[:, [1]]``); ``past`` 120 and ``future``
12 instead of 720 and 72, ``batch_size`` 64 instead of 256, 2 epochs instead of 10; the
checkpoint is written in a temporary folder (as ``.weights.h5``, the suffix Keras 3 requires for
weights, where the example, written for Keras 2, says ``.h5``); the first batch is read by index (``dataset_train[0]``) where the example
calls ``tf.data``'s ``.take(1)``, and arrays need no ``.numpy()``; plots left out.
"""

import os
import tempfile

import numpy as np
import profond as keras

# Offline stand-in for the Jena climate record (only the 7 selected features).
_rng = np.random.default_rng(6)
_t = np.arange(1500)
_temperature = 10 + 8 * np.sin(2 * np.pi * _t / 144) + _rng.normal(0, 0.5, _t.size)
_others = [a * _temperature + _rng.normal(0, 1, _t.size) for a in (0.8, 0.3, -0.4, 1.2, 0.1)]
_raw = np.stack([1000 - 0.5 * _temperature + _rng.normal(0, 1, _t.size), _temperature]
                + _others, axis=1)

split_fraction = 0.715
train_split = int(split_fraction * int(_raw.shape[0]))
step = 6

past = 120
future = 12
learning_rate = 0.001
batch_size = 64
epochs = 2


def normalize(data, train_split):
    data_mean = data[:train_split].mean(axis=0)
    data_std = data[:train_split].std(axis=0)
    return (data - data_mean) / data_std


features = normalize(_raw, train_split)

train_data = features[0:train_split]
val_data = features[train_split:]

"""
# Training dataset
"""

start = past + future
end = start + train_split

x_train = train_data[:, [i for i in range(7)]]
y_train = features[start:end][:, [1]]

sequence_length = int(past / step)

dataset_train = keras.preprocessing.timeseries_dataset_from_array(
    x_train,
    y_train,
    sequence_length=sequence_length,
    sampling_rate=step,
    batch_size=batch_size,
)

"""
## Validation dataset
"""

x_end = len(val_data) - past - future

label_start = train_split + past + future

x_val = val_data[:x_end][:, [i for i in range(7)]]
y_val = features[label_start:][:, [1]]

dataset_val = keras.preprocessing.timeseries_dataset_from_array(
    x_val,
    y_val,
    sequence_length=sequence_length,
    sampling_rate=step,
    batch_size=batch_size,
)

inputs, targets = dataset_train[0]

print("Input shape:", inputs.shape)
print("Target shape:", targets.shape)

"""
## Training
"""

inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
lstm_out = keras.layers.LSTM(32)(inputs)
outputs = keras.layers.Dense(1)(lstm_out)

model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
model.summary()

path_checkpoint = os.path.join(tempfile.mkdtemp(), "model_checkpoint.weights.h5")
es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)

modelckpt_callback = keras.callbacks.ModelCheckpoint(
    monitor="val_loss",
    filepath=path_checkpoint,
    verbose=1,
    save_weights_only=True,
    save_best_only=True,
)

history = model.fit(
    dataset_train,
    epochs=epochs,
    validation_data=dataset_val,
    callbacks=[es_callback, modelckpt_callback],
)

"""
## Prediction
"""

x, y = dataset_val[0]
prediction = model.predict(x)[0]
print("True future:", y[0], "prediction:", prediction)
