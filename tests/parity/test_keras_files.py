"""Keras 3 as the oracle of its own files: models saved in one library are loaded in the other
and predict the same (rtol/atol 1e-5), for every layer kind profond has; trained optimizers
cross too, and ``fit`` continues identically on both sides of the crossing."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

TOL = {"rtol": 1e-5, "atol": 1e-5}


def _seq(lib, shape, body, dtype=None):
    L = lib.layers
    return lib.Sequential([L.Input(shape, dtype=dtype)] + body(L))


def _model(lib):
    return keras.Model if lib is keras else profond.Model


def _functional(lib):
    L = lib.layers
    a, b = L.Input((4,), name="a"), L.Input((4,), name="b")
    x, y = L.Dense(4, activation="tanh")(a), L.Dense(4)(b)
    joined = L.Concatenate()([L.Add()([x, y]), L.Subtract()([x, y]), L.Multiply()([x, y]),
                              L.Average()([x, y]), L.Maximum()([x, y]), L.Minimum()([x, y]),
                              L.Dot(axes=1)([x, y])])
    return _model(lib)([a, b], L.Dense(2)(joined))


def _nested(lib):
    L = lib.layers
    inner = lib.Sequential([L.Input((3,)), L.Dense(4, activation="relu"), L.Dense(2)],
                           name="inner")
    i = L.Input((3,))
    return _model(lib)(i, L.Dense(1)(inner(i)))


# name -> (builder(lib), input shape, integer input range or None)
MODELS = {
    "dense": (lambda lib: _seq(lib, (5,), lambda L: [
        L.Dense(8, activation="relu"), L.Dropout(0.3), L.Dense(3, activation="softmax")]),
        (5,), None),
    "conv2d": (lambda lib: _seq(lib, (8, 8, 3), lambda L: [
        L.Conv2D(4, 3, padding="same", activation="relu"), L.BatchNormalization(),
        L.MaxPooling2D(), L.Conv2D(3, 2, strides=2), L.AveragePooling2D(1),
        L.ZeroPadding2D(1), L.UpSampling2D(), L.SpatialDropout2D(0.1),
        L.GlobalAveragePooling2D(), L.Dense(2)]), (8, 8, 3), None),
    "conv1d": (lambda lib: _seq(lib, (10, 3), lambda L: [
        L.Conv1D(4, 3, padding="causal", dilation_rate=2), L.MaxPooling1D(),
        L.AveragePooling1D(2), L.SpatialDropout1D(0.1), L.GlobalMaxPooling1D(), L.Dense(2)]),
        (10, 3), None),
    "global_pooling": (lambda lib: _seq(lib, (6, 4), lambda L: [
        L.GlobalAveragePooling1D(), L.Reshape((2, 2)), L.Flatten(), L.Dense(1)]), (6, 4), None),
    "recurrent": (lambda lib: _seq(lib, (6,), lambda L: [
        L.Embedding(10, 4), L.LSTM(3, return_sequences=True),
        L.Bidirectional(L.GRU(2, return_sequences=True)),
        L.SimpleRNN(2, return_sequences=True), L.TimeDistributed(L.Dense(2)),
        L.LayerNormalization(), L.GRU(3, reset_after=False)], dtype="int32"), (6,), 10),
    "masking": (lambda lib: _seq(lib, (5, 3), lambda L: [
        L.Masking(), L.LSTM(2)]), (5, 3), None),
    "activations": (lambda lib: _seq(lib, (3,), lambda L: [
        L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0]), L.Dense(4),
        L.PReLU(), L.LeakyReLU(), L.ELU(), L.ReLU(), L.Softmax(), L.Activation("tanh"),
        L.UnitNormalization(), L.RMSNormalization(), L.GroupNormalization(groups=2)]),
        (3,), None),
    "adapted_normalization": (lambda lib: _seq(lib, (6, 6, 2), lambda L: [
        L.Normalization(), L.Conv2D(3, 2, dilation_rate=2, padding="same"),
        L.GlobalMaxPooling2D(), L.Dense(2)]), (6, 6, 2), None),
    "masked_recurrent": (lambda lib: _seq(lib, (7,), lambda L: [
        L.Embedding(12, 3, mask_zero=True),
        L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode="sum"),
        L.Bidirectional(L.SimpleRNN(2), merge_mode="mul")], dtype="int32"), (7,), 12),
    "functional": (_functional, [(4,), (4,)], None),
    "nested": (_nested, (3,), None),
}


def _inputs(shape, high, n=4, seed=0):
    rng = np.random.default_rng(seed)
    if isinstance(shape, list):
        return [_inputs(s, high, n, seed + i + 1) for i, s in enumerate(shape)]
    if high is not None:
        return rng.integers(0, high, (n, *shape)).astype("int32")
    return rng.normal(size=(n, *shape)).astype("float32")


def _scramble(model, seed=1):
    """Weights away from their initial values (BatchNormalization's statistics too)."""
    rng = np.random.default_rng(seed)
    model.set_weights([(w + rng.normal(0, 0.3, w.shape)).astype(w.dtype)
                       if w.dtype.kind == "f" else w for w in model.get_weights()])
    for w in model.weights:
        if "variance" in w.path:  # a variance stays positive
            w.assign(np.abs(np.asarray(w.numpy())) + 0.5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_keras_file_loads_in_profond(tmp_path, name):
    build, shape, high = MODELS[name]
    k_model = build(keras)
    _scramble(k_model)
    k_model.save(tmp_path / "m.keras")
    p_model = profond.load_model(tmp_path / "m.keras")
    x = _inputs(shape, high)
    np.testing.assert_allclose(p_model.predict(x, verbose=0), k_model.predict(x, verbose=0),
                               **TOL)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_profond_keras_file_loads_in_keras(tmp_path, name):
    build, shape, high = MODELS[name]
    p_model = build(profond)
    _scramble(p_model)
    p_model.save(tmp_path / "m.keras")
    k_model = keras.saving.load_model(tmp_path / "m.keras")
    x = _inputs(shape, high)
    np.testing.assert_allclose(k_model.predict(x, verbose=0), p_model.predict(x, verbose=0),
                               **TOL)
    # and back: profond reads what it wrote
    again = profond.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), p_model.predict(x, verbose=0),
                               **TOL)


