"""RNN with cells against Keras 3 (PyTorch backend): the built-in cells, stacked cells and a
user's cell give Keras's outputs and states with Keras's weights, masks and go_backwards
included; weights' order and configs cross both ways; a few SGD steps agree."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

TOL = dict(rtol=1e-5, atol=1e-5)
RNG = np.random.default_rng(0)


def _cells(lib, kind):
    return {"simple": lambda: lib.layers.SimpleRNNCell(4),
            "lstm": lambda: lib.layers.LSTMCell(4),
            "gru": lambda: lib.layers.GRUCell(4),
            "gru-before": lambda: lib.layers.GRUCell(4, reset_after=False),
            "stack": lambda: [lib.layers.LSTMCell(5), lib.layers.SimpleRNNCell(3)]}[kind]()


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _flat(item)]
    return [x]


def _numpy(x):
    return x.numpy() if isinstance(x, profond.Tensor) else keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru", "gru-before", "stack"])
@pytest.mark.parametrize("options", [dict(), dict(return_sequences=True, go_backwards=True),
                                     dict(return_state=True)])
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_matches_keras(kind, options, masked):
    x = RNG.normal(size=(3, 5, 2)).astype("float32")
    k_rnn = keras.layers.RNN(_cells(keras, kind), **options)
    p_rnn = profond.layers.RNN(_cells(profond, kind), **options)
    k_rnn.build((3, 5, 2))
    p_rnn.build((None, 5, 2))
    weights = [w + RNG.normal(size=w.shape).astype("float32") * 0.1
               for w in k_rnn.get_weights()]  # nonzero biases
    k_rnn.set_weights(weights)
    assert [w.shape for w in p_rnn.get_weights()] == [w.shape for w in weights]
    p_rnn.set_weights(weights)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool) if masked \
        else None
    expected = k_rnn(x, mask=mask)
    got = p_rnn(x, mask=mask)
    expected, got = _flat(expected), _flat(got)
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(_numpy(g), _numpy(e), **TOL)


def test_configs_cross_both_ways():
    for kind in ("lstm", "gru-before", "stack"):
        k_rnn = keras.layers.RNN(_cells(keras, kind), return_sequences=True)
        p_rnn = profond.layers.RNN(_cells(profond, kind), return_sequences=True)
        from_keras = profond.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(k_rnn))
        assert type(from_keras.cell).__name__ == type(p_rnn.cell).__name__
        back = keras.saving.deserialize_keras_object(
            profond.saving.serialize_keras_object(p_rnn))
        assert type(back.cell).__name__ == type(k_rnn.cell).__name__


class _Minimal:
    """The same user cell written for both libraries (Keras's documentation example)."""

    @staticmethod
    def make(lib):
        class MinimalRNNCell(lib.layers.Layer):
            def __init__(self, units, **kwargs):
                super().__init__(**kwargs)
                self.units = units
                self.state_size = units

            def build(self, input_shape):
                self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                              initializer="uniform", name="kernel")
                self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                        initializer="uniform",
                                                        name="recurrent_kernel")

            def call(self, inputs, states):
                prev_output = states[0]
                h = lib.ops.matmul(inputs, self.kernel)
                output = h + lib.ops.matmul(prev_output, self.recurrent_kernel)
                return output, [output]

        return MinimalRNNCell


def test_a_user_cell_trains_as_in_keras():
    x = RNG.normal(size=(8, 4, 3)).astype("float32")
    y = RNG.normal(size=(8, 2)).astype("float32")
    models = []
    for lib in (keras, profond):
        models.append(lib.Sequential([lib.layers.Input((4, 3)),
                                      lib.layers.RNN(_Minimal.make(lib)(5)),
                                      lib.layers.Dense(2)]))
    k_model, p_model = models
    k_model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    p_model.compile(optimizer=profond.optimizers.SGD(0.05), loss="mse")
    p_model.set_weights(k_model.get_weights())
    for _ in range(3):
        loss_k = float(k_model.train_on_batch(x, y))
        loss_p = float(p_model.train_on_batch(x, y))
        assert loss_p == pytest.approx(loss_k, rel=1e-5)
    for a, b in zip(k_model.get_weights(), p_model.get_weights()):
        np.testing.assert_allclose(b, a, **TOL)


@pytest.mark.parametrize("name, kwargs, shape", [
    ("ConvLSTM2D", dict(filters=3, kernel_size=3), (2, 4, 6, 6, 2)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=(3, 2), padding="same", return_sequences=True),
     (2, 3, 5, 4, 2)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=3, strides=2, return_state=True),
     (2, 3, 7, 7, 1)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=2, dilation_rate=2, go_backwards=True),
     (1, 3, 6, 6, 2)),
    ("ConvLSTM1D", dict(filters=4, kernel_size=3, padding="same", return_sequences=True),
     (2, 5, 7, 3)),
])
def test_conv_lstm_matches_keras(name, kwargs, shape):
    x = RNG.normal(size=shape).astype("float32")
    k_layer = getattr(keras.layers, name)(**kwargs)
    p_layer = getattr(profond.layers, name)(**kwargs)
    expected = _flat(k_layer(x))
    weights = [w + RNG.normal(size=w.shape).astype("float32") * 0.1
               for w in k_layer.get_weights()]
    k_layer.set_weights(weights)
    expected = _flat(k_layer(x))
    p_layer.build((None,) + shape[1:])
    assert [w.shape for w in p_layer.get_weights()] == [w.shape for w in weights]
    p_layer.set_weights(weights)
    got = _flat(p_layer(x))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(_numpy(g), _numpy(e), **TOL)
    shapes = p_layer.compute_output_shape((None,) + shape[1:])
    shapes = shapes if isinstance(shapes, list) else [shapes]
    assert [s[1:] for s in shapes] == [tuple(_numpy(e).shape[1:]) for e in expected]
    back = getattr(keras.layers, name).from_config(
        {k: v for k, v in p_layer.get_config().items() if k != "dtype"})
    assert back.filters == kwargs["filters"]