@pytest.mark.parametrize("name", ["dense", "conv2d", "recurrent", "functional", "nested"])
def test_weights_files_cross_both_ways(tmp_path, name):
    build, shape, high = MODELS[name]
    x = _inputs(shape, high)
    k_model, p_model = build(keras), build(profond)
    _scramble(k_model, seed=2)
    k_model.save_weights(tmp_path / "k.weights.h5")
    p_model.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(p_model.predict(x, verbose=0), k_model.predict(x, verbose=0),
                               **TOL)
    _scramble(p_model, seed=3)
    p_model.save_weights(tmp_path / "p.weights.h5")
    k_model.load_weights(tmp_path / "p.weights.h5")
    np.testing.assert_allclose(k_model.predict(x, verbose=0), p_model.predict(x, verbose=0),
                               **TOL)


def _subclassed(lib):
    L = lib.layers
    base = keras.Model if lib is keras else profond.Model

    class Tower(base):
        def __init__(self):
            super().__init__()
            self.zeta = L.Dense(4, activation="relu")
            self.alpha = L.Dense(3)
            self.blocks = [L.Dense(3, activation="tanh"), L.Dense(2)]

        def call(self, x):
            x = self.alpha(self.zeta(x))
            for block in self.blocks:
                x = block(x)
            return x

    model = Tower()
    model(np.zeros((1, 5), "float32"))
    return model


def test_subclassed_model_weights_cross_both_ways(tmp_path):
    x = _inputs((5,), None)
    k_model, p_model = _subclassed(keras), _subclassed(profond)
    _scramble(k_model, seed=4)
    k_model.save_weights(tmp_path / "k.weights.h5")
    p_model.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(p_model.predict(x, verbose=0), k_model.predict(x, verbose=0),
                               **TOL)
    _scramble(p_model, seed=5)
    p_model.save_weights(tmp_path / "p.weights.h5")
    k_model.load_weights(tmp_path / "p.weights.h5")
    np.testing.assert_allclose(k_model.predict(x, verbose=0), p_model.predict(x, verbose=0),
                               **TOL)


# --- training continues identically after the crossing -------------------------------------------
OPTIMIZERS = {
    "sgd_momentum": lambda lib: lib.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda lib: lib.optimizers.Adam(0.01),
    "adam_amsgrad": lambda lib: lib.optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda lib: lib.optimizers.AdamW(0.01, weight_decay=0.01),
    "rmsprop_centered": lambda lib: lib.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda lib: lib.optimizers.Adagrad(0.05),
    "adadelta": lambda lib: lib.optimizers.Adadelta(1.0),
    "nadam": lambda lib: lib.optimizers.Nadam(0.01),
}


def _regression(lib, optimizer):
    L = lib.layers
    model = lib.Sequential([L.Input((4,)), L.Dense(6, activation="tanh"),
                            L.BatchNormalization(), L.Dense(1)])
    model.compile(optimizer=OPTIMIZERS[optimizer](lib), loss="mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 4)).astype("float32")
    return x, (x @ np.array([1.0, -2.0, 0.5, 0.3], "float32") + 0.1)[:, None]


def _same_start(k_model, p_model):
    p_model.set_weights(k_model.get_weights())


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_training_continues_the_same_after_keras_to_profond(tmp_path, optimizer):
    x, y = _data()
    k_model = _regression(keras, optimizer)
    k_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    k_model.save(tmp_path / "m.keras")
    p_model = profond.load_model(tmp_path / "m.keras")
    assert type(p_model.optimizer).__name__ == type(k_model.optimizer).__name__
    assert p_model.optimizer.iterations == int(k_model.optimizer.iterations)
    k_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    p_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(p_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_training_continues_the_same_after_profond_to_keras_to_profond(tmp_path, optimizer):
    x, y = _data()
    p_model = _regression(profond, optimizer)
    p_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    p_model.save(tmp_path / "m.keras")
    k_model = keras.saving.load_model(tmp_path / "m.keras")
    assert int(k_model.optimizer.iterations) == p_model.optimizer.iterations
    again = profond.load_model(tmp_path / "m.keras")
    k_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    p_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    again.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b, c in zip(p_model.get_weights(), k_model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(c, a)  # profond -> file -> profond: bit for bit


def test_compile_settings_cross(tmp_path):
    p_model = _regression(profond, "adam")
    p_model.save(tmp_path / "m.keras")
    k_model = keras.saving.load_model(tmp_path / "m.keras")
    assert k_model.loss == "mse"
    assert float(k_model.optimizer.learning_rate) == pytest.approx(0.01)
    back = profond.load_model(tmp_path / "m.keras")
    assert back.get_compile_config()["loss"] == "mse"


def _registered_tower(lib):
    """The same registered subclassed model in both libraries (each registry its own class)."""
    L = lib.layers
    base = keras.Model if lib is keras else profond.Model
    register = keras.saving.register_keras_serializable if lib is keras else \
        profond.saving.register_keras_serializable

    @register(package="files_parity", name="Tower")
    class Tower(base):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = L.Dense(units, activation="relu")
            self.head = L.Dense(2)

        def call(self, x):
            return self.head(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Tower


@pytest.mark.parametrize("writer", ["keras", "profond"])
def test_a_registered_subclassed_model_crosses_as_a_keras_file(tmp_path, writer):
    towers = {"keras": _registered_tower(keras), "profond": _registered_tower(profond)}
    model = towers[writer](units=4)
    x = _inputs((5,), None)
    model(x)
    _scramble(model, seed=6)
    model.save(tmp_path / "t.keras")
    loaded = keras.saving.load_model(tmp_path / "t.keras") if writer == "profond" else \
        profond.load_model(tmp_path / "t.keras")
    assert loaded.units == 4
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               **TOL)


def test_a_learning_rate_schedule_crosses_and_training_continues(tmp_path):
    x, y = _data()

    def build(lib):
        L = lib.layers
        model = lib.Sequential([L.Input((4,)), L.Dense(3, activation="tanh"), L.Dense(1)])
        model.compile(optimizer=lib.optimizers.Adam(lib.optimizers.schedules.ExponentialDecay(
            0.05, decay_steps=3, decay_rate=0.5)), loss="mse")
        return model

    p_model = build(profond)
    p_model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    p_model.save(tmp_path / "p.keras")
    k_model = keras.saving.load_model(tmp_path / "p.keras")
    k_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    p_model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(p_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    k_model.save(tmp_path / "k.keras")
    back = profond.load_model(tmp_path / "k.keras")
    assert back.optimizer.iterations == 12
    k_model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    back.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(back.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_weights_file_carries_a_compiled_models_optimizer_as_in_keras(tmp_path):
    x, y = _data()
    k_model = _regression(keras, "adam")
    k_model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    k_model.save_weights(tmp_path / "k.weights.h5")
    p_model = _regression(profond, "adam")
    p_model.load_weights(tmp_path / "k.weights.h5")
    assert p_model.optimizer.iterations == 4
    k_model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    p_model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(p_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    p_model.save_weights(tmp_path / "p.weights.h5")
    fresh = _regression(keras, "adam")
    fresh.optimizer.build(fresh.trainable_variables)  # Keras loads only into a built optimizer
    fresh.load_weights(tmp_path / "p.weights.h5")
    assert int(fresh.optimizer.iterations) == 8


def _compiled_classifier(lib, loss):
    L = lib.layers
    model = lib.Sequential([L.Input((4,)), L.Dense(3)])
    losses = {"sparse": lib.losses.SparseCategoricalCrossentropy(from_logits=True),
              "binary": lib.losses.BinaryCrossentropy(from_logits=True),
              # Keras 3.15.1 leaves Huber's delta out of its config: only the default crosses
              "huber": lib.losses.Huber()}
    metrics = ["accuracy", lib.metrics.SparseCategoricalAccuracy()] if loss == "sparse" else \
        ["mae", lib.metrics.MeanAbsoluteError()]
    model.compile(optimizer=lib.optimizers.RMSprop(0.01), loss=losses[loss], metrics=metrics)
    return model


@pytest.mark.parametrize("loss", ["sparse", "binary", "huber"])
@pytest.mark.parametrize("writer", ["keras", "profond"])
def test_loss_and_metric_objects_cross_and_fit_goes_on(tmp_path, writer, loss):
    x = _inputs((4,), None, n=12)
    y = np.arange(12) % 3 if loss == "sparse" else np.eye(3, dtype="float32")[np.arange(12) % 3]
    libs = {"keras": keras, "profond": profond}
    model = _compiled_classifier(libs[writer], loss)
    model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    model.save(tmp_path / "c.keras")
    other = profond.load_model(tmp_path / "c.keras") if writer == "keras" else \
        keras.saving.load_model(tmp_path / "c.keras")
    for m in (model, other):
        m.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("schedule", [
    lambda S: S.ExponentialDecay(0.1, 10, 0.5, staircase=True),
    lambda S: S.InverseTimeDecay(0.1, 10, 0.5),
    lambda S: S.PiecewiseConstantDecay([10, 20], [0.1, 0.05, 0.01]),
    lambda S: S.PolynomialDecay(0.1, 100, 0.001, power=2.0),
    lambda S: S.CosineDecay(0.1, 100, alpha=0.1)])
def test_every_schedule_keras_has_crosses_both_ways(tmp_path, schedule):
    for writer in (keras, profond):
        model = writer.Sequential([writer.layers.Input((2,)), writer.layers.Dense(1)])
        model.compile(optimizer=writer.optimizers.SGD(schedule(writer.optimizers.schedules)),
                      loss="mse")
        model.save(tmp_path / "s.keras")
        other = profond.load_model(tmp_path / "s.keras") if writer is keras else \
            keras.saving.load_model(tmp_path / "s.keras")
        for step in (0, 5, 15, 50):
            rates = []
            for opt in (model.optimizer, other.optimizer):  # each evaluates at its step count
                if isinstance(opt, profond.optimizers.Optimizer):
                    opt.iterations = step
                else:
                    opt.iterations.assign(step)
                rates.append(float(opt.learning_rate))
            assert rates[1] == pytest.approx(rates[0], rel=1e-6)
